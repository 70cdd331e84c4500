"""Order-0 adaptive coding of a sequence over a small alphabet (PVSC's rate map b_k, eq. (14),
002_165f6aebfafa3581.txt), in a :mod:`tokcom.entropy.stream` (numpy + constriction; no torch).

::

    symbols s_0 … s_{M−1} ∈ [0, n)
      ─► used-alphabet mask: n bits (which symbols occur; 1 bit each)
      ─► only when K ≥ 2 symbols occur, the symbols in blocks starting at b = 0, 1, 2, 4, 8, … (then every
         BLOCK symbols), each symbol with the Krichevsky–Trofimov estimate over the used symbols from the
         counts before its block:
            p(s_i = a) = (c_b(a) + ½) / (b + K/2),   c_b(a) = occurrences of a among s_0 … s_{b−1}

A constant sequence costs its mask alone (n bits); a noise-like one about its empirical entropy plus
(K − 1)/2 · log2 M bits of learning. Updating the counts per block instead of per symbol costs a few bits
and lets the decoder decode a block in one call (≈ log2 BLOCK + M / BLOCK calls instead of M: a 720p rate
map of 3600 units in 62). Both ends form the same float64 counts for constriction's ``Categorical`` with
``perfect=False``.
Measured on PVSC rate maps (docs/pvsc.md): 20–30 % fewer bits than DEFLATE of the 4-bit packed map.
"""

from __future__ import annotations

import numpy as np

from tokcom.entropy.stream import StreamReader, StreamWriter

__all__ = ["ALPHA", "adaptive_bits", "read_adaptive", "write_adaptive"]

ALPHA = 0.5  # Krichevsky–Trofimov
BLOCK = 64  # the longest block coded with one set of counts


def _block_starts(m: int) -> np.ndarray:
    """Start of each block for M symbols: 0, 1, 2, 4, …, BLOCK, 2·BLOCK, … (< M)."""
    starts = [0]
    while starts[-1] < m:
        b = starts[-1]
        starts.append(b + min(max(b, 1), BLOCK))
    return np.asarray(starts[:-1], np.int64)


def _used(symbols: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(mask ``[n]`` int32 of the symbols that occur, each symbol's rank among them ``[M]``)."""
    mask = np.zeros(n, np.int32)
    mask[symbols] = 1
    rank = np.cumsum(mask) - 1
    return mask, rank[symbols]


def _counts_before(ranks: np.ndarray, k: int) -> np.ndarray:
    """``[M, K]`` float64: α + the occurrences of each used symbol before the start of position i's block."""
    onehot = np.zeros((ranks.size, k), np.float64)
    onehot[np.arange(ranks.size), ranks] = 1.0
    before = np.cumsum(onehot, axis=0) - onehot  # counts before position i
    starts = _block_starts(ranks.size)
    first = starts[np.searchsorted(starts, np.arange(ranks.size), side="right") - 1]
    return before[first] + ALPHA


def _check(symbols: np.ndarray, n: int) -> np.ndarray:
    s = np.asarray(symbols, np.int64).ravel()
    if not 1 <= int(n) <= 256:
        raise ValueError(f"alphabet size must be in 1..256; got {n}")
    if s.size and (int(s.min()) < 0 or int(s.max()) >= n):
        raise ValueError(f"symbols must lie in [0, {n})")
    return s


def adaptive_bits(symbols: np.ndarray, n: int) -> float:
    """The ideal code length in bits of :func:`write_adaptive` (mask + Σ −log2 p; the range coder adds at
    most a few bits and rounds the stream to 32-bit words)."""
    s = _check(symbols, n)
    if s.size == 0:
        return 0.0
    mask, ranks = _used(s, n)
    k = int(mask.sum())
    if k < 2:
        return float(n)
    c = _counts_before(ranks, k)
    p = c[np.arange(s.size), ranks] / c.sum(axis=1)
    return float(n - np.log2(p).sum())


def write_adaptive(writer: StreamWriter, symbols: np.ndarray, n: int) -> None:
    """Append ``symbols`` ``[M]`` (integers in ``[0, n)``) to ``writer``; the reader must know M and n."""
    s = _check(symbols, n)
    if s.size == 0:
        return
    mask, ranks = _used(s, n)
    writer.categorical(mask, np.ones((n, 2)))
    k = int(mask.sum())
    if k >= 2:
        writer.categorical(ranks, _counts_before(ranks, k))


def read_adaptive(reader: StreamReader, count: int, n: int) -> np.ndarray:
    """The ``count`` symbols :func:`write_adaptive` appended, int64 (zeros where decoding failed; the
    reader's ``ok`` says so). Never raises on bad data."""
    out = np.zeros(int(count), np.int64)
    if count <= 0:
        return out
    mask = reader.categorical(np.ones((n, 2)))
    used = np.flatnonzero(mask == 1)
    k = used.size
    if k == 0:
        return out
    if k == 1:
        out[:] = used[0]
        return out
    counts = np.full(k, ALPHA)
    starts = _block_starts(out.size)
    ends = np.append(starts[1:], out.size)
    for a, b in zip(starts, ends):
        r = np.clip(reader.categorical(np.tile(counts, (int(b - a), 1))), 0, k - 1)
        out[a:b] = used[r]
        counts += np.bincount(r, minlength=k)
    return out
