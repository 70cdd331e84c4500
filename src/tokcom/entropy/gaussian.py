"""Gaussian conditional: code ``round(y - μ)`` with a zero-mean discretised Gaussian chosen from a σ table.

The model of eqs. (12)-(13), 002_165f6aebfafa3581.txt (and TVC §3.2.1, 003_299bbe4b0e9ae1eb.txt), shaped
like CompressAI's ``GaussianConditional``: the means are applied outside the coder, σ selects one of
``levels`` log-spaced tables (0.11 … 256). Departure: σ goes to the *nearest* table entry in the log domain
(CompressAI rounds up), which halves the worst-case σ mismatch.

::

    y ──(-μ)──► round ──► q (int) ──► range coder with table[index(σ)] ──► bytes
    bytes ──► range decoder with table[index(σ)] ──► q ──(+μ)──► ŷ
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tokcom.entropy.base import (
    Decompressed,
    EntropyOutput,
    check_data,
    check_finite,
    gaussian_likelihood,
    lower_bound,
    quantize,
)
from tokcom.entropy.stream import MAX_ABS_VALUE, StreamReader, StreamWriter, stream_key
from tokcom.entropy.tables import QuantizedTables, gaussian_tables, scale_indexes, scale_table
from tokcom.errors import InputError

__all__ = ["GaussianConditional"]


class GaussianConditional(nn.Module):
    """Conditional Gaussian entropy model with a σ scale table.

    Args:
        scale_min, scale_max, levels: the log-spaced σ table (CompressAI defaults 0.11, 256, 64).
        tail_mass: probability mass outside each table's support (coded through the escape bin).
        likelihood_bound: floor of training-path likelihoods.
        scale_bound: floor of σ in the training path (default ``scale_min``).
    """

    def __init__(
        self,
        scale_min: float = 0.11,
        scale_max: float = 256.0,
        levels: int = 64,
        tail_mass: float = 1e-9,
        likelihood_bound: float = 1e-9,
        scale_bound: float | None = None,
    ) -> None:
        super().__init__()
        self.scale_table = scale_table(scale_min, scale_max, levels)
        self.tail_mass = float(tail_mass)
        self.likelihood_bound = float(likelihood_bound)
        self.scale_bound = float(scale_min if scale_bound is None else scale_bound)
        self._tables: QuantizedTables | None = None

    def tables(self) -> QuantizedTables:
        """The integer coding tables, one per table σ (built once; pure function of the configuration)."""
        if self._tables is None:
            self._tables = gaussian_tables(self.scale_table, self.tail_mass)
        return self._tables

    def likelihood(self, values: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None):
        """``P(values)`` per element (same shape), σ lower-bounded by ``scale_bound``."""
        mu = torch.zeros_like(values) if means is None else means
        return gaussian_likelihood(values, mu, lower_bound(scales, self.scale_bound), self.likelihood_bound)

    def forward(
        self,
        y: torch.Tensor,
        scales: torch.Tensor,
        means: torch.Tensor | None = None,
        mode: str = "noise",
        generator: torch.Generator | None = None,
    ) -> EntropyOutput:
        """Training path.

        Args:
            y: any shape, float.
            scales, means: broadcastable to ``y`` (σ need not be positive: it is lower-bounded).
            mode: ``"noise"``, ``"ste"`` or ``"round"`` (see :func:`tokcom.entropy.base.quantize`).
        """
        values = quantize(y, mode, means, generator)
        return EntropyOutput(values, self.likelihood(values, scales, means))

    def indexes(self, scales: torch.Tensor) -> np.ndarray:
        """Table index per element (int64 array, shape of ``scales``): the log-nearest table σ."""
        return scale_indexes(scales.detach().to("cpu", torch.float32).numpy(), self.scale_table)

    # -- coding ----------------------------------------------------------------------------------------
    def residuals(self, y: torch.Tensor, means: torch.Tensor | None = None) -> np.ndarray:
        """``round(y - μ)`` as int64, computed in float32 on CPU (same shape as ``y``)."""
        r = y.detach().to("cpu", torch.float32)
        if means is not None:
            r = r - means.detach().to("cpu", torch.float32).expand_as(r)
        check_finite(r, "y - μ")
        q = torch.round(r).to(torch.int64).numpy()
        if q.size and int(np.abs(q).max()) > MAX_ABS_VALUE:
            raise InputError(f"|y - μ| must stay below {MAX_ABS_VALUE} to be coded")
        return q

    def write(self, writer: StreamWriter, q: np.ndarray, idx: np.ndarray) -> None:
        """Append integer residuals ``q`` with table indexes ``idx`` (same size) to ``writer``."""
        writer.indexed(q, idx, self.tables())

    def read(self, reader: StreamReader, idx: np.ndarray) -> np.ndarray:
        """Read the residuals written by :meth:`write` for indexes ``idx`` (int64, shape of ``idx``)."""
        return reader.indexed(idx, self.tables()).reshape(np.shape(idx))

    def compress(self, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None) -> bytes:
        """Code ``round(y - μ)``.

        Args:
            y: any shape, float.
            scales, means: together they broadcast to exactly ``y``'s shape (the decoder derives the
                shape from them); the decoder must pass bit-identical ones.
        """
        shape = torch.broadcast_shapes(scales.shape, means.shape) if means is not None else scales.shape
        if tuple(shape) != tuple(y.shape):
            raise InputError(f"scales/means broadcast to {tuple(shape)}, not to y's {tuple(y.shape)}")
        q = self.residuals(y, means)
        idx = self.indexes(scales.expand_as(y))
        w = StreamWriter()
        self.write(w, q, idx)
        return w.finish(stream_key("gaussian", tuple(y.shape)))

    def decompress(self, data: bytes, scales: torch.Tensor, means: torch.Tensor | None = None) -> Decompressed:
        """``ŷ = q + μ`` (float32, shape and device of ``scales`` broadcast with ``means``); never raises on
        corrupted or truncated data (``ok`` is then False)."""
        data = check_data(data)
        shape = torch.broadcast_shapes(scales.shape, means.shape) if means is not None else scales.shape
        idx = self.indexes(scales.expand(shape))
        reader = StreamReader(data, stream_key("gaussian", tuple(shape)))
        q = self.read(reader, idx)
        return Decompressed(self.dequantize(q, means, shape).to(scales.device), reader.ok)

    @staticmethod
    def dequantize(q: np.ndarray, means: torch.Tensor | None, shape) -> torch.Tensor:
        """``q + μ`` in float32 on CPU (the one place a decoder and an encoder reconstruct ``ŷ``)."""
        v = torch.from_numpy(np.asarray(q, dtype=np.int64)).reshape(shape).to(torch.float32)
        if means is not None:
            v = v + means.detach().to("cpu", torch.float32).expand(shape)
        return v
