"""Finite scalar quantisation (FSQ; Mentzer et al. 2023, as used by the Cosmos DV tokenizers, paper 000).

Each of the ``D = len(levels)`` latent channels is bounded to ``levels[i]`` values and rounded with a
straight-through gradient. A code vector is one token; its index is the mixed-radix number of the per-channel
level indices (first channel least significant), so ``levels = (8, 8, 8, 5, 5, 5)`` gives
``8·8·8·5·5·5 = 64000`` tokens (16 bits) and ``(8, 8, 8, 8)`` gives 4096 tokens (12 bits).

Code values are normalised to ``[-1, 1]``: channel ``i`` takes the values ``(k - L_i//2) / (L_i//2)`` for
``k = 0 .. L_i-1`` (even ``L_i`` is asymmetric: ``-1 … 1 - 2/L_i``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["FSQ"]


class FSQ(nn.Module):
    """Finite scalar quantiser over channel dimension 1.

    Args:
        levels: number of levels per latent channel.
        eps: margin keeping the bounded value strictly inside the outer rounding cells.
    """

    def __init__(self, levels: Sequence[int], eps: float = 1e-3) -> None:
        super().__init__()
        lv = [int(v) for v in levels]
        if not lv or min(lv) < 2:
            raise ValueError(f"FSQ levels must be ≥ 2; got {levels}")
        self.levels = tuple(lv)
        self.eps = eps
        basis = [1]
        for v in lv[:-1]:
            basis.append(basis[-1] * v)
        self.register_buffer("_levels", torch.tensor(lv, dtype=torch.int64), persistent=False)
        self.register_buffer("_basis", torch.tensor(basis, dtype=torch.int64), persistent=False)

    @property
    def dim(self) -> int:
        return len(self.levels)

    @property
    def codebook_size(self) -> int:
        return math.prod(self.levels)

    def _view(self, t: torch.Tensor, ndim: int) -> torch.Tensor:
        return t.view(1, -1, *([1] * (ndim - 2)))

    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """Squash ``z`` ``[B, D, ...]`` into each channel's level range (unnormalised, before rounding)."""
        lv = self._view(self._levels, z.ndim).to(z.dtype)
        half_l = (lv - 1) * (1 - self.eps) / 2
        offset = torch.where(self._view(self._levels, z.ndim) % 2 == 0, 0.5, 0.0).to(z.dtype)
        shift = torch.atanh(offset / half_l)
        return torch.tanh(z + shift) * half_l - offset

    def _half_width(self, ndim: int, dtype: torch.dtype) -> torch.Tensor:
        return self._view(torch.div(self._levels, 2, rounding_mode="floor"), ndim).to(dtype)

    def continuous(self, z: torch.Tensor) -> torch.Tensor:
        """The bounded, normalised pre-quantisation latent ``[B, D, ...]`` (same scale as the codes)."""
        return self.bound(z) / self._half_width(z.ndim, z.dtype)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantise ``z`` ``[B, D, ...]`` float → ``(codes [B, D, ...] float in [-1, 1], indices [B, ...] int64)``.

        Rounding uses a straight-through gradient, so the module trains end to end.
        """
        b = self.bound(z)
        q = b + (torch.round(b) - b).detach()
        codes = q / self._half_width(z.ndim, z.dtype)
        return codes, self.codes_to_indices(codes)

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """``[B, D, ...]`` normalised codes → ``[B, ...]`` int64 indices in ``[0, codebook_size)``."""
        hw = self._half_width(codes.ndim, torch.float32)
        k = torch.round(codes.detach().float() * hw + hw).to(torch.int64)
        k = torch.minimum(k.clamp_min(0), self._view(self._levels, codes.ndim) - 1)
        return (k * self._view(self._basis, codes.ndim)).sum(1)

    def indices_to_codes(self, indices: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``[B, ...]`` int64 indices → ``[B, D, ...]`` normalised codes."""
        idx = indices.to(torch.int64).unsqueeze(1)
        nd = idx.ndim
        k = torch.div(idx, self._view(self._basis, nd), rounding_mode="floor") % self._view(self._levels, nd)
        hw = self._half_width(nd, torch.float32)
        return ((k.float() - hw) / hw).to(dtype)
