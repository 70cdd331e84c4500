"""tokcom.video.io: reading (mp4/avi/mkv/y4m/raw yuv), ranges, sizes, damaged files, writing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.types import Video
from tokcom.video import read_video, samples, write_preview, write_video
from tokcom.video.io import parse_size

SHARED_DATA = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data").resolve()


def shared_clip(name: str) -> Path:
    p = SHARED_DATA / name
    if not p.is_file():
        pytest.skip(f"{p} not available")
    return p


@pytest.fixture(scope="module")
def bikes() -> Path:
    return samples.path("bikes")


def _one_line_input_error(excinfo) -> str:
    msg = str(excinfo.value)
    assert msg and "\n" not in msg, f"message must be one line: {msg!r}"
    return msg


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _yuv420_planes(y: int, u: int, v: int, w: int, h: int) -> np.ndarray:
    return np.concatenate([np.full(h * w, y, np.uint8), np.full(h * w // 4, u, np.uint8),
                           np.full(h * w // 4, v, np.uint8)])


def _bt709_limited(y: float, u: float, v: float) -> np.ndarray:
    yy, uu, vv = (y - 16) * 255 / 219, (u - 128) * 255 / 224, (v - 128) * 255 / 224
    rgb = [yy + 1.5748 * vv, yy - 0.18733 * uu - 0.46812 * vv, yy + 1.8556 * uu]
    return np.clip(np.round(rgb), 0, 255)


# --------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("name, wh, fps", [
    ("bikes.mp4", (640, 272), 25.0), ("realshort.mp4", (320, 240), None),
    ("vtest.avi", (768, 576), 10.0), ("cockatoo.mp4", (1280, 720), 20.0),
])
def test_read_real_clips_few_frames(name, wh, fps):
    p = shared_clip(name)
    v = read_video(p, frames=3)
    assert isinstance(v, Video)
    assert v.frames.shape == (3, wh[1], wh[0], 3) and v.frames.dtype == np.uint8
    assert v.start == 0 and v.source == str(p)
    if fps is not None:
        assert v.fps == pytest.approx(fps)
    else:
        assert 29 < v.fps < 31
    # real content, not a blank frame
    assert v.frames.std() > 10


def test_read_bundled_sample(bikes):
    assert bikes.is_file() and bikes.suffix == ".mp4"
    v = read_video(bikes, frames=2, size="64x48")
    assert v.frames.shape == (2, 48, 64, 3)
    assert samples.names() == ["bikes"]


def test_unknown_sample_lists_valid_names():
    from tokcom.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="bikes"):
        samples.path("nope")


def test_start_frames_semantics(bikes):
    full = read_video(bikes, frames=10)
    part = read_video(bikes, start=4, frames=5)
    assert part.start == 4 and part.num_frames == 5
    for k in range(5):
        np.testing.assert_array_equal(part.frames[k], full.frames[4 + k])
    # consecutive frames of a real clip differ, so the comparison above is not vacuous
    assert not np.array_equal(full.frames[4], full.frames[5])


def test_full_read_counts_every_frame():
    p = shared_clip("realshort.mp4")
    v = read_video(p)
    assert v.num_frames == 36
    tail = read_video(p, start=30)
    assert tail.num_frames == 6
    np.testing.assert_array_equal(tail.frames, v.frames[30:])


def test_read_past_end_is_input_error(bikes):
    with pytest.raises(InputError) as e:
        read_video(bikes, start=247, frames=5)
    msg = _one_line_input_error(e)
    assert "3" in msg and "5" in msg
    with pytest.raises(InputError) as e:
        read_video(bikes, start=250)
    assert "past the end" in _one_line_input_error(e)
    # the last frames are reachable
    assert read_video(bikes, start=247, frames=3).num_frames == 3


@pytest.mark.parametrize("kw", [{"frames": 0}, {"frames": -2}, {"start": -1}, {"size": "0x0"},
                                {"size": "0x16"}, {"size": "abc"}, {"size": "256"}, {"size": "256x"},
                                {"size": "-5x5"}, {"size": "16x16x3"}, {"size": (0, 5)}])
def test_bad_range_or_size(bikes, kw):
    with pytest.raises(InputError) as e:
        read_video(bikes, **{"frames": 2, **kw})
    _one_line_input_error(e)


def test_parse_size():
    assert parse_size("256x128") == (256, 128)
    assert parse_size(" 32 X 16 ") == (32, 16)
    assert parse_size((8, 4)) == (8, 4)
    assert parse_size(None) is None
    for bad in ("x", "1.5x2", "", "0x1"):
        with pytest.raises(InputError):
            parse_size(bad)


def test_missing_empty_directory(tmp_path):
    with pytest.raises(InputError) as e:
        read_video(tmp_path / "nope.mp4")
    assert "nope.mp4" in _one_line_input_error(e)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError) as e:
        read_video(empty)
    assert "empty" in _one_line_input_error(e)
    with pytest.raises(InputError) as e:
        read_video(tmp_path)
    assert "directory" in _one_line_input_error(e)


@pytest.mark.parametrize("suffix", [".mp4", ".avi", ".mkv", ".y4m"])
def test_garbage_bytes(tmp_path, suffix):
    p = tmp_path / f"garbage{suffix}"
    p.write_bytes(np.random.default_rng(7).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError) as e:
        read_video(p, frames=1)
    _one_line_input_error(e)


def test_text_file_is_input_error(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video\n" * 50)
    with pytest.raises(InputError):
        read_video(p)


@pytest.mark.parametrize("name", ["bikes.mp4", "realshort.mp4", "cockatoo.mp4"])
def test_mp4_cut_in_half(tmp_path, name):
    src = shared_clip(name)
    data = src.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        read_video(cut, frames=2)
    _one_line_input_error(e)


def test_bundled_mp4_cut_in_half(tmp_path, bikes):
    data = bikes.read_bytes()
    cut = tmp_path / "bikes_cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        read_video(cut)


@pytest.mark.parametrize("frac", [0.5, 0.9])
def test_avi_cut(tmp_path, frac):
    data = shared_clip("vtest.avi").read_bytes()
    cut = tmp_path / "vtest.avi"
    cut.write_bytes(data[: int(len(data) * frac)])
    # an error even though the 2 frames asked for precede the cut
    with pytest.raises(InputError) as e:
        read_video(cut, frames=2)
    assert "truncated" in _one_line_input_error(e)


def _random_video(t, h, w, fps=25.0, seed=0):
    rng = np.random.default_rng(seed)
    return Video(rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8), fps)


@pytest.mark.parametrize("frac", [0.3, 0.5])
def test_mkv_from_write_video_cut(tmp_path, frac):
    v = _random_video(50, 16, 16)
    p = write_video(tmp_path / "v.mkv", v)
    data = p.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * frac)])
    with pytest.raises(InputError) as e:
        read_video(cut)
    _one_line_input_error(e)
    with pytest.raises(InputError):
        read_video(cut, frames=2)


@pytest.mark.parametrize("t, frac", [(5, 0.5), (50, 0.8)])
def test_mkv_cut_short_or_near_end(tmp_path, t, frac):
    v = _random_video(t, 16, 16)
    data = write_video(tmp_path / "v.mkv", v).read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * frac)])
    with pytest.raises(InputError):
        read_video(cut)  # today: returns 2 of 5 (resp. 40 of 50) frames without complaint


def test_faststart_mp4_missing_last_bytes(tmp_path, bikes):
    v = read_video(bikes, frames=20)
    data = write_preview(tmp_path / "p.mp4", v).read_bytes()
    assert read_video(tmp_path / "p.mp4").num_frames == 20
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:-10])
    with pytest.raises(InputError):
        read_video(cut)  # today: 17 frames, no error


def test_faststart_mp4_cut_in_half(tmp_path, bikes):
    v = read_video(bikes, frames=12, size="64x64")
    data = write_preview(tmp_path / "p.mp4", v).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        read_video(cut, frames=1)
    assert "truncated" in _one_line_input_error(e)


# --------------------------------------------------------------------------------------------- y4m and raw


COLOURS = [(16, 128, 128), (235, 128, 128), (81, 90, 240), (145, 54, 34), (41, 240, 110)]


def _write_y4m(path: Path, w: int, h: int, colours, fps="25:1"):
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps} Ip A1:1 C420jpeg\n".encode())
        for c in colours:
            fh.write(b"FRAME\n")
            fh.write(_yuv420_planes(*c, w, h).tobytes())


def test_y4m_by_hand(tmp_path):
    p = tmp_path / "flat.y4m"
    _write_y4m(p, 16, 8, COLOURS, fps="30000:1001")
    v = read_video(p)
    assert v.frames.shape == (5, 8, 16, 3)
    assert v.fps == pytest.approx(30000 / 1001)
    for i, c in enumerate(COLOURS):
        exp = _bt709_limited(*c)
        assert np.abs(v.frames[i].astype(int) - exp).max() <= 2, (c, v.frames[i, 0, 0], exp)
        assert np.ptp(v.frames[i].reshape(-1, 3), axis=0).max() == 0  # flat stays flat
    part = read_video(p, start=2, frames=2)
    np.testing.assert_array_equal(part.frames, v.frames[2:4])


def test_y4m_written_by_pyav(tmp_path):
    import av

    rng = np.random.default_rng(3)
    p = tmp_path / "muxed.y4m"
    planes = []
    with av.open(str(p), "w", format="yuv4mpegpipe") as c:
        s = c.add_stream("rawvideo", rate=25)
        s.width, s.height, s.pix_fmt = 32, 16, "yuv420p"
        for i in range(4):
            yuv = rng.integers(16, 236, (24, 32), dtype=np.uint8)
            planes.append(yuv)
            f = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            f.pts = i
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
    assert p.read_bytes().startswith(b"YUV4MPEG2 W32 H16 ")
    v = read_video(p)
    assert v.frames.shape == (4, 16, 32, 3) and v.fps == pytest.approx(25.0)
    # the same YUV through the raw reader gives the same RGB
    raw = tmp_path / "same_32x16.yuv"
    raw.write_bytes(b"".join(a.tobytes() for a in planes))
    np.testing.assert_array_equal(read_video(raw).frames, v.frames)


def test_raw_yuv_size_from_name_and_explicit(tmp_path):
    raw = np.concatenate([_yuv420_planes(*c, 16, 8) for c in COLOURS])
    named = tmp_path / "clip_16x8.yuv"
    named.write_bytes(raw.tobytes())
    v = read_video(named)
    assert v.frames.shape == (5, 8, 16, 3) and v.fps == 25.0
    for i, c in enumerate(COLOURS):
        assert np.abs(v.frames[i].astype(int) - _bt709_limited(*c)).max() <= 2
    plain = tmp_path / "clip.yuv"
    plain.write_bytes(raw.tobytes())
    v2 = read_video(plain, raw_size="16x8", raw_fps=50.0, start=1, frames=3)
    assert v2.fps == 50.0 and v2.start == 1
    np.testing.assert_array_equal(v2.frames, v.frames[1:4])
    with pytest.raises(InputError) as e:
        read_video(plain)  # no size anywhere
    assert "size" in _one_line_input_error(e)


def test_raw_yuv_bad_sizes(tmp_path):
    raw = np.concatenate([_yuv420_planes(*c, 16, 8) for c in COLOURS])
    p = tmp_path / "clip.yuv"
    p.write_bytes(raw.tobytes())  # 960 bytes
    with pytest.raises(InputError) as e:
        read_video(p, raw_size="16x16")  # 384-byte frames: not a multiple
    assert "whole number" in _one_line_input_error(e)
    with pytest.raises(InputError) as e:
        read_video(p, raw_size="15x8")
    assert "even" in _one_line_input_error(e)
    with pytest.raises(InputError):
        read_video(p, raw_size="16x7")
    with pytest.raises(InputError):
        read_video(p, raw_size="16x8", raw_fps=0)
    with pytest.raises(InputError):
        read_video(p, raw_size="16x8", start=4, frames=2)
    with pytest.raises(InputError):
        read_video(p, raw_size="16x8", start=5)
    trunc = tmp_path / "cut_16x8.yuv"
    trunc.write_bytes(raw.tobytes()[:-10])
    with pytest.raises(InputError):
        read_video(trunc)


# --------------------------------------------------------------------------------------------- writing


@pytest.mark.parametrize("t, h, w, fps", [(4, 16, 24, 25.0), (3, 17, 23, 30000 / 1001), (2, 1, 5, 10.0),
                                          (2, 9, 2, 24.0)])
def test_write_video_ffv1_round_trip_bit_exact(tmp_path, t, h, w, fps):
    v = _random_video(t, h, w, fps, seed=t * 100 + h)
    p = write_video(tmp_path / "out.mkv", v)
    assert p.is_file()
    back = read_video(p)
    assert back.frames.shape == v.frames.shape
    np.testing.assert_array_equal(back.frames, v.frames)
    assert back.fps == pytest.approx(fps, rel=1e-4)


def test_write_preview_real_clip(tmp_path, bikes):
    v = read_video(bikes, frames=8)
    p = write_preview(tmp_path / "prev.mp4", v, crf=18)
    import av

    with av.open(str(p)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
    back = read_video(p)
    assert back.frames.shape == v.frames.shape
    assert back.fps == pytest.approx(25.0)
    psnr = _psnr(back.frames, v.frames)
    assert 35.0 < psnr < 80.0, psnr
    # faststart: the moov box precedes the media data
    data = p.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")


def test_write_preview_odd_size_padded(tmp_path):
    yy, xx = np.mgrid[0:17, 0:23]
    frame = np.stack([40 + xx * 5, 30 + yy * 6, 150 - xx * 2 - yy], -1).astype(np.uint8)
    v = Video(np.stack([frame] * 5), 25.0)
    back = read_video(write_preview(tmp_path / "odd.mp4", v))
    assert back.frames.shape == (5, 18, 24, 3)
    assert _psnr(back.frames[:, :17, :23], v.frames) > 35.0
    # the padding repeats the edge row/column
    assert np.abs(back.frames[:, 17].astype(int) - back.frames[:, 16]).mean() < 6
