"""tokcom.interp public API: names, errors, endpoints, odd sizes, determinism (blend and flow; RIFE is in
test_interp_rife.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tokcom.errors import InputError, WeightsUnavailable
from tokcom.interp import (
    Interpolator,
    get_interpolator,
    interpolator_unavailable,
    list_interpolators,
)


@pytest.fixture(scope="module")
def pair(sample_path) -> tuple[np.ndarray, np.ndarray]:
    """Frames 0 and 2 of the bundled bikes clip at 67×45 (odd, not a multiple of anything)."""
    from tokcom.video import read_video

    f = read_video(sample_path, frames=3, size="67x45").frames
    return np.array(f[0]), np.array(f[2])


def test_names():
    assert list_interpolators() == ["auto", "blend", "flow", "rife"]
    for name in ("blend", "flow"):
        interp = get_interpolator(name)
        assert isinstance(interp, Interpolator)
        assert interp.name == name
        assert interpolator_unavailable(name) is None


def test_unknown_name_lists_valid_ones():
    with pytest.raises(InputError) as e:
        get_interpolator("superslomo")
    msg = str(e.value)
    assert "\n" not in msg
    for name in ("auto", "blend", "flow", "rife"):
        assert name in msg
    with pytest.raises(InputError):
        interpolator_unavailable("superslomo")


def test_rife_without_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path))
    with pytest.raises(WeightsUnavailable) as e:
        get_interpolator("rife")
    msg = str(e.value)
    assert "\n" not in msg and "tokcom models fetch rife-v3.9" in msg
    assert "tokcom models fetch rife-v3.9" in interpolator_unavailable("rife")
    auto = get_interpolator("auto")
    assert auto.name == "flow"  # the fallback, and it says so


def test_bad_options_and_inputs(pair):
    a, b = pair
    with pytest.raises(InputError):
        get_interpolator("flow", preset="slowest")
    with pytest.raises(InputError):
        get_interpolator("flow", colour=True)
    with pytest.raises(InputError):
        get_interpolator("blend", preset="fast")
    interp = get_interpolator("blend")
    with pytest.raises(InputError):
        interp.interpolate(a, b, [1.5])
    with pytest.raises(InputError):
        interp.interpolate(a, b, [float("nan")])
    with pytest.raises(InputError):
        interp.interpolate(a, b[:-1], [0.5])
    with pytest.raises(InputError):
        interp.interpolate(a.astype(np.float32), b, [0.5])
    with pytest.raises(InputError):
        interp.interpolate(a[..., 0], b[..., 0], [0.5])


@pytest.mark.parametrize("name", ["blend", "flow"])
def test_endpoints_shapes_and_determinism(name, pair):
    a, b = pair
    interp = get_interpolator(name)
    alphas = [0.0, 0.25, 0.5, 1.0, 0.75]
    out = interp.interpolate(a, b, alphas)
    assert len(out) == len(alphas)
    for f in out:
        assert f.shape == (45, 67, 3) and f.dtype == np.uint8
    np.testing.assert_array_equal(out[0], a)
    np.testing.assert_array_equal(out[3], b)
    again = interp.interpolate(a, b, alphas)
    for x, y in zip(out, again):
        np.testing.assert_array_equal(x, y)
    assert interp.interpolate(a, b, []) == []
    # time runs from a to b: early frames are nearer a, late ones nearer b
    d = [(np.abs(f.astype(int) - a).mean(), np.abs(f.astype(int) - b).mean()) for f in out]
    assert d[1][0] < d[1][1] and d[4][0] > d[4][1]


def test_blend_is_the_cross_fade(pair):
    a, b = pair
    (mid,) = get_interpolator("blend").interpolate(a, b, [0.25])
    ref = np.rint(0.75 * a.astype(np.float64) + 0.25 * b.astype(np.float64))
    assert np.abs(mid.astype(np.float64) - ref).max() <= 1


@pytest.mark.parametrize("hw", [(1, 1), (1, 9), (7, 5), (12, 40)])
def test_tiny_frames(hw):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    b = np.roll(a, 1, axis=1)
    for name in ("blend", "flow"):
        (mid,) = get_interpolator(name).interpolate(a, b, [0.5])
        assert mid.shape == (*hw, 3) and mid.dtype == np.uint8


def test_import_is_light():
    code = ("import sys, tokcom.interp; "
            "print(','.join(m for m in ('torch', 'cv2', 'safetensors') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""
