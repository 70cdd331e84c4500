"""PVSC pictures for people: the per-frame rate maps k_t (eq. 14) over the frames they code.

::

    k_t [H/16, W/16] (rate-set values, 0 … max rate) ─► / max rate ─► jet colour map, nearest upsampling
    ─► blended over frame t (scaled to ≤ TILE_WIDTH px wide) ─► montage of up to MAX_PICTURED frames
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tokcom.intent.render import heatmap_overlay, montage

MAX_PICTURED = 8
"""Frames shown in the rate-map picture (evenly spaced over the sent frames)."""
TILE_WIDTH = 256
"""Tiles wider than this are scaled down (a 1080p run keeps a small picture)."""


def pictured_frames(sent: Sequence[int], limit: int = MAX_PICTURED) -> list[int]:
    """Up to ``limit`` frame indices evenly spaced over ``sent`` (sorted, unique)."""
    s = sorted({int(t) for t in sent})
    if len(s) <= limit:
        return s
    return [s[i] for i in np.unique(np.linspace(0, len(s) - 1, limit).round().astype(int))]


def rate_map_picture(frames: np.ndarray, kmaps: Mapping[int, np.ndarray], rates: Sequence[int]) -> np.ndarray:
    """A montage of rate maps over their frames.

    Args:
        frames: the source ``[T, H, W, 3]`` uint8.
        kmaps: ``frame index → rate map`` as indices into ``rates`` (``[h, w]`` uint8, the sent b_k), for
            the frames to show.
        rates: the model's rate set (k values; the colour scale runs from 0 to its maximum).

    Returns:
        ``[H', W', 3]`` uint8 (white when nothing was sent).
    """
    import cv2

    lut = np.asarray(rates, np.float32)
    kmax = float(max(lut.max(), 1.0))
    tiles = []
    for t in sorted(kmaps):
        frame = np.asarray(frames[t])
        k = lut[np.clip(np.asarray(kmaps[t], np.int64), 0, len(lut) - 1)] / kmax
        hgt, wid = frame.shape[:2]
        # the rate map covers the padded frame (multiples of 64): crop it to the frame's units
        gh, gw = -(-hgt // 16), -(-wid // 16)
        tile = heatmap_overlay(frame, k[:gh, :gw], alpha=0.55)
        if wid > TILE_WIDTH:
            tile = cv2.resize(tile, (TILE_WIDTH, max(1, round(hgt * TILE_WIDTH / wid))), interpolation=cv2.INTER_AREA)
        tile = np.ascontiguousarray(tile)
        cv2.putText(tile, f"t={t}", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    return montage(tiles, cols=4)
