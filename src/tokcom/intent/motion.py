"""Side information for the token classes (TokenCom §II-E, eq. 33, 000_cfad1eb21f67e2e2.txt).

The receiver needs S_τ to tell full-precision tokens from differential ones. It gets the first-frame token
mask S_0 (h·w bits) and, for every later token frame, one motion vector per ``g × g`` block of the token grid
(B_mv bits each); it rebuilds ``S_τ(i, j) = S_{τ−1}(i − dy, j − dx)`` with the vector of the block holding
``(i, j)`` (zero outside the grid).

The transmitter fits the vectors to the flow-propagated masks (block matching, fewest mismatches; ties go
to the shortest vector) and then *uses the rebuilt masks* for coding, so both ends agree bit for bit. The
agreement between the rebuilt and the flow-propagated masks is reported.
"""

from __future__ import annotations

import math

import numpy as np

from tokcom.errors import InputError


def mv_components(mv_bits: int) -> np.ndarray:
    """Values one vector component takes with ``mv_bits`` bits per vector (half per component):
    ``−2^(b−1) … 2^(b−1) − 1`` with ``b = mv_bits // 2``."""
    if mv_bits < 2 or mv_bits % 2 or mv_bits > 16:
        raise InputError(f"mv_bits must be an even number in 2..16; got {mv_bits}")
    b = mv_bits // 2
    return np.arange(-(1 << (b - 1)), 1 << (b - 1))


def _candidates(mv_bits: int) -> list[tuple[int, int]]:
    comp = mv_components(mv_bits)
    cands = [(int(dy), int(dx)) for dy in comp for dx in comp]
    return sorted(cands, key=lambda v: (abs(v[0]) + abs(v[1]), abs(v[0]), v))  # (0,0) first


def shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``out(i, j) = mask(i − dy, j − dx)``, zero where that falls outside."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
    return out


def num_blocks(h: int, w: int, block: int) -> tuple[int, int]:
    return math.ceil(h / block), math.ceil(w / block)


def fit_block_motion(target: np.ndarray, block: int = 4, mv_bits: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Block motion vectors that rebuild ``target`` from its first frame as well as possible.

    Args:
        target: ``[t, h, w]`` bool token masks (flow-propagated, eq. 8).
        block: g, the block size on the token grid.
        mv_bits: B_mv, bits per vector.

    Returns:
        ``(rebuilt [t, h, w] bool, mvs [t−1, nbh, nbw, 2] int64 (dy, dx))`` with ``rebuilt[0] = target[0]``.
    """
    tgt = np.asarray(target, dtype=bool)
    t, h, w = tgt.shape
    nbh, nbw = num_blocks(h, w, block)
    cands = _candidates(mv_bits)
    rebuilt = np.zeros_like(tgt)
    rebuilt[0] = tgt[0]
    mvs = np.zeros((max(t - 1, 0), nbh, nbw, 2), np.int64)
    pad_h, pad_w = nbh * block - h, nbw * block - w
    for tau in range(1, t):
        prev = rebuilt[tau - 1]
        shifted = np.stack([shift(prev, dy, dx) for dy, dx in cands])  # [C, h, w]
        err = (shifted != tgt[tau][None]).astype(np.int32)
        err = np.pad(err, ((0, 0), (0, pad_h), (0, pad_w)))
        per_block = err.reshape(len(cands), nbh, block, nbw, block).sum(axis=(2, 4))  # [C, nbh, nbw]
        best = np.argmin(per_block, axis=0)  # first minimum = shortest vector (candidate order)
        cand_arr = np.asarray(cands)
        mvs[tau - 1] = cand_arr[best]
        rebuilt[tau] = _assemble(shifted, best, block, h, w)
    return rebuilt, mvs


def _assemble(shifted: np.ndarray, choice: np.ndarray, block: int, h: int, w: int) -> np.ndarray:
    bi = np.minimum(np.arange(h) // block, choice.shape[0] - 1)
    bj = np.minimum(np.arange(w) // block, choice.shape[1] - 1)
    sel = choice[bi[:, None], bj[None, :]]  # [h, w] candidate per token
    return np.take_along_axis(shifted, sel[None], axis=0)[0]


def apply_block_motion(s0: np.ndarray, mvs: np.ndarray, block: int = 4, mv_bits: int = 6) -> np.ndarray:
    """The receiver's rebuild: ``[h, w]`` S_0 and ``[t−1, nbh, nbw, 2]`` vectors → ``[t, h, w]`` bool."""
    s0 = np.asarray(s0, dtype=bool)
    h, w = s0.shape
    mvs = np.asarray(mvs, np.int64)
    out = np.zeros((mvs.shape[0] + 1, h, w), dtype=bool)
    out[0] = s0
    bi = np.minimum(np.arange(h) // block, mvs.shape[1] - 1) if mvs.shape[0] else None
    bj = np.minimum(np.arange(w) // block, mvs.shape[2] - 1) if mvs.shape[0] else None
    for tau in range(1, out.shape[0]):
        vec = mvs[tau - 1]
        cur = np.zeros((h, w), dtype=bool)
        for dy, dx in {(int(a), int(b)) for a, b in vec.reshape(-1, 2)}:
            sel = (vec[bi[:, None], bj[None, :], 0] == dy) & (vec[bi[:, None], bj[None, :], 1] == dx)
            cur |= sel & shift(out[tau - 1], dy, dx)
        out[tau] = cur
    return out


def side_info_bits(t: int, h: int, w: int, block: int = 4, mv_bits: int = 6) -> int:
    """B_side = h·w (S_0) + (t−1)·⌈h/g⌉·⌈w/g⌉·B_mv (the numerator of eq. 33 times t·h·w)."""
    nbh, nbw = num_blocks(h, w, block)
    return h * w + (t - 1) * nbh * nbw * mv_bits


def side_info_ratio(t: int, rho_s: float, b_full: int, b_delta: int, block: int = 4, mv_bits: int = 6) -> float:
    """B_side / B_tokens as in eq. (33), 000_cfad1eb21f67e2e2.txt (blocks of g² tokens, grid divisible)."""
    return (1.0 / t + (t - 1) * mv_bits / (t * block * block)) / (rho_s * b_full + (1 - rho_s) * b_delta)
