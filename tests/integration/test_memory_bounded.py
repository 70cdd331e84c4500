"""Memory bounded by design: a clip four times longer costs at most its extra raw bytes (input and
reconstruction, plus slack) — never float copies of the whole video — for every registered scheme, with the
default metrics. Measured in-process with tracemalloc (numpy's allocations), so CI can run it."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from tokcom.link.base import build_link
from tokcom.pipeline import simulate
from tokcom.registry import SCHEMES
from tokcom.schemes.base import build_scheme
from tokcom.types import Rate, Video

pytest.importorskip("torch")
SHORT, LONG, SIDE = 150, 600, 64


def _clip(n: int) -> Video:
    """A synthetic clip with motion and texture (a drifting pattern plus a moving square), deterministic."""
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    t = np.arange(n)[:, None, None]
    base = (128 + 60 * np.sin((x[None] + 2 * t) / 6.0) * np.cos((y[None] - t) / 9.0)).astype(np.float32)
    frames = np.repeat(base[..., None], 3, axis=-1)
    frames[..., 1] *= 0.8
    for k in range(n):
        p = (3 * k) % (SIDE - 16)
        frames[k, p:p + 16, p:p + 16] = (220, 40, 40)
    return Video(np.clip(frames, 0, 255).astype(np.uint8), 25.0, source="synthetic")


def _peak(scheme_name: str, video: Video) -> int:
    scheme = build_scheme(scheme_name, dict(SCHEMES.get(scheme_name).example_options))
    gc.collect()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    r = simulate(scheme, video, build_link("awgn", {"snr_db": 6.0}), 0, rate=Rate(cbr=0.05))
    peak = tracemalloc.get_traced_memory()[1] - base
    assert r.frames == video.num_frames
    del r
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("scheme_name", SCHEMES.list())
def test_peak_memory_does_not_grow_with_float_copies_of_the_clip(scheme_name):
    short, long_ = _clip(SHORT), _clip(LONG)
    tracemalloc.start()
    try:
        _peak(scheme_name, short)  # warm-up: networks, caches and lazy imports are not the clip's
        p_short = _peak(scheme_name, short)
        p_long = _peak(scheme_name, long_)
    finally:
        tracemalloc.stop()
    raw_extra = (LONG - SHORT) * SIDE * SIDE * 3
    grew = p_long - p_short
    # the input exists before the run (not traced): the reconstruction (1×) plus slack (0.5×) may grow with
    # the clip; a float32 copy of the clip alone would add 4× its raw bytes
    assert grew <= 1.5 * raw_extra + (4 << 20), (scheme_name, round(grew / raw_extra, 2))
