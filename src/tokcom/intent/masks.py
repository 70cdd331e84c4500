"""First-frame intent regions given directly: a box (``--intent-box x0,y0,x1,y1``) or a mask image
(``--intent-mask PNG``), in pixel coordinates of the processed frames (after ``--start/--frames/--size``).

These replace the CLIP heatmap of TokenCom §II-B-1 (eqs. 1–5, 000_cfad1eb21f67e2e2.txt) when no
vision–language model is available (offline), or when the user knows the region.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tokcom.errors import InputError


def parse_box(value: str | Sequence[float]) -> tuple[float, float, float, float]:
    """``"x0,y0,x1,y1"`` or four numbers → a tuple of four floats (pixels of the processed frames).

    Raises:
        InputError: not four numbers.
    """
    items = value.replace(" ", "").split(",") if isinstance(value, str) else value
    try:
        box = tuple(float(x) for x in items)
    except (TypeError, ValueError):
        raise InputError(f"--intent-box must be x0,y0,x1,y1; got {value!r}") from None
    if len(box) != 4:
        raise InputError(f"--intent-box must be x0,y0,x1,y1; got {value!r}")
    return box  # type: ignore[return-value]


def box_mask(box: Sequence[float], height: int, width: int) -> np.ndarray:
    """``[H, W]`` bool mask of the half-open pixel box ``x0 ≤ x < x1, y0 ≤ y < y1`` (clipped to the frame).

    Raises:
        InputError: not four numbers, x1 ≤ x0 or y1 ≤ y0, or the box misses the frame entirely.
    """
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise InputError(f"--intent-box must be x0,y0,x1,y1; got {box!r}") from None
    if not (x1 > x0 and y1 > y0):
        raise InputError(f"--intent-box needs x1 > x0 and y1 > y0; got {x0:g},{y0:g},{x1:g},{y1:g}")
    xa, xb = int(np.clip(np.floor(x0), 0, width)), int(np.clip(np.ceil(x1), 0, width))
    ya, yb = int(np.clip(np.floor(y0), 0, height)), int(np.clip(np.ceil(y1), 0, height))
    if xb <= xa or yb <= ya:
        raise InputError(f"--intent-box {x0:g},{y0:g},{x1:g},{y1:g} lies outside the {width}x{height} frames")
    m = np.zeros((height, width), dtype=bool)
    m[ya:yb, xa:xb] = True
    return m


def load_mask(path: str | Path, height: int, width: int) -> np.ndarray:
    """``[H, W]`` bool mask from an image file (PNG/JPEG/...): nonzero pixels (any channel) are intended.

    A mask of another size is resized (nearest neighbour) to ``height × width`` — give it at the processed
    size to avoid that.

    Raises:
        InputError: missing/unreadable file, or a mask with no intended pixel.
    """
    import cv2

    p = Path(path)
    if not p.is_file():
        raise InputError(f"--intent-mask {p}: no such file")
    img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise InputError(f"--intent-mask {p}: not a readable image")
    if img.ndim == 3:
        img = img.max(axis=2)
    if img.shape != (height, width):
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_NEAREST)
    m = img > 0
    if not m.any():
        raise InputError(f"--intent-mask {p}: the mask has no nonzero (intended) pixel")
    return m
