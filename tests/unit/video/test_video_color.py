"""BT.709 colour: yuv_frame_to_rgb against the BT.709 formulas, tags honoured, rgb_to_yuv_frame."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av")

from tokcom.video import rgb_to_yuv_frame, yuv_frame_to_rgb

W, H = 16, 8
KR_KB = {"709": (0.2126, 0.0722), "601": (0.299, 0.114)}


def _frame(y, u, v, colorspace=1, color_range=1, w=W, h=H):
    buf = np.concatenate([np.full(h * w, y, np.uint8), np.full(h * w // 4, u, np.uint8),
                          np.full(h * w // 4, v, np.uint8)]).reshape(h * 3 // 2, w)
    f = av.VideoFrame.from_ndarray(buf, format="yuv420p")
    if colorspace is not None:
        f.colorspace = colorspace
    if color_range is not None:
        f.color_range = color_range
    return f


def _formula(y, u, v, matrix="709", full=False, clip=True):
    kr, kb = KR_KB[matrix]
    kg = 1 - kr - kb
    if full:
        yy, uu, vv = float(y), u - 128.0, v - 128.0
    else:
        yy, uu, vv = (y - 16) * 255 / 219, (u - 128) * 255 / 224, (v - 128) * 255 / 224
    r = yy + 2 * (1 - kr) * vv
    b = yy + 2 * (1 - kb) * uu
    g = (yy - kr * r - kb * b) / kg
    rgb = np.array([r, g, b])
    return np.clip(np.round(rgb), 0, 255) if clip else rgb


# black, white, mid grey, BT.709 primaries/secondaries at 100 % and 75 % (from the forward formula)
STANDARD = [(16, 128, 128), (235, 128, 128), (126, 128, 128), (63, 102, 240), (173, 42, 26), (32, 240, 118),
            (219, 16, 138), (188, 154, 16), (78, 214, 230),
            (168, 44, 136),
            (51, 109, 212), (145, 54, 34), (41, 240, 110), (100, 150, 90)]


@pytest.mark.parametrize("yuv", STANDARD)
def test_bt709_limited_tagged(yuv):
    rgb = yuv_frame_to_rgb(_frame(*yuv))
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8
    assert np.ptp(rgb.reshape(-1, 3), axis=0).max() == 0  # flat in, flat out
    assert np.abs(rgb[0, 0].astype(int) - _formula(*yuv)).max() <= 2, (rgb[0, 0], _formula(*yuv))


@pytest.mark.parametrize("yuv", [(81, 90, 240), (145, 54, 34), (100, 150, 90)])
def test_untagged_defaults_to_bt709(yuv):
    f = _frame(*yuv, colorspace=None, color_range=None)
    assert int(f.colorspace) == 2 and int(f.color_range) == 0  # unspecified
    rgb = yuv_frame_to_rgb(f).astype(int)[0, 0]
    assert np.abs(rgb - _formula(*yuv)).max() <= 2
    # and it is BT.709, not BT.601: much closer to the former
    assert np.abs(rgb - _formula(*yuv, matrix="601")).max() > np.abs(rgb - _formula(*yuv)).max() + 3


@pytest.mark.parametrize("yuv", [(81, 90, 200), (145, 54, 34), (120, 200, 60)])
def test_bt601_tag_honoured(yuv):
    rgb = yuv_frame_to_rgb(_frame(*yuv, colorspace=5)).astype(int)[0, 0]
    assert np.abs(rgb - _formula(*yuv, matrix="601")).max() <= 2
    assert np.abs(rgb - _formula(*yuv)).max() > 8


@pytest.mark.parametrize("yuv", [(0, 128, 128), (255, 128, 128), (128, 128, 128), (120, 100, 160)])
def test_full_range_tag_honoured(yuv):
    rgb = yuv_frame_to_rgb(_frame(*yuv, color_range=2)).astype(int)[0, 0]
    assert np.abs(rgb - _formula(*yuv, full=True)).max() <= 2


def test_bt709_random_colours_statistics():
    """Across many in-gamut colours: never off by more than 3 codes, ~1 on average (swscale's fixed point)."""
    rng = np.random.default_rng(0)
    errs = []
    while len(errs) < 150:
        yuv = tuple(int(a) for a in rng.integers([16, 16, 16], [236, 241, 241]))
        exact = _formula(*yuv, clip=False)
        if exact.min() < 2 or exact.max() > 253:
            continue
        errs.append(np.abs(yuv_frame_to_rgb(_frame(*yuv)).astype(int)[0, 0] - np.round(exact)))
    errs = np.array(errs)
    assert errs.max() <= 3 and errs.mean() < 1.5


def test_bt709_random_colours_unbiased():
    """A correct BT.709 limited-range conversion is off by at most one code and unbiased."""
    rng = np.random.default_rng(1)
    errs = []
    while len(errs) < 150:
        yuv = tuple(int(a) for a in rng.integers([16, 16, 16], [236, 241, 241]))
        exact = _formula(*yuv, clip=False)
        if exact.min() < 2 or exact.max() > 253:
            continue
        errs.append(yuv_frame_to_rgb(_frame(*yuv)).astype(float)[0, 0] - exact)
    errs = np.array(errs)
    assert np.abs(errs).max() <= 1.0 and np.abs(errs.mean(0)).max() < 0.25, (np.abs(errs).max(), errs.mean(0))


@pytest.mark.parametrize("rgb, yuv", [((0, 0, 0), (16, 128, 128)), ((255, 255, 255), (235, 128, 128)),
                                      ((255, 0, 0), (63, 102, 240)), ((0, 255, 0), (173, 42, 26)),
                                      ((0, 0, 255), (32, 240, 118))])
def test_rgb_to_yuv_frame_bt709_limited(rgb, yuv):
    f = rgb_to_yuv_frame(np.full((H, W, 3), rgb, np.uint8))
    assert f.format.name == "yuv420p" and (f.width, f.height) == (W, H)
    assert int(f.colorspace) == 1 and int(f.color_range) == 1
    a = f.to_ndarray()
    got = (int(a[0, 0]), int(a[H, 0]), int(a[H + H // 4, 0]))
    assert np.abs(np.array(got) - yuv).max() <= 1, got


def test_rgb_yuv_round_trip_smooth():
    yy, xx = np.mgrid[0:64, 0:96]
    img = np.stack([40 + xx * 1.5, 60 + yy * 2, 200 - xx - yy * 0.5], -1).clip(0, 255).astype(np.uint8)
    back = yuv_frame_to_rgb(rgb_to_yuv_frame(img))
    d = np.abs(back.astype(int) - img)
    assert back.shape == img.shape
    assert d.mean() < 2.0 and d.max() <= 6


def test_rgb_frames_pass_through():
    img = np.random.default_rng(5).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    f = av.VideoFrame.from_ndarray(img, format="rgb24")
    np.testing.assert_array_equal(yuv_frame_to_rgb(f), img)
