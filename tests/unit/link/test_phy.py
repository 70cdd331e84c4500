"""Bit-true PHY: TB mapping, Sionna chain, channels, equalisers, determinism."""

import numpy as np
import pytest

pytest.importorskip("sionna")

from tokcom.errors import InputError
from tokcom.link.phy import MAX_LDPC_RATE, MIN_LDPC_RATE, BitTruePhy, ChannelSpec, simulate_bler, tb_layout


@pytest.mark.parametrize("num_bits", [0, 1, 24, 100, 1000, 1024, 3824, 4000, 20000])
@pytest.mark.parametrize("qm,rate", [(2, 120 / 1024), (2, 0.5), (4, 0.75), (6, 948 / 1024), (8, 0.9)])
def test_tb_layout_valid(num_bits, qm, rate):
    lay = tb_layout(num_bits, qm, rate)
    assert lay.tb_size >= max(num_bits, 24)
    assert lay.tb_size % 8 == 0
    assert lay.num_coded_bits % qm == 0
    assert lay.ldpc_coded_bits <= lay.num_coded_bits
    # the MCS rate is honoured (TBS/G ≈ R) unless the CRC forces a lower rate for tiny TBs
    assert lay.effective_coderate <= rate + 1e-9
    assert lay.cb_size * lay.num_cb / lay.ldpc_coded_bits <= MAX_LDPC_RATE + 1e-6
    if lay.tb_size >= 1000:  # near 948/1024 the CRC pushes the LDPC rate to its cap: a few % lower
        assert lay.effective_coderate == pytest.approx(rate, rel=0.02 if rate < 0.9 else 0.035)
    if rate < MIN_LDPC_RATE:
        assert lay.repetition and lay.cb_size * lay.num_cb / lay.ldpc_coded_bits >= MIN_LDPC_RATE - 1e-6
    if num_bits > 8424:
        assert lay.num_cb > 1
    # padding is bounded (a valid TB size is never far above the payload)
    assert lay.tb_size - max(num_bits, 24) <= max(16, 0.04 * num_bits)


def test_layout_bad_inputs():
    with pytest.raises(InputError):
        tb_layout(100, 3, 0.5)
    with pytest.raises(InputError):
        tb_layout(100, 2, 0.96)


def test_high_snr_error_free_low_snr_all_lost():
    phy = BitTruePhy()
    lay = tb_layout(200, 4, 0.5)
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (32, lay.tb_size), dtype=np.uint8)
    out, ok = phy.transmit(bits, lay, 20.0, ChannelSpec(), seed=1)
    assert ok.all() and np.array_equal(out, bits)
    out, ok = phy.transmit(bits, lay, -5.0, ChannelSpec(), seed=1)
    assert not ok.any()


def test_repetition_mode_decodes():
    # R = 120/1024 < 1/5: encoded at 1/5 and repeated; decodes at an SNR where rate 1/5 alone would not
    pts = simulate_bler(2, 120 / 1024, 256, [-3.0], num_blocks=60, seed=3)
    assert pts[0]["bler"] <= 0.05


def test_deterministic_given_seed():
    a = simulate_bler(2, 0.5, 128, [1.5], num_blocks=40, seed=7)
    b = simulate_bler(2, 0.5, 128, [1.5], num_blocks=40, seed=7)
    c = simulate_bler(2, 0.5, 128, [1.5], num_blocks=40, seed=8)
    assert a == b
    assert 0 < a[0]["errors"] < 40
    assert a[0]["errors"] != c[0]["errors"] or a != c


def test_waterfall_monotone_and_above_normal_approximation():
    from tokcom.link.capacity import normal_approx_bler

    pts = simulate_bler(2, 0.5, 256, [0.0, 1.5, 3.0], num_blocks=60, seed=0)
    b = [p["bler"] for p in pts]
    assert b[0] > 0.5 and b[0] >= b[1] >= b[2] and b[2] < 0.05
    lay = tb_layout(256, 2, 0.5)
    for p in pts:  # the bound: no code beats the normal approximation (up to Monte Carlo noise)
        na = float(normal_approx_bler(p["snr_db"], lay.tb_size, lay.num_symbols))
        assert (p["errors"] + 3) / p["blocks"] >= na


def test_rayleigh_csi_and_equalizers():
    """Acceptance 5: NMSE -20 dB close to perfect CSI, -10 dB visibly worse; ZF and LMMSE both run."""
    k, snr, nb = 256, 4.5, 100  # QPSK 1/2 over fast fading (L_co = 1, PVSC Table III)
    res = {}
    for eq in ("zf", "lmmse"):
        for nmse in (None, -20.0, -10.0):
            spec = ChannelSpec("rayleigh", 1, nmse, eq)
            res[(eq, nmse)] = simulate_bler(2, 0.5, k, [snr], num_blocks=nb, seed=11, channel=spec)[0]["bler"]
    for eq in ("zf", "lmmse"):
        perfect, good, bad = res[(eq, None)], res[(eq, -20.0)], res[(eq, -10.0)]
        assert 0 < perfect < 0.5, res
        assert abs(good - perfect) <= 0.1, res
        assert bad >= perfect + 0.3, res
    assert res[("zf", None)] == res[("lmmse", None)]  # identical under perfect CSI (one antenna)
    assert res[("lmmse", -10.0)] <= res[("zf", -10.0)] + 0.05  # LMMSE accounts for the CSI error


def test_rayleigh_block_fading_coherence():
    # one fading block per PDU (L_co >> PDU) gives an outage floor ~P(|h|^2 small) even at high SNR
    spec = ChannelSpec("rayleigh", 100000, None, "lmmse")
    b = simulate_bler(2, 0.5, 256, [15.0], num_blocks=150, seed=5, channel=spec)[0]["bler"]
    fast = simulate_bler(2, 0.5, 256, [15.0], num_blocks=50, seed=5, channel=ChannelSpec("rayleigh", 1))[0]["bler"]
    assert 0.01 < b < 0.3 and fast == 0.0
