"""A sweep sizes its worker pool to memory, and a point that cannot fit fails alone with one line."""

from __future__ import annotations

from tokcom.experiments.runner import (
    POINT_MEMORY_INTERCEPT,
    memory_plan,
    point_frames_shape,
    point_memory_bytes,
)
from tokcom.experiments.spec import Point


def _point(sample_path, frames=None, size=None, start=0):
    return Point(scheme="h265", input=str(sample_path), channel="awgn", seed=0, frames=frames, size=size, start=start)


def test_point_shape_from_spec_and_headers(sample_path):
    assert point_frames_shape(_point(sample_path, 10, "64x32")) == (10, 64, 32)
    n, w, h = point_frames_shape(_point(sample_path, start=5))
    assert w > 0 and h > 0 and n > 0
    assert point_frames_shape(_point(sample_path, start=5))[0] == point_frames_shape(_point(sample_path))[0] - 5
    assert point_memory_bytes(_point(sample_path, 10, "64x32")) == int(POINT_MEMORY_INTERCEPT + 2.5 * 10 * 64 * 32 * 3)


def test_workers_limited_by_memory_and_too_big_points_refused(sample_path):
    small = _point(sample_path, 10, "64x64")
    big = _point(sample_path, 100_000, "1920x1080")
    need = point_memory_bytes(small)
    assert memory_plan([small], 8, None) == (8, {})  # unknown memory: as asked
    workers, bad = memory_plan([small], 8, int(3.5 * need))
    assert workers == 3 and bad == {}
    workers, bad = memory_plan([small, big], 8, int(3.5 * need))
    assert workers == 3 and set(bad) == {big.key}
    assert "GiB" in bad[big.key] and "\n" not in bad[big.key]
    assert memory_plan([big], 2, need)[1]  # nothing fits: that point fails, the sweep does not
