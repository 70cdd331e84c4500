"""Members of an extracted package, and their decoding into downscaled uint8 RGB arrays.

A *member* is a file of the package (``a/b/clip.mp4``) or a file inside a container member
(``a/b/archive.zip!inner/clip.mp4``, ``a/activity.rcc!gcompris/.../photo.webp``). Videos are decoded with
PyAV (frame by frame, colour tags honoured via :func:`tokcom.video.io.yuv_frame_to_rgb`), images with OpenCV;
both are resized with OpenCV ``INTER_AREA`` so that the shorter side is at most ``max_side``. av and cv2 are
imported when a function needs them.
"""

from __future__ import annotations

import fnmatch
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tokcom.data.rcc import list_rcc, read_rcc_entry
from tokcom.errors import InputError
from tokcom.video.io import yuv_frame_to_rgb

__all__ = [
    "ImageInfo",
    "Member",
    "VideoInfo",
    "decode_image",
    "decode_sequence",
    "decode_video",
    "list_members",
    "target_size",
]

SEP = "!"
_CONTAINERS = (".zip", ".rcc")


@dataclass(frozen=True)
class Member:
    """A file of an extracted package.

    Attributes:
        path: ``/``-separated path from the package root (``OUTER!INNER`` inside a container).
        size_bytes: size of the (uncompressed) file.
        file: the file on disk when it is not inside a container (PyAV reads it directly).
    """

    path: str
    size_bytes: int
    file: Path | None = None
    _read: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The file name (last component of the innermost path)."""
        return self.path.rsplit(SEP, 1)[-1].rsplit("/", 1)[-1]

    def read(self) -> bytes:
        if self.file is not None:
            return self.file.read_bytes()
        if self._read is None:
            raise InputError(f"member {self.path} cannot be read")
        data = self._read()
        if data is None:
            raise InputError(f"member {self.path} cannot be read (corrupt container entry)")
        return data


def _outer(pattern: str) -> str | None:
    return pattern.split(SEP, 1)[0] if SEP in pattern else None


def list_members(root: Path, patterns: tuple[str, ...] = ()) -> list[Member]:
    """Every regular file under ``root`` (sorted), plus the entries of the ``.zip``/``.rcc`` files that the
    outer part of an ``OUTER!INNER`` pattern in ``patterns`` matches. Unreadable containers are skipped."""
    root = Path(root)
    base = root.resolve()
    outers = [o for o in (_outer(p) for p in patterns) if o]
    out: list[Member] = []
    for dirpath, _dirs, files in os.walk(root):
        for fn in files:
            p = Path(dirpath) / fn
            if not p.is_file():  # dangling symlink
                continue
            if p.is_symlink() and not p.resolve().is_relative_to(base):
                continue  # points outside the package (e.g. to this machine's /usr/share/common-licenses)
            rel = p.relative_to(root).as_posix()
            out.append(Member(rel, p.stat().st_size, p))
            if rel.lower().endswith(_CONTAINERS) and any(fnmatch.fnmatchcase(rel, o) for o in outers):
                out.extend(_container_members(p, rel))
    out.sort(key=lambda m: m.path)
    return out


def _container_members(p: Path, rel: str) -> list[Member]:
    try:
        data = p.read_bytes()
    except OSError:
        return []
    if rel.lower().endswith(".rcc"):
        try:
            entries = list_rcc(data)
        except InputError:
            return []
        return [Member(f"{rel}{SEP}{e.path}", e.stored_bytes, None,
                       (lambda e=e: read_rcc_entry(data, e))) for e in entries]
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []

    def reader(info: zipfile.ZipInfo) -> bytes | None:
        try:
            return z.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None

    return [Member(f"{rel}{SEP}{i.filename}", i.file_size, None, (lambda i=i: reader(i))) for i in infos]


# --------------------------------------------------------------------------------------------- resizing
def target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """``(w, h)`` with the shorter side at most ``max_side`` (never upscaled), aspect kept."""
    if width < 1 or height < 1:
        raise InputError(f"image has no pixels: {width}x{height}")
    s = min(1.0, max_side / min(width, height))
    return max(1, round(width * s)), max(1, round(height * s))


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if (rgb.shape[1], rgb.shape[0]) == size:
        return np.ascontiguousarray(rgb)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _is_grey(rgb: np.ndarray) -> bool:
    small = rgb[:: max(1, rgb.shape[0] // 64), :: max(1, rgb.shape[1] // 64)].astype(np.int16)
    return bool(np.abs(small[..., 0] - small[..., 1]).max() <= 2 and np.abs(small[..., 1] - small[..., 2]).max() <= 2)


# --------------------------------------------------------------------------------------------- images
@dataclass(frozen=True)
class ImageInfo:
    """An image decoded to RGB.

    Attributes:
        rgb: ``[H, W, 3]`` uint8, resized so the shorter side ≤ max_side.
        original_width, original_height: pixels before resizing.
        colour: False when the original is grey.
    """

    rgb: np.ndarray
    original_width: int
    original_height: int
    colour: bool


def decode_image(data: bytes, max_side: int | None = None, size: tuple[int, int] | None = None) -> ImageInfo:
    """Decode an image file's bytes (JPEG, PNG, WebP, PGM/PPM, ...) to RGB, resized to ``size`` or to a
    shorter side ≤ ``max_side``. 16-bit images are scaled to 8 bits; alpha is dropped.

    Raises:
        InputError: OpenCV cannot decode the bytes.
    """
    import cv2

    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if arr is None or arr.size == 0:
        raise InputError("not a decodable image")
    if arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = cv2.normalize(arr, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if arr.ndim == 2:
        rgb, colour = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB), False
    else:
        if arr.shape[2] == 1:
            arr = arr[..., 0]
            rgb = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
        elif arr.shape[2] == 4:
            rgb = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
        else:
            rgb = cv2.cvtColor(arr[..., :3], cv2.COLOR_BGR2RGB)
        colour = not _is_grey(rgb)
    h, w = rgb.shape[:2]
    if size is None:
        size = target_size(w, h, max_side) if max_side else (w, h)
    return ImageInfo(_resize(rgb, size), w, h, colour)


# --------------------------------------------------------------------------------------------- videos
@dataclass(frozen=True)
class VideoInfo:
    """What decoding a video found.

    Attributes:
        original_width, original_height: pixels of the first frame.
        original_frames: frames decoded.
        fps: frames per second (container's average rate; 25 when it has none).
        colour: False when the frames are grey.
        note: why decoding stopped early ("" when it reached the end).
    """

    original_width: int
    original_height: int
    original_frames: int
    fps: float
    colour: bool
    note: str = ""


def _chunker(chunk_frames: int, emit: Callable[[np.ndarray], None]):
    buf: list[np.ndarray] = []

    def push(frame: np.ndarray | None) -> None:
        if frame is not None:
            buf.append(frame)
        if buf and (frame is None or len(buf) >= chunk_frames):
            emit(np.stack(buf))
            buf.clear()

    return push


def decode_video(src: Path | bytes, max_side: int, chunk_frames: int,
                 emit: Callable[[np.ndarray], None], *, threads: int = 1) -> VideoInfo:
    """Decode the first video stream of ``src`` (a path or the file's bytes), resize each frame so the
    shorter side ≤ ``max_side`` and hand ``[t, h, w, 3]`` uint8 chunks of ≤ ``chunk_frames`` frames to
    ``emit`` in order. A stream that fails part-way keeps the frames decoded before the failure.

    Raises:
        InputError: no video stream, or not a single frame decodes.
    """
    import av

    push = _chunker(chunk_frames, emit)
    opened = io.BytesIO(src) if isinstance(src, bytes | bytearray) else str(src)
    n, note, size, first, grey = 0, "", None, None, True
    try:
        container = av.open(opened, mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise InputError(f"cannot open video: {_reason(e)}") from None
    with container:
        if not container.streams.video:
            raise InputError("no video stream")
        stream = container.streams.video[0]
        stream.thread_count = max(1, int(threads))
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 25.0
        if not (0 < fps < 10_000):
            fps = 25.0
        try:
            for frame in container.decode(stream):
                rgb = yuv_frame_to_rgb(frame)
                rot = int(getattr(frame, "rotation", 0) or 0)
                if rot % 360:
                    rgb = np.ascontiguousarray(np.rot90(rgb, k=(rot // 90) % 4))
                if size is None:
                    first = rgb.shape
                    size = target_size(rgb.shape[1], rgb.shape[0], max_side)
                if grey and n % 25 == 0:
                    grey = _is_grey(rgb)
                push(_resize(rgb, size))
                n += 1
        except (av.error.FFmpegError, OSError, ValueError, MemoryError) as e:
            if n == 0:
                raise InputError(f"no decodable frames: {_reason(e)}") from None
            note = f"decoding stopped after {n} frames: {_reason(e)}"
    if n == 0 or first is None:
        raise InputError("no decodable frames")
    push(None)
    return VideoInfo(first[1], first[0], n, fps, not grey, note)


def decode_sequence(frames: list[Member], max_side: int, chunk_frames: int, fps: float,
                    emit: Callable[[np.ndarray], None]) -> VideoInfo:
    """An image sequence (``frames`` in order) as one clip, like :func:`decode_video`. Undecodable frames
    are skipped (and counted in the note); every frame is resized to the first frame's target size."""
    push = _chunker(chunk_frames, emit)
    n, bad, size, first, grey = 0, 0, None, None, True
    for m in frames:
        try:
            data = m.read()
            if size is None:
                info = decode_image(data, max_side=max_side)
                first, size = (info.original_height, info.original_width), (info.rgb.shape[1], info.rgb.shape[0])
            else:
                info = decode_image(data, size=size)
        except (InputError, OSError):
            bad += 1
            continue
        grey = grey and not info.colour
        push(info.rgb)
        n += 1
    if n == 0 or first is None:
        raise InputError("no decodable frames in the image sequence")
    push(None)
    return VideoInfo(first[1], first[0], n, float(fps), not grey, f"{bad} frames undecodable" if bad else "")


def _reason(e: Exception) -> str:
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return s[:200]
