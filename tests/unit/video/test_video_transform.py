"""tokcom.video.transform: centre crop box, crop + area resize, the model-tensor converters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tokcom.errors import InputError
from tokcom.types import Video
from tokcom.video import center_crop_box, crop_resize, from_tensor, to_tensor


def _coords_frame(h: int, w: int, t: int = 2) -> np.ndarray:
    """R = 10·column, G = 10·row, B = 7: every column and row distinct."""
    yy, xx = np.mgrid[0:h, 0:w]
    f = np.stack([10 * xx, 10 * yy, np.full_like(xx, 7)], -1).astype(np.uint8)
    return np.stack([f] * t)


@pytest.mark.parametrize("h, w, size, box", [
    (272, 640, (256, 256), (0, 184, 272, 272)),     # wide → crop width
    (640, 272, (256, 256), (184, 0, 272, 272)),     # tall → crop height
    (272, 640, (320, 136), (0, 0, 272, 640)),       # same aspect → whole frame
    (576, 768, (256, 256), (0, 96, 576, 576)),
    (720, 1280, (16, 9), (0, 0, 720, 1280)),
    (10, 40, (1, 1), (0, 15, 10, 10)),
    (5, 10, (1, 1), (0, 2, 5, 5)),                  # odd leftover: floor on the left
    (100, 100, (4, 3), (12, 0, 75, 100)),
    (100, 100, (3, 4), (0, 12, 100, 75)),
])
def test_center_crop_box(h, w, size, box):
    assert center_crop_box(h, w, size) == box
    y0, x0, ch, cw = box
    assert 0 <= y0 and y0 + ch <= h and 0 <= x0 and x0 + cw <= w


def test_crop_wide_no_resize_checks_position():
    frames = _coords_frame(10, 24)
    out = crop_resize(frames, (10, 10))
    assert out.shape == (2, 10, 10, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 0, :, 0], 10 * np.arange(7, 17))  # columns 7..16 of 24
    np.testing.assert_array_equal(out[0, :, 0, 1], 10 * np.arange(10))     # all rows kept


def test_crop_tall_no_resize_checks_position():
    frames = _coords_frame(24, 10)
    out = crop_resize(frames, (10, 10))
    np.testing.assert_array_equal(out[1, :, 0, 1], 10 * np.arange(7, 17))
    np.testing.assert_array_equal(out[1, 0, :, 0], 10 * np.arange(10))


def test_crop_then_area_resize():
    frames = _coords_frame(6, 24)
    out = crop_resize(frames, (3, 3))  # crop columns 9..14, then average 2×2 blocks
    assert out.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(out[0, 0, :, 0], [95, 115, 135])
    np.testing.assert_array_equal(out[0, :, 0, 1], [5, 25, 45])
    assert (out[..., 2] == 7).all()


def test_equal_aspect_resize_only():
    frames = _coords_frame(8, 16)
    out = crop_resize(frames, (8, 4))
    np.testing.assert_array_equal(out[0, 0, :, 0], [5, 25, 45, 65, 85, 105, 125, 145])


@pytest.mark.parametrize("size", [(256, 256), (100, 37), (7, 5), (640, 272), (1000, 600)])
def test_constant_image_stays_constant(size):
    frames = np.full((3, 272, 640, 3), (17, 140, 231), np.uint8)
    out = crop_resize(frames, size)
    assert out.shape == (3, size[1], size[0], 3)
    assert (out == np.array([17, 140, 231], np.uint8)).all()


def test_same_size_is_identity():
    frames = np.random.default_rng(0).integers(0, 256, (2, 9, 13, 3), dtype=np.uint8)
    np.testing.assert_array_equal(crop_resize(frames, (13, 9)), frames)


@pytest.mark.parametrize("size", [(0, 4), (4, 0), (-1, 4)])
def test_bad_size(size):
    with pytest.raises(InputError):
        crop_resize(np.zeros((1, 4, 4, 3), np.uint8), size)


def test_read_video_size_uses_crop_resize():
    from tokcom.video import read_video, samples

    p = samples.path("bikes")
    native = read_video(p, frames=2)
    small = read_video(p, frames=2, size="128x128")
    np.testing.assert_array_equal(small.frames, crop_resize(native.frames, (128, 128)))


# --------------------------------------------------------------------------------------------- tensors


def test_to_tensor_shapes_and_range():
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (4, 6, 5, 3), dtype=np.uint8)
    frames[0, 0, 0] = (0, 255, 128)
    x = to_tensor(Video(frames, 25.0))
    assert x.shape == (1, 3, 4, 6, 5) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert x[0, 0, 0, 0, 0] == -1.0 and x[0, 1, 0, 0, 0] == 1.0
    assert x[0, 2, 0, 0, 0].item() == pytest.approx(128 / 127.5 - 1, abs=1e-6)
    # channel/time/space placement
    assert x[0, 1, 2, 3, 4].item() == pytest.approx(frames[2, 3, 4, 1] / 127.5 - 1, abs=1e-6)
    batch = rng.integers(0, 256, (2, 3, 4, 5, 3), dtype=np.uint8)
    xb = to_tensor(batch)
    assert xb.shape == (2, 3, 3, 4, 5)
    assert to_tensor(frames, dtype=torch.float64).dtype == torch.float64


def test_tensor_round_trip_exact():
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 256, (3, 7, 9, 3), dtype=np.uint8)
    frames.flat[:256] = np.arange(256)  # every code value
    back = from_tensor(to_tensor(frames))
    assert back.shape == (1, 3, 7, 9, 3) and back.dtype == np.uint8
    np.testing.assert_array_equal(back[0], frames)
    batch = rng.integers(0, 256, (2, 2, 3, 4, 3), dtype=np.uint8)
    np.testing.assert_array_equal(from_tensor(to_tensor(batch)), batch)


def test_from_tensor_rounds_and_clips():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 5.0, 1 / 127.5 - 1 + 0.4 / 127.5]).reshape(1, 3, 1, 1, 2)
    y = from_tensor(x)
    assert y.shape == (1, 1, 1, 2, 3)
    np.testing.assert_array_equal(y.reshape(-1, 3).T.reshape(-1), [0, 0, 128, 255, 255, 1])


@pytest.mark.parametrize("bad", [np.zeros((2, 4, 4, 3), np.float32), np.zeros((4, 4, 3), np.uint8),
                                 np.zeros((2, 4, 4, 4), np.uint8), np.zeros((1, 2, 2, 4, 4, 3), np.uint8)])
def test_to_tensor_bad_input(bad):
    with pytest.raises(InputError):
        to_tensor(bad)


@pytest.mark.parametrize("shape", [(3, 2, 4, 4), (1, 4, 2, 4, 4), (1, 1, 2, 4, 4), (1, 3, 2, 4, 4, 1)])
def test_from_tensor_bad_shape(shape):
    with pytest.raises(InputError):
        from_tensor(torch.zeros(shape))
