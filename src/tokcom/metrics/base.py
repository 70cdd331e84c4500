"""The metric interface and :func:`compute_metrics`.

Every metric compares two frame-aligned videos (same T, H, W) and returns one number, aggregated over
frames as its docstring states. Metrics that need weights report why they are unavailable instead of
failing the run (``result.json`` ``metrics_unavailable``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
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


class Metric(ABC):
    """A full-reference video quality metric.

    Class attributes:
        name: registry name and ``result.json`` key.
        higher_is_better: direction (BD-rate and plots use it).
        default: computed by ``tokcom run`` unless the user picks metrics.
    """

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    default: ClassVar[bool] = True

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def unavailable(self) -> str | None:
        """Why the metric cannot be computed here (missing weights, ...), or None when it can."""
        return None

    @abstractmethod
    def __call__(self, ref: Video | np.ndarray, dist: Video | np.ndarray) -> float:
        """The metric of ``dist`` against ``ref`` (frame-aligned ``[T,H,W,3]`` uint8)."""


def default_metrics() -> list[str]:
    return [e.name for e in METRICS.entries() if getattr(e.obj, "default", True)]


def compute_metrics(
    ref: Video | np.ndarray,
    dist: Video | np.ndarray,
    names: Iterable[str] | None = None,
    *,
    device: str = "cpu",
) -> tuple[dict[str, float], dict[str, str]]:
    """Compute metrics on a frame-aligned pair.

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
        try:
            values[name] = float(metric(ref, dist))
        except TokcomError as e:
            unavailable[name] = str(e)
    return values, unavailable
