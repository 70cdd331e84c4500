"""Factorized prior for hyper-latents: one learned non-parametric density per channel.

Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a scale hyperprior", ICLR 2018,
appendix 6.1 — the model CompressAI calls ``EntropyBottleneck``; it codes ``ẑ`` of eqs. (8)-(9),
002_165f6aebfafa3581.txt. The cumulative ``c(x)`` of each channel is a monotone chain of 1-D layers
(``softplus`` matrices, biases, ``tanh`` gates) ending in a logit; ``P(v) = σ(c(v + ½)) - σ(c(v - ½))``.

Departures from CompressAI: values are rounded to integers (no learned median offset) and the coding
support of each channel is found by bisection on ``c`` at table-build time (no auxiliary quantile loss).
Tables are rebuilt whenever the parameters change (keyed by a hash of their bytes) and are computed in
float64 on CPU, so an encoder and a decoder holding the same weights build the same tables.

::

    z ──round──► ẑ (int) ──► range coder with table[channel] ──► bytes ──► range decoder ──► ẑ
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom.entropy.base import Decompressed, EntropyOutput, check_data, check_finite, lower_bound, quantize
from tokcom.entropy.stream import MAX_ABS_VALUE, StreamReader, StreamWriter, stream_key
from tokcom.entropy.tables import QuantizedTables, quantize_pmf
from tokcom.errors import InputError

__all__ = ["FactorizedPrior"]

_SEARCH = float(1 << 16)  # bisection bracket for the support


class FactorizedPrior(nn.Module):
    """Per-channel learned density over channel dimension 1.

    Args:
        channels: number of channels ``C``; inputs are ``[B, C, *]`` (any trailing dims).
        filters: hidden widths of the density chain (Ballé 2018: ``(3, 3, 3)``; CompressAI ``(3, 3, 3, 3)``).
        init_scale: initial spread of the density.
        tail_mass: probability outside a channel's coding support (coded through the escape bin).
        likelihood_bound: floor of training-path likelihoods.
        max_support: largest number of integers a channel's table covers.
    """

    def __init__(
        self,
        channels: int,
        filters: Sequence[int] = (3, 3, 3, 3),
        init_scale: float = 10.0,
        tail_mass: float = 1e-9,
        likelihood_bound: float = 1e-9,
        max_support: int = 4096,
    ) -> None:
        super().__init__()
        if channels < 1:
            raise InputError(f"channels must be ≥ 1; got {channels}")
        self.channels = int(channels)
        self.tail_mass = float(tail_mass)
        self.likelihood_bound = float(likelihood_bound)
        self.max_support = int(max_support)
        widths = (1, *(int(f) for f in filters), 1)
        scale = float(init_scale) ** (1.0 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(widths) - 1):
            init = math.log(math.expm1(1.0 / scale / widths[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, widths[i + 1], widths[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, widths[i + 1], 1) - 0.5))
            if i < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[i + 1], 1)))
        self._cache: tuple[str, QuantizedTables] | None = None

    # -- density ---------------------------------------------------------------------------------------
    def _params(self, dtype: torch.dtype | None = None) -> list[list[torch.Tensor]]:
        groups = [list(self.matrices), list(self.biases), list(self.factors)]
        if dtype is None:
            return groups
        return [[p.detach().to("cpu", dtype) for p in g] for g in groups]

    @staticmethod
    def _logits(x: torch.Tensor, params: list[list[torch.Tensor]]) -> torch.Tensor:
        """Cumulative logits ``c(x)``; ``x``: ``[C, 1, N]`` → ``[C, 1, N]``."""
        matrices, biases, factors = params
        h = x
        for i, (m, b) in enumerate(zip(matrices, biases)):
            h = torch.matmul(F.softplus(m), h) + b
            if i < len(factors):
                h = h + torch.tanh(factors[i]) * torch.tanh(h)
        return h

    @staticmethod
    def _interval(lo_logit: torch.Tensor, hi_logit: torch.Tensor) -> torch.Tensor:
        """``σ(hi) - σ(lo)`` computed on the side where it does not cancel (both logits mirrored when
        their sum is positive)."""
        s = torch.where(lo_logit + hi_logit > 0, -1.0, 1.0).to(lo_logit.dtype).detach()
        return torch.abs(torch.sigmoid(s * hi_logit) - torch.sigmoid(s * lo_logit))

    def likelihood(self, values: torch.Tensor) -> torch.Tensor:
        """``P(values)`` per element; ``values``: ``[B, C, *]`` float → same shape."""
        self._check_channels(values)
        x = values.transpose(0, 1).reshape(self.channels, 1, -1)
        p = self._interval(self._logits(x - 0.5, self._params()), self._logits(x + 0.5, self._params()))
        p = lower_bound(p, self.likelihood_bound)
        moved = (values.shape[1], values.shape[0], *values.shape[2:])
        return p.reshape(moved).transpose(0, 1)

    def forward(self, z: torch.Tensor, mode: str = "noise", generator: torch.Generator | None = None):
        """Training path: ``z`` ``[B, C, *]`` → :class:`EntropyOutput` (``ẑ`` and its likelihoods)."""
        values = quantize(z, mode, None, generator)
        return EntropyOutput(values, self.likelihood(values))

    def _check_channels(self, z: torch.Tensor) -> None:
        if z.ndim < 2 or z.shape[1] != self.channels:
            raise InputError(f"expected [B, {self.channels}, ...]; got {tuple(z.shape)}")

    # -- tables ----------------------------------------------------------------------------------------
    def _param_hash(self) -> str:
        h = hashlib.sha256()
        for g in self._params(torch.float32):
            for p in g:
                h.update(p.contiguous().numpy().tobytes())
        return h.hexdigest()

    def tables(self) -> QuantizedTables:
        """One integer table per channel over its support ``[lo_c, hi_c]`` plus the escape bin; float64,
        CPU, rebuilt when the parameters change."""
        key = self._param_hash()
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        with torch.no_grad():
            params = self._params(torch.float64)
            c = self.channels
            t = self.tail_mass / 2
            target = torch.tensor([math.log(t / (1 - t)), math.log((1 - t) / t)], dtype=torch.float64)
            a = torch.full((c, 1, 2), -_SEARCH, dtype=torch.float64)
            b = torch.full((c, 1, 2), _SEARCH, dtype=torch.float64)
            for _ in range(60):  # bisection on the monotone c(x) for the two tail quantiles
                mid = 0.5 * (a + b)
                below = self._logits(mid, params) < target
                a = torch.where(below, mid, a)
                b = torch.where(below, b, mid)
            lo = torch.floor(a[:, 0, 0]).to(torch.int64)
            hi = torch.ceil(b[:, 0, 1]).to(torch.int64)
            offsets, counts = [], []
            for ch in range(c):
                lo_c, hi_c = int(lo[ch]), max(int(hi[ch]), int(lo[ch]) + 1)
                if hi_c - lo_c + 1 > self.max_support:
                    mid_c = (lo_c + hi_c) // 2
                    lo_c, hi_c = mid_c - self.max_support // 2, mid_c - self.max_support // 2 + self.max_support - 1
                one = [[m[ch : ch + 1] for m in g] for g in params]
                v = torch.arange(lo_c, hi_c + 1, dtype=torch.float64).view(1, 1, -1)
                pmf = self._interval(self._logits(v - 0.5, one), self._logits(v + 0.5, one)).ravel()
                edges = self._logits(torch.tensor([[[lo_c - 0.5, hi_c + 0.5]]], dtype=torch.float64), one)
                tail = torch.sigmoid(edges[0, 0, 0]) + torch.sigmoid(-edges[0, 0, 1])
                offsets.append(lo_c)
                counts.append(quantize_pmf(np.append(pmf.numpy(), float(tail))))
        tables = QuantizedTables(np.asarray(offsets, dtype=np.int64), tuple(counts))
        self._cache = (key, tables)
        return tables

    # -- coding ----------------------------------------------------------------------------------------
    def _channel_index(self, shape: tuple[int, ...]) -> np.ndarray:
        ch = np.arange(self.channels, dtype=np.int64).reshape(1, -1, *([1] * (len(shape) - 2)))
        return np.broadcast_to(ch, shape).ravel()

    def compress(self, z: torch.Tensor) -> bytes:
        """Code ``round(z)``; ``z``: ``[B, C, *]`` float (or integer)."""
        w = StreamWriter()
        self.write(w, z)
        return w.finish(stream_key("factorized", tuple(z.shape)))

    def write(self, writer: StreamWriter, z: torch.Tensor) -> None:
        """Append ``round(z)`` to a stream shared with other segments (read back with :meth:`read`)."""
        self._check_channels(z)
        check_finite(z.float(), "z")
        q = torch.round(z.detach().to("cpu", torch.float32)).to(torch.int64).numpy()
        if q.size and int(np.abs(q).max()) > MAX_ABS_VALUE:
            raise InputError(f"|z| must stay below {MAX_ABS_VALUE} to be coded")
        writer.indexed(q.ravel(), self._channel_index(q.shape), self.tables())

    def decompress(self, data: bytes, shape: Sequence[int]) -> Decompressed:
        """``ẑ`` float32 ``shape`` (``[B, C, *]``) on CPU; never raises on corrupted or truncated data."""
        data = check_data(data)
        shape = self._check_shape(shape)
        reader = StreamReader(data, stream_key("factorized", shape))
        return Decompressed(self.read(reader, shape), reader.ok)

    def read(self, reader: StreamReader, shape: Sequence[int]) -> torch.Tensor:
        """The segment :meth:`write` appended: ``ẑ`` float32 ``shape`` on CPU (zeros where decoding failed;
        ``reader.ok`` says whether it did)."""
        shape = self._check_shape(shape)
        q = reader.indexed(self._channel_index(shape), self.tables())
        return torch.from_numpy(q).reshape(shape).to(torch.float32)

    def _check_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2 or shape[1] != self.channels or min(shape) < 0:
            raise InputError(f"shape must be [B, {self.channels}, ...]; got {shape}")
        return shape
