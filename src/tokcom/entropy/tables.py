"""Deterministic integer probability tables (numpy only; no torch).

Every probability an entropy coder sees goes through :func:`quantize_pmf` first: float64 probabilities →
integer counts ``≥ 1`` that sum to exactly ``2**PRECISION_BITS``, by one fixed procedure (scale by
``T - n``, floor, add one, give the remainder to the first largest bin). Given the same float64 input the
counts are the same in every process, so encoder and decoder build identical coding distributions.

A :class:`QuantizedTables` is a family of tables selected by an integer index (the σ-index of the Gaussian
conditional, the channel of the factorized prior). Table ``k`` covers the integers
``offsets[k] … offsets[k] + len(counts[k]) - 2``; its last bin is the *escape* bin that every value outside
that range is coded with (followed by an exp-Golomb-style payload, see ``stream.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "PRECISION_BITS",
    "QuantizedTables",
    "gaussian_tables",
    "quantize_pmf",
    "scale_indexes",
    "scale_table",
]

#: Probability precision of the coding tables; constriction's range coder models 24-bit probabilities.
PRECISION_BITS = 24


def quantize_pmf(pmf: np.ndarray, precision_bits: int = PRECISION_BITS) -> np.ndarray:
    """Integer counts for probability rows, deterministically.

    Args:
        pmf: ``[..., n]`` non-negative weights (any float dtype; converted to float64). Non-finite or
            negative entries count as 0; an all-zero row becomes uniform.
        precision_bits: each row of the result sums to ``2**precision_bits``.

    Returns:
        ``[..., n]`` float64 array of integers, every entry ``≥ 1`` (so every symbol stays codable).
    """
    p = np.asarray(pmf, dtype=np.float64)
    n = p.shape[-1]
    total = float(1 << precision_bits)
    if n < 2 or n > total / 2:
        raise ValueError(f"a probability table needs 2 … 2**{precision_bits - 1} bins; got {n}")
    p = np.where(np.isfinite(p) & (p > 0), p, 0.0)
    s = p.sum(axis=-1, keepdims=True)
    p = np.where(s > 0, p / np.where(s > 0, s, 1.0), 1.0 / n)
    counts = np.floor(p * (total - n)) + 1.0  # each ≥ 1; row sum ≤ total
    rem = total - counts.sum(axis=-1, keepdims=True)  # in [0, n)
    top = np.argmax(counts, axis=-1)[..., None]
    np.put_along_axis(counts, top, np.take_along_axis(counts, top, axis=-1) + rem, axis=-1)
    return counts


@dataclass(frozen=True)
class QuantizedTables:
    """A family of integer tables, one per index ``k``.

    Attributes:
        offsets: ``[K]`` int64; table ``k`` codes the integer ``v`` as symbol ``v - offsets[k]``.
        counts: ``K`` float64 arrays of integer counts (sum ``2**PRECISION_BITS``); the last bin of each is
            the escape bin.
    """

    offsets: np.ndarray
    counts: tuple[np.ndarray, ...]
    _models: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.counts)

    def support(self, k: int) -> tuple[int, int]:
        """``(lo, hi)``: the inclusive range of values table ``k`` codes without escape."""
        lo = int(self.offsets[k])
        return lo, lo + len(self.counts[k]) - 2

    def model(self, k: int):
        """The constriction ``Categorical`` of table ``k`` (built once, then cached)."""
        m = self._models.get(k)
        if m is None:
            import constriction

            m = constriction.stream.model.Categorical(self.counts[k], perfect=False)
            self._models[k] = m
        return m

    def log2_prob(self, k: int, values: np.ndarray) -> np.ndarray:
        """``log2`` of the coded probability of integer ``values`` under table ``k`` (escape bin for
        out-of-range values; the escape payload is not included)."""
        c = self.counts[k]
        lo, hi = self.support(k)
        v = np.asarray(values, dtype=np.int64)
        sym = np.where((v < lo) | (v > hi), len(c) - 1, v - lo)
        return np.log2(c[sym] / c.sum())


def scale_table(scale_min: float = 0.11, scale_max: float = 256.0, levels: int = 64) -> np.ndarray:
    """``[levels]`` float64 σ values, log-spaced from ``scale_min`` to ``scale_max`` (CompressAI's
    ``get_scale_table`` defaults: 0.11, 256, 64)."""
    if not (0 < scale_min < scale_max) or levels < 2:
        raise ValueError(f"need 0 < scale_min < scale_max and levels ≥ 2; got {scale_min}, {scale_max}, {levels}")
    return np.exp(np.linspace(math.log(scale_min), math.log(scale_max), levels))


def scale_indexes(scales: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of the table σ nearest to each σ in the log domain (deterministic: float64 arithmetic).

    Args:
        scales: any shape, any float dtype; NaN counts as the largest σ, values are clipped to the table.
        table: ``[K]`` log-spaced σ values from :func:`scale_table`.

    Returns:
        int64 indexes, same shape as ``scales``.
    """
    s = np.nan_to_num(np.asarray(scales, dtype=np.float64), nan=table[-1], posinf=table[-1], neginf=table[0])
    s = np.clip(s, table[0], table[-1])
    lo = math.log(table[0])
    step = (math.log(table[-1]) - lo) / (len(table) - 1)
    idx = np.floor((np.log(s) - lo) / step + 0.5)
    return np.clip(idx, 0, len(table) - 1).astype(np.int64)


def gaussian_tables(table: np.ndarray, tail_mass: float = 1e-9) -> QuantizedTables:
    """Integer tables of the zero-mean discretised Gaussians ``N(0, σ_k²) * U(-½, ½)`` (eq. (13),
    002_165f6aebfafa3581.txt), one per σ of ``table``, each over ``[-L_k, L_k]`` with
    ``L_k = ceil(σ_k · Φ⁻¹(1 - tail_mass/2))`` plus the escape bin (the two tails' mass)."""
    from scipy.special import ndtr, ndtri

    mult = -float(ndtri(tail_mass / 2))
    offsets, counts = [], []
    for sigma in np.asarray(table, dtype=np.float64):
        half = max(1, math.ceil(sigma * mult))
        v = np.abs(np.arange(-half, half + 1, dtype=np.float64))
        pmf = ndtr((0.5 - v) / sigma) - ndtr((-0.5 - v) / sigma)  # symmetric form: precise in the tails
        tail = 2.0 * ndtr((-half - 0.5) / sigma)
        offsets.append(-half)
        counts.append(quantize_pmf(np.append(pmf, tail)))
    return QuantizedTables(np.asarray(offsets, dtype=np.int64), tuple(counts))
