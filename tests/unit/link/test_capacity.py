"""Capacity references: Shannon, normal approximation, BICM mutual information."""

import numpy as np
import pytest

from tokcom.link import capacity as cap


def test_shannon_and_inverse():
    assert cap.shannon_capacity(0.0) == pytest.approx(1.0)
    assert cap.shannon_snr_db(1.0) == pytest.approx(0.0, abs=1e-9)
    s = np.linspace(-5, 20, 11)
    assert np.allclose(cap.shannon_snr_db(cap.shannon_capacity(s)), s)


def test_normal_approximation_below_capacity_and_monotone():
    s = np.linspace(-4, 20, 25)
    na = cap.normal_approx_rate(s, 1000, 1e-3)
    assert np.all(na < cap.shannon_capacity(s))
    assert np.all(np.diff(na) > 0)
    # longer blocks get closer to capacity
    assert np.all(cap.normal_approx_rate(s, 10000, 1e-3) > na)
    b = cap.normal_approx_bler(np.linspace(-2, 4, 13), 1000, 1000)
    assert np.all(np.diff(b) <= 0) and b[0] > 0.5 and b[-1] < 1e-6
    # the NA SNR for rate 1/2 at n=2000, eps=1e-3 is ~0.3-0.6 dB above the Shannon limit (0 dB for SE=1)
    s_req = cap.normal_approx_snr_db(1.0, 1000, 1e-3)
    assert 0.2 < s_req < 1.0


@pytest.mark.parametrize("qm", [2, 4, 6, 8])
def test_qam_points_unit_energy_and_sionna(qm):
    pts = cap.qam_points(qm)
    assert pts.size == 2**qm and np.mean(np.abs(pts) ** 2) == pytest.approx(1.0)
    sionna = pytest.importorskip("sionna.phy.mapping")
    ref = sionna.Constellation("qam", qm).points.numpy()
    assert np.allclose(pts, ref, atol=1e-6)


def test_bicm_mi_bounds():
    s = np.array([-5.0, 0.0, 5.0, 10.0, 20.0, 30.0])
    for qm in (2, 4, 6):
        mi = cap.bicm_mutual_information(qm, s, num_samples=4000)
        assert np.all(mi <= np.minimum(cap.shannon_capacity(s), qm) * 1.03 + 1e-9)
        assert np.all(np.diff(mi) > -0.02)
        assert mi[-1] == pytest.approx(qm, abs=0.02)
