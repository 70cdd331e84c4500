"""Pictures of intent for people (reports, ``tokcom run`` output): overlays and montages, uint8 RGB."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mask_overlay(frame: np.ndarray, mask: np.ndarray, color: Sequence[int] = (255, 40, 40),
                 alpha: float = 0.45) -> np.ndarray:
    """``frame`` ``[H, W, 3]`` uint8 with ``mask`` ``[H, W]`` tinted in ``color`` and outlined."""
    import cv2

    f = np.asarray(frame, np.float32).copy()
    m = np.asarray(mask, bool)
    col = np.asarray(color, np.float32)
    f[m] = (1 - alpha) * f[m] + alpha * col
    edge = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    f[edge] = col
    return np.clip(f + 0.5, 0, 255).astype(np.uint8)


def heatmap_overlay(frame: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """``frame`` with a normalised heatmap ``[h_p, w_p]`` in [0, 1] upsampled (nearest, eq. 5) in the jet
    colour map."""
    import cv2

    hgt, wid = frame.shape[:2]
    hm = np.clip(np.asarray(heat, np.float32), 0, 1)
    up = cv2.resize(hm, (wid, hgt), interpolation=cv2.INTER_NEAREST)
    col = cv2.applyColorMap((up * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1].astype(np.float32)
    out = (1 - alpha) * np.asarray(frame, np.float32) + alpha * col
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def montage(images: Sequence[np.ndarray], cols: int = 5, gap: int = 2) -> np.ndarray:
    """Tile equally sized ``[H, W, 3]`` uint8 images row by row on a white background."""
    if not images:
        return np.full((1, 1, 3), 255, np.uint8)
    h, w = images[0].shape[:2]
    cols = max(1, min(cols, len(images)))
    rows = -(-len(images) // cols)
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), 255, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = im
    return out
