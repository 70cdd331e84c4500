"""Reading and writing video through PyAV (FFmpeg).

Readers return a :class:`~tokcom.types.Video` of uint8 RGB frames ``[T, H, W, 3]``. YUV → RGB uses the
matrix and range the file is tagged with, BT.709 limited range when it is untagged (see
``docs/deviations.md``). Containers: anything FFmpeg demuxes (mp4, mkv, avi, mov, y4m, ...), plus raw
yuv420p (``.yuv``) with an explicit size.
"""

from __future__ import annotations

import math
import os
import re
from fractions import Fraction
from pathlib import Path

import numpy as np

from tokcom.errors import InputError
from tokcom.types import Video
from tokcom.video.transform import crop_resize

RAW_SUFFIXES = (".yuv",)
MAX_SIDE = 8192  # --size beyond 8K on a side is refused (a typo like 100000x100000 must not allocate)
_COLORSPACES = {1: "ITU709", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 4: "FCC", 9: "BT2020", 10: "BT2020"}


def parse_size(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"WxH"`` → ``(W, H)``; both must be positive integers."""
    if text is None:
        return None
    if isinstance(text, tuple):
        w, h = text
    else:
        m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(text))
        if not m:
            raise InputError(f"size must be WxH (e.g. 256x256); got {text!r}")
        w, h = int(m.group(1)), int(m.group(2))
    if w <= 0 or h <= 0:
        raise InputError(f"size must be positive; got {w}x{h}")
    return int(w), int(h)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"empty file: {path}")


def _check_range(start: int, frames: int | None) -> None:
    if start < 0:
        raise InputError(f"--start must be ≥ 0; got {start}")
    if frames is not None and frames <= 0:
        raise InputError(f"--frames must be ≥ 1; got {frames}")


def _SWS_FLAGS():
    """swscale flags for colour conversion: bicubic chroma, accurate rounding, full chroma interpolation.

    Without ACCURATE_RND and FULL_CHR_H_INT swscale's fast path is biased about one code dark against the
    BT.709 formula (measured: mean −1.0/−1.5/−1.0 on R/G/B, up to 3 codes); with them the error is ≤ 0.5.
    """
    from av.video.reformatter import Interpolation as I

    return I.BICUBIC | I.ACCURATE_RND | I.FULL_CHR_H_INT


def yuv_frame_to_rgb(frame) -> np.ndarray:
    """A decoded PyAV ``VideoFrame`` → ``[H, W, 3]`` uint8 RGB, honouring its colour tags (BT.709 default)."""
    cs = _COLORSPACES.get(int(frame.colorspace), "ITU709")
    rng = "JPEG" if int(frame.color_range) == 2 or frame.format.name.startswith("yuvj") else "MPEG"
    if frame.format.name in ("rgb24",):
        return frame.to_ndarray()
    if frame.format.name.startswith(("gbr", "bgr", "rgb", "argb", "abgr", "rgba", "bgra")):
        return frame.to_ndarray(format="rgb24")
    out = frame.reformat(format="rgb24", src_colorspace=cs, src_color_range=rng, interpolation=_SWS_FLAGS())
    return out.to_ndarray()


def rgb_to_yuv_frame(rgb: np.ndarray, pix_fmt: str = "yuv420p"):
    """``[H, W, 3]`` uint8 RGB → a PyAV ``VideoFrame`` in ``pix_fmt``, BT.709 limited range, tagged so."""
    import av

    f = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    out = f.reformat(format=pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG",
                     interpolation=_SWS_FLAGS())
    out.colorspace = 1
    out.color_range = 1
    return out


def read_video(
    path: str | os.PathLike,
    *,
    frames: int | None = None,
    start: int = 0,
    size: str | tuple[int, int] | None = None,
    raw_size: str | tuple[int, int] | None = None,
    raw_fps: float = 25.0,
) -> Video:
    """Read ``frames`` frames from ``start`` and optionally centre-crop + area-resize them to ``size``.

    Args:
        path: a video file FFmpeg can demux, or raw yuv420p (``.yuv``).
        frames: number of frames (None = to the end). Asking for more than the file holds is an error.
        start: index of the first frame.
        size: ``"WxH"`` or ``(W, H)``: centre crop to that aspect, then area resize (None = native).
        raw_size: frame size of a raw ``.yuv`` file (``"WxH"``); else taken from a ``_WxH`` in its name.
        raw_fps: frame rate of a raw file.

    Returns:
        Video with ``frames`` ``[T, H, W, 3]`` uint8 RGB.

    Raises:
        InputError: missing, empty, truncated or corrupt file; a bad range or size.
    """
    p = Path(path)
    _check_file(p)
    _check_range(start, frames)
    target = parse_size(size)
    if target is not None and (target[0] > MAX_SIDE or target[1] > MAX_SIDE):
        raise InputError(f"--size {target[0]}x{target[1]} is larger than tokcom handles ({MAX_SIDE} px a side)")
    if p.suffix.lower() in RAW_SUFFIXES:
        arr, fps = _read_raw(p, frames, start, raw_size, raw_fps, target)
    else:
        arr, fps = _read_av(p, frames, start, target)
    return Video(arr, fps, source=str(p), start=start)


class _FrameBuffer:
    """Frames written one at a time into one ``[T, H, W, 3]`` uint8 array (resized on the way in), so that a
    clip never exists twice in memory; grows geometrically when the frame count is not known up front."""

    def __init__(self, capacity: int | None, target: tuple[int, int] | None) -> None:
        self.capacity = capacity
        self.target = target
        self.arr: np.ndarray | None = None
        self.n = 0

    def add(self, rgb: np.ndarray) -> None:
        if self.target is not None:
            rgb = crop_resize(rgb[None], self.target)[0]
        if self.arr is None:
            cap = self.capacity if self.capacity is not None else 64
            check_frame_budget(cap, *rgb.shape[:2])
            self.arr = np.empty((cap, *rgb.shape), np.uint8)
        elif rgb.shape != self.arr.shape[1:]:
            raise ValueError(f"frame size changed mid-stream: {self.arr.shape[1:3]} → {rgb.shape[:2]}")
        if self.n == self.arr.shape[0]:
            grown = np.empty((max(2 * self.n, 1), *self.arr.shape[1:]), np.uint8)
            check_frame_budget(grown.shape[0], *rgb.shape[:2])
            grown[: self.n] = self.arr
            self.arr = grown
        self.arr[self.n] = rgb
        self.n += 1

    def result(self) -> np.ndarray:
        if self.arr is None:
            return np.zeros((0, 1, 1, 3), np.uint8)
        return self.arr[: self.n] if self.n < self.arr.shape[0] else self.arr


def check_frame_budget(num_frames: int, height: int, width: int) -> None:
    """InputError when ``num_frames`` frames of ``height × width`` RGB would not fit in this machine's memory
    (the clip is held in memory, and so is its reconstruction)."""
    need = int(num_frames) * int(height) * int(width) * 3
    avail = available_memory_bytes()
    if avail is not None and 2 * need > avail:
        raise InputError(f"{num_frames} frames of {width}x{height} need {need / 2**30:.1f} GiB each for the clip and "
                         f"its reconstruction; {avail / 2**30:.1f} GiB are available (use --frames or --size)")


def available_memory_bytes() -> int | None:
    """Memory available to this process now (``MemAvailable`` of /proc/meminfo, capped by a cgroup limit),
    or None where it cannot be read."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        return None
    for cg in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(cg).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < (1 << 60):
            avail = min(avail, int(raw)) if avail is not None else int(raw)
    return avail


def _read_raw(p: Path, frames, start, raw_size, raw_fps, target) -> tuple[np.ndarray, float]:
    import av

    wh = parse_size(raw_size)
    if wh is None:
        m = re.search(r"(\d+)x(\d+)", p.stem)
        if not m:
            raise InputError(f"raw video {p.name}: give its size (--input-size WxH)")
        wh = parse_size(f"{m.group(1)}x{m.group(2)}")
    w, h = wh
    if w % 2 or h % 2:
        raise InputError(f"raw yuv420p needs an even width and height; got {w}x{h}")
    if not (raw_fps > 0 and math.isfinite(raw_fps)):
        raise InputError(f"raw video fps must be positive; got {raw_fps}")
    fsize = w * h * 3 // 2
    total_bytes = p.stat().st_size
    if total_bytes % fsize:
        raise InputError(
            f"raw video {p.name}: {total_bytes} bytes is not a whole number of {w}x{h} yuv420p frames "
            f"(truncated, or wrong --input-size)"
        )
    total = total_bytes // fsize
    n = _frame_count(total, start, frames, p)
    out = _FrameBuffer(n, target)
    with open(p, "rb") as fh:
        fh.seek(start * fsize)
        for _ in range(n):
            buf = np.frombuffer(fh.read(fsize), np.uint8).reshape(h * 3 // 2, w)
            vf = av.VideoFrame.from_ndarray(buf, format="yuv420p")
            out.add(yuv_frame_to_rgb(vf))
    return out.result(), float(raw_fps)


def _frame_count(total: int, start: int, frames: int | None, p: Path) -> int:
    if start >= total:
        raise InputError(f"--start {start} is past the end of {p.name} ({total} frames)")
    if frames is None:
        return total - start
    if start + frames > total:
        raise InputError(f"{p.name} has {total - start} frames from --start {start}; asked for {frames}")
    return frames


def _read_av(p: Path, frames, start, target) -> tuple[np.ndarray, float]:
    import av

    try:
        container = av.open(str(p), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise InputError(f"cannot read video {p.name}: {_av_reason(e)}") from None
    with container:
        if not container.streams.video:
            raise InputError(f"{p.name} has no video stream")
        stream = container.streams.video[0]
        _check_complete(container, stream, p)
        container.seek(0)
        stream.thread_type = "SLICE"  # frame threading would swallow the error of a truncated last packet
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 25.0
        if not (fps > 0 and math.isfinite(fps)):
            fps = 25.0
        declared = int(stream.frames or 0)
        capacity = frames if frames is not None else (declared - start if declared > start else None)
        out = _FrameBuffer(capacity, target)
        index = 0
        try:
            for frame in container.decode(stream):
                if index >= start:
                    out.add(yuv_frame_to_rgb(frame))
                    if frames is not None and out.n == frames:
                        break
                index += 1
        except ValueError as e:
            if "mid-stream" in str(e):
                raise InputError(f"{p.name} changes frame size mid-stream ({e}); not supported") from None
            raise InputError(
                f"corrupt or truncated video {p.name}: decoding failed after {index} frames ({_av_reason(e)})"
            ) from None
        except (av.error.FFmpegError, OSError) as e:
            raise InputError(
                f"corrupt or truncated video {p.name}: decoding failed after {index} frames ({_av_reason(e)})"
            ) from None
    if out.n == 0:
        if index == 0:
            raise InputError(f"no decodable frames in {p.name} (corrupt or truncated file)")
        raise InputError(f"--start {start} is past the end of {p.name} ({index} frames)")
    if frames is not None and out.n < frames:
        raise InputError(f"{p.name} has {out.n} frames from --start {start}; asked for {frames}")
    return out.result(), fps


def _check_complete(container, stream, p: Path) -> None:
    """Demux (without decoding) every packet of ``stream`` and compare with what the container declares.

    A truncated file is an error even when the frames asked for precede the cut: FFmpeg would otherwise
    hand back whatever it finds, and a silently shortened or damaged clip is worse than a clear message.
    """
    import av

    count, last_end = 0, None
    tb = stream.time_base
    try:
        for pkt in container.demux(stream):
            if pkt.size == 0 and pkt.pts is None:
                continue  # flush packet
            count += 1
            if pkt.pts is not None and tb is not None:
                end = float((pkt.pts + (pkt.duration or 0)) * tb)
                last_end = end if last_end is None else max(last_end, end)
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise InputError(f"corrupt or truncated video {p.name}: {_av_reason(e)}") from None
    if count == 0:
        raise InputError(f"no video packets in {p.name} (corrupt or truncated file)")
    declared = int(stream.frames or 0)
    if declared > 0 and count < declared:
        raise InputError(f"truncated video {p.name}: the container declares {declared} frames, {count} are present")
    # no frame count (Matroska, y4m): compare with the declared duration of the video stream — the
    # container's duration only when video is its one stream (an audio track may outlast the video)
    declared_s = None
    if stream.duration and tb is not None:
        declared_s = float(stream.duration * tb)
    elif container.duration and len(container.streams) == 1:
        declared_s = container.duration / 1e6
    if declared == 0 and declared_s is not None and last_end is not None:
        rate = stream.average_rate or stream.guessed_rate
        frame_s = 1.0 / float(rate) if rate else 0.04
        start = float(container.start_time or 0) / 1e6 if stream.start_time is None else float(stream.start_time * tb)
        if (last_end - start) < declared_s - 1.5 * frame_s:
            raise InputError(
                f"truncated video {p.name}: the container declares {declared_s:.2f} s, "
                f"the data ends at {last_end - start:.2f} s"
            )


def _av_reason(e: Exception) -> str:
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return s.replace(str(Path.cwd()) + os.sep, "")


def pad_even(frames: np.ndarray) -> np.ndarray:
    """Edge-pad ``[T, H, W, 3]`` to even H and W (4:2:0 chroma needs them); unchanged when already even."""
    ph, pw = frames.shape[1] % 2, frames.shape[2] % 2
    if ph or pw:
        frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    return frames


def _write(path: Path, frames: np.ndarray, fps: float, *, fmt: str, codec: str, pix_fmt: str,
           options: dict[str, str], convert, container_options: dict[str, str] | None = None,
           even: bool = False) -> Path:
    """Encode ``[T, H, W, 3]`` uint8 RGB frames (each through ``convert``; edge-padded to even sizes one
    frame at a time when ``even``) into one stream of ``path``."""
    import av

    rate = Fraction(fps).limit_denominator(1001)
    height, width = frames.shape[1], frames.shape[2]
    if even:
        height, width = height + height % 2, width + width % 2
    # bit-exact muxing and encoding: no creation time, random segment UID or encoder version string in the
    # file, so the same frames always give the same bytes (same seed, same files)
    copts = {"fflags": "+bitexact", **(container_options or {})}
    with av.open(str(path), mode="w", format=fmt, options=copts) as c:
        s = c.add_stream(codec, rate=rate)
        s.width, s.height = width, height
        s.pix_fmt = pix_fmt
        s.codec_context.options = {"flags": "+bitexact", **options}
        for i, rgb in enumerate(frames):
            f = convert(np.ascontiguousarray(pad_even(rgb[None])[0] if even else rgb))
            f.pts = i
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
    return path


def write_video(path: str | os.PathLike, video: Video) -> Path:
    """Write ``video`` losslessly: FFV1 (bgr0, i.e. 8-bit RGB) in Matroska. Reading it back gives the
    same frames bit for bit, so every metric can be recomputed from the file."""
    import av

    def convert(rgb: np.ndarray):
        return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="bgr0")

    return _write(Path(path), video.frames, video.fps, fmt="matroska", codec="ffv1", pix_fmt="bgr0",
                  options={"level": "3", "slices": "1" if min(video.width, video.height) < 16 else "4", "slicecrc": "1", "g": "1"},
                  convert=convert)


def write_preview(path: str | os.PathLike, video: Video, *, crf: int = 18) -> Path:
    """Write a browser-friendly H.264 (yuv420p, BT.709, faststart) MP4 preview; odd sizes are edge-padded."""
    opts = {"crf": str(crf), "preset": "medium", "profile": "high",
            "colorprim": "bt709", "transfer": "bt709", "colorspace": "bt709"}
    return _write(Path(path), video.frames, video.fps, fmt="mp4", codec="libx264",
                  pix_fmt="yuv420p", options=opts, convert=rgb_to_yuv_frame,
                  container_options={"movflags": "+faststart"}, even=True)


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an ``[H, W]`` or ``[H, W, 3]`` uint8 RGB image as PNG (atomically: temp file, then rename)."""
    import cv2

    p = Path(path)
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise InputError(f"write_image takes uint8 [H,W] or [H,W,3]; got {img.dtype} {img.shape}")
    ok, buf = cv2.imencode(".png", img[..., ::-1] if img.ndim == 3 else img)
    if not ok:  # pragma: no cover
        raise OSError(f"could not encode {p}")
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_bytes(buf.tobytes())
    os.replace(tmp, p)
    return p


def probe_video(path: str | os.PathLike) -> tuple[int | None, int, int]:
    """``(frames or None when the container does not say, width, height)`` of a video file, from its headers
    (nothing is decoded). Raw ``.yuv`` files give ``(None, 0, 0)`` (their size is an option).

    Raises:
        InputError: not a readable video.
    """
    import av

    p = Path(path)
    _check_file(p)
    if p.suffix.lower() in RAW_SUFFIXES:
        return None, 0, 0
    try:
        with av.open(str(p), mode="r") as c:
            if not c.streams.video:
                raise InputError(f"{p.name} has no video stream")
            s = c.streams.video[0]
            n = int(s.frames or 0)
            if n <= 0 and s.duration and s.time_base and (s.average_rate or s.guessed_rate):
                n = round(float(s.duration * s.time_base) * float(s.average_rate or s.guessed_rate))
            return (n if n > 0 else None), int(s.codec_context.width), int(s.codec_context.height)
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise InputError(f"cannot read video {p.name}: {_av_reason(e)}") from None
