"""tokcom.interp.flow: DIS + Super SloMo interpolation on real frames of bikes.mp4, and its pieces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokcom.interp import get_interpolator
from tokcom.interp.flow import consistency, flow_interpolate, intermediate_flows


def _psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def bikes128(sample_path) -> np.ndarray:
    """Frames 0..8 of the bundled bikes clip (moving camera and riders), 128×128, [9, 128, 128, 3] uint8."""
    from tokcom.video import read_video

    return np.array(read_video(sample_path, frames=9, size="128x128").frames)


@pytest.mark.parametrize(("t0", "gap"), [(0, 2), (4, 4)])
def test_flow_beats_blend_on_real_motion(bikes128, t0, gap):
    a, b, truth = bikes128[t0], bikes128[t0 + gap], bikes128[t0 + gap // 2]
    (flow_mid,) = get_interpolator("flow").interpolate(a, b, [0.5])
    (blend_mid,) = get_interpolator("blend").interpolate(a, b, [0.5])
    p_flow, p_blend = _psnr(flow_mid, truth), _psnr(blend_mid, truth)
    assert p_flow > p_blend + 4.0, (p_flow, p_blend)


def test_uneven_time_follows_the_motion(bikes128):
    """α = 1/4 of a 4-frame gap is the frame one step after a, better matched than by the blend."""
    a, b = bikes128[0], bikes128[4]
    (f1,) = get_interpolator("flow").interpolate(a, b, [0.25])
    (b1,) = get_interpolator("blend").interpolate(a, b, [0.25])
    assert _psnr(f1, bikes128[1]) > _psnr(b1, bikes128[1]) + 3.0


def test_raw_endpoints_reproduce_frames(bikes128):
    """Without the API's endpoint shortcut the formulas give a at t=0 and b at t=1 exactly."""
    a, b = bikes128[0], bikes128[2]
    at0, at1 = flow_interpolate(a, b, [0.0, 1.0])
    np.testing.assert_array_equal(at0, a)
    np.testing.assert_array_equal(at1, b)


def test_intermediate_flows_linear_motion():
    """Constant motion v: F_01 = v, F_10 = -v ⇒ F_t0 = -t·v and F_t1 = (1-t)·v (Super SloMo eq. 4)."""
    v = np.zeros((4, 5, 2), np.float32)
    v[..., 0], v[..., 1] = 3.0, -2.0
    for t in (0.0, 0.3, 0.5, 1.0):
        ft0, ft1 = intermediate_flows(v, -v, t)
        np.testing.assert_allclose(ft0, -t * v, atol=1e-6)
        np.testing.assert_allclose(ft1, (1 - t) * v, atol=1e-6)


def test_consistency_marks_occlusion():
    h, w = 20, 30
    fab = np.zeros((h, w, 2), np.float32)
    fba = np.zeros((h, w, 2), np.float32)
    fab[:, 10:20, 0] = 4.0   # a's block x∈[10,20) moves right by 4 …
    fba[:, 14:24, 0] = -4.0  # … and b's block x∈[14,24) comes from there
    ca, cb = consistency(fab, fba), consistency(fba, fab)
    assert ca[:, 10:20].min() == 1 and ca[:, :8].min() == 1
    assert cb[:, 14:24].min() == 1
    assert ca[:, 20:24].max() == 0  # background of a covered by the block in b
    assert cb[:, 10:14].max() == 0  # background of b uncovered, not in a


def test_occlusion_weighting_switch(bikes128):
    a, b = bikes128[0], bikes128[4]
    with_occ = get_interpolator("flow").interpolate(a, b, [0.5])[0]
    without = get_interpolator("flow", occlusion=False).interpolate(a, b, [0.5])[0]
    assert not np.array_equal(with_occ, without)
    assert abs(_psnr(with_occ, bikes128[2]) - _psnr(without, bikes128[2])) < 1.5
