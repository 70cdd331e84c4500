"""The metric interface and :func:`compute_metrics`.

Every metric compares two frame-aligned videos (same T, H, W) and returns one number, aggregated over
frames as its docstring states. Metrics that need weights report why they are unavailable instead of
failing the run (``result.json`` ``metrics_unavailable``).

Memory is bounded by design: a frame-mean metric computes its per-frame values over chunks of frames
(:func:`frame_chunks`), each sized so that its working copies (float64 planes, filter maps, network
activations: ``Metric.work_factor`` bytes per uint8 sample) stay within :data:`CHUNK_BYTES`; no metric holds
a float copy of the whole video. Chunk sizes depend only on the frame size, so values do not depend on the
machine.
"""

from __future__ import annotations

import time
from abc import ABC
from collections.abc import Iterable, Iterator
from typing import ClassVar

import numpy as np

from tokcom.errors import InputError, TokcomError
from tokcom.registry import METRICS
from tokcom.types import Video


def _frames(v: Video | np.ndarray) -> np.ndarray:
    return v.frames if isinstance(v, Video) else np.asarray(v)


def check_pair(ref: Video | np.ndarray, dist: Video | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as ``[T,H,W,3]`` uint8 arrays; frame counts and sizes must agree."""
    a, b = _frames(ref), _frames(dist)
    if a.ndim == 3:
        a, b = a[None], b[None]
    if a.shape != b.shape:
        raise InputError(f"metrics need frame-aligned videos of equal size; got {a.shape} vs {b.shape}")
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise InputError("metrics take uint8 RGB frames")
    return a, b


CHUNK_BYTES = 256 << 20
"""Working memory one metric may use at once (its float copies of a chunk of frames)."""
CHUNK_FRAMES = 16
"""At most this many frames per chunk (so that working memory is a few frames' worth even for tiny frames)."""


def frame_chunks(num_frames: int, frame_samples: int, work_factor: float,
                 budget_bytes: int = CHUNK_BYTES) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` frame ranges whose working copies (``work_factor`` bytes per sample of a frame pair)
    fit ``budget_bytes`` (at least one frame per chunk)."""
    per = max(1, min(CHUNK_FRAMES, int(budget_bytes // max(1.0, frame_samples * work_factor))))
    for i in range(0, num_frames, per):
        yield i, min(num_frames, i + per)


class Metric(ABC):
    """A full-reference video quality metric.

    A frame-mean metric implements :meth:`per_frame`; ``__call__`` then averages it over chunks of frames
    (:func:`frame_chunks`). A metric over the whole sequence (FVD) overrides ``__call__``.

    Class attributes:
        name: registry name and ``result.json`` key.
        higher_is_better: direction (BD-rate and plots use it).
        default: computed by ``tokcom run`` unless the user picks metrics.
        work_factor: bytes of working memory per uint8 sample of a frame pair (chunk sizing).
    """

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    default: ClassVar[bool] = True
    work_factor: ClassVar[float] = 32.0

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def unavailable(self) -> str | None:
        """Why the metric cannot be computed here (missing weights, ...), or None when it can."""
        return None

    def per_frame(self, ref: np.ndarray, dist: np.ndarray) -> np.ndarray:
        """Per-frame values ``[t]`` float64 of a chunk (frame-aligned ``[t,H,W,3]`` uint8)."""
        raise NotImplementedError(f"metric {self.name} has no per-frame values")

    def __call__(self, ref: Video | np.ndarray, dist: Video | np.ndarray) -> float:
        """The metric of ``dist`` against ``ref`` (frame-aligned ``[T,H,W,3]`` uint8): the frame mean of
        :meth:`per_frame`, computed chunk by chunk."""
        a, b = check_pair(ref, dist)
        total, n = 0.0, 0
        for i, j in frame_chunks(a.shape[0], int(np.prod(a.shape[1:])), self.work_factor):
            v = np.asarray(self.per_frame(a[i:j], b[i:j]), dtype=np.float64)
            total += float(v.sum())
            n += v.size
        return total / max(n, 1)


ROI_SUFFIXES = ("_roi_in", "_roi_out")


def higher_is_better(metric: str) -> bool:
    """The direction of a metric named ``metric`` — the one place every table, plot and BD-rate reads it.

    A registered metric's own ``higher_is_better``; an ROI variant (``lpips_alex_roi_in``) follows its base
    metric; a name no metric claims counts as higher-is-better."""
    for suffix in ROI_SUFFIXES:
        metric = metric.removesuffix(suffix)
    return bool(getattr(METRICS.get(metric), "higher_is_better", True)) if metric in METRICS else True


def default_metrics() -> list[str]:
    return [e.name for e in METRICS.entries() if getattr(e.obj, "default", True)]


def compute_metrics(
    ref: Video | np.ndarray,
    dist: Video | np.ndarray,
    names: Iterable[str] | None = None,
    *,
    device: str = "cpu",
    timing: dict[str, float] | None = None,
) -> tuple[dict[str, float], dict[str, str]]:
    """Compute metrics on a frame-aligned pair.

    Args:
        timing: when given, receives ``metric_<name>_s`` (seconds) for every metric computed.

    Returns:
        ``(values, unavailable)``: metric name → value, and metric name → one-line reason for those that
        could not be computed here (weights absent, clip too short, ...).
    """
    check_pair(ref, dist)
    values: dict[str, float] = {}
    unavailable: dict[str, str] = {}
    for name in list(names) if names is not None else default_metrics():
        metric = METRICS.get(name)(device=device)
        why = metric.unavailable()
        if why is not None:
            unavailable[name] = why
            continue
        t0 = time.perf_counter()
        try:
            values[name] = float(metric(ref, dist))
        except TokcomError as e:
            unavailable[name] = str(e)
        if timing is not None:
            timing[f"metric_{name}_s"] = time.perf_counter() - t0
    return values, unavailable
