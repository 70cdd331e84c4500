"""Helpers of the metric tests: real clips from ../shared/data (skipped when absent), weight checks."""

from pathlib import Path

import numpy as np
import pytest

DATA = (Path(__file__).parents[3] / "../shared/data").resolve()
HERE = Path(__file__).parent / "data"


def read_clip(name: str, n: int, step: int = 1, crop=None) -> np.ndarray:
    """The first ``n`` decoded frames (every ``step``-th) of ``DATA/name`` as uint8 RGB ``[T,H,W,3]``."""
    import av

    p = DATA / name
    if not p.is_file():
        pytest.skip(f"{p} not available")
    out = []
    with av.open(str(p)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % step:
                continue
            a = f.to_ndarray(format="rgb24")
            out.append(a if crop is None else a[crop])
            if len(out) == n:
                break
    return np.stack(out)


def needs_weights(*names: str):
    from tokcom import models

    missing = [n for n in names if not models.is_cached(n)]
    why = f"weights not cached: run tokcom models fetch {' '.join(missing)}"
    return pytest.mark.skipif(bool(missing), reason=why)
