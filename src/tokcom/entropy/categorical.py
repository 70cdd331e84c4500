"""Categorical checkerboard model for discrete FSQ code maps (lossless).

TVC §3.2.2, 003_299bbe4b0e9ae1eb.txt: the FSQ *code map* is coded (one small alphabet per code dimension,
e.g. levels (8, 8, 8, 5, 5, 5)), not the 64000-way token index, with a checkerboard context model (He et al.
2021, TVC ref. [9]); only visible tokens (the 3-D mask of eq. (1)) are sent.

::

    context (optional side information, e.g. the continuous stream ŷ_C, TVC §3.2.3) ─┐
         │ 1×1 ──► anchor logits (Σ levels channels) ──► code anchors ((h + w) even) │
         ▼                                                                          ▼
    one-hot(anchor codes) ⊕ anchor mask ──► 5×5 conv ──► ⊕ context ──► 1×1 ─► 1×1 ──► Δ logits
         non-anchor logits = anchor logits + Δ  ──► code non-anchors ((h + w) odd)

Each dimension ``d`` gets a softmax over its ``levels[d]`` values; probabilities are taken in float64 from
float32 logits computed on CPU with one thread, then quantised to integers (:func:`quantize_pmf`) before
they reach the coder, so the decoder rebuilds exactly the encoder's tables.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom.entropy.base import Decompressed, EntropyOutput, check_data, deterministic_cpu
from tokcom.entropy.checkerboard import anchor_mask
from tokcom.entropy.stream import StreamReader, StreamWriter, stream_key
from tokcom.entropy.tables import quantize_pmf
from tokcom.errors import InputError

__all__ = ["CheckerboardCategorical", "fsq_to_levels", "levels_to_fsq"]


def fsq_to_levels(codes: torch.Tensor, levels: Sequence[int]) -> torch.Tensor:
    """FSQ code values ``[*, D, H, W]`` in ``[-1, 1]`` (``tokcom.tokenizers.fsq`` convention:
    ``(k - L//2)/(L//2)``) → level indices ``k`` int64, same shape."""
    half = torch.tensor([lv // 2 for lv in levels], dtype=torch.float64).view(-1, 1, 1)
    return torch.round(codes.detach().to("cpu", torch.float64) * half + half).to(torch.int64)


def levels_to_fsq(k: torch.Tensor, levels: Sequence[int]) -> torch.Tensor:
    """Level indices ``[*, D, H, W]`` → FSQ code values (float32), the inverse of :func:`fsq_to_levels`."""
    half = torch.tensor([lv // 2 for lv in levels], dtype=torch.float32).view(-1, 1, 1)
    return (k.to(torch.float32) - half) / half


class CheckerboardCategorical(nn.Module):
    """Checkerboard model over level-index maps ``[*, D, H, W]`` (``D = len(levels)``, any leading dims).

    Args:
        levels: FSQ levels per dimension, e.g. ``(8, 8, 8, 5, 5, 5)``.
        context_channels: channels ``Cc`` of optional side information ``[*, Cc, H, W]`` both ends hold.
        hidden_channels: width of the context network.
    """

    def __init__(self, levels: Sequence[int], context_channels: int = 0, hidden_channels: int = 64) -> None:
        super().__init__()
        self.levels = tuple(int(v) for v in levels)
        if not self.levels or min(self.levels) < 2:
            raise InputError(f"FSQ levels must all be ≥ 2; got {tuple(levels)}")
        self.context_channels = int(context_channels)
        total, side, f = sum(self.levels), self.context_channels + 1, int(hidden_channels)
        self.anchor = nn.Conv2d(side, total, 1)
        self.context = nn.Conv2d(total + 1, f, 5, padding=2)  # sees anchors only
        self.fuse = nn.Sequential(nn.Conv2d(f + side, f, 1), nn.LeakyReLU(0.1), nn.Conv2d(f, total, 1))
        nn.init.zeros_(self.fuse[-1].weight)
        nn.init.zeros_(self.fuse[-1].bias)

    # -- inputs ----------------------------------------------------------------------------------------
    def _inputs(self, shape, context, visible):
        """Flatten to ``[N, *, H, W]``: (side ``[N, Cc+1, H, W]``, visible ``[N, H, W]`` bool)."""
        d = len(self.levels)
        if len(shape) < 3 or shape[-3] != d:
            raise InputError(f"expected codes [*, {d}, H, W]; got {tuple(shape)}")
        lead, (h, w) = tuple(shape[:-3]), tuple(shape[-2:])
        n = int(np.prod(lead)) if lead else 1
        if context is None:
            if self.context_channels:
                raise InputError(f"this model needs context [*, {self.context_channels}, H, W]")
            ctx = torch.zeros(n, 0, h, w)
        else:
            if tuple(context.shape) != (*lead, self.context_channels, h, w):
                raise InputError(f"context must be {(*lead, self.context_channels, h, w)}; "
                                 f"got {tuple(context.shape)}")
            ctx = context.reshape(n, self.context_channels, h, w)
        side = torch.cat([ctx, torch.ones(n, 1, h, w, dtype=ctx.dtype, device=ctx.device)], dim=1)
        if visible is None:
            vis = torch.ones(n, h, w, dtype=torch.bool, device=side.device)
        else:
            if tuple(visible.shape) != (*lead, h, w):
                raise InputError(f"visible must be {(*lead, h, w)}; got {tuple(visible.shape)}")
            vis = visible.reshape(n, h, w).to(device=side.device, dtype=torch.bool)
        return side, vis

    def _onehot(self, k: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """``[N, D, H, W]`` indices × ``[N, H, W]`` keep → ``[N, Σ levels + 1, H, W]`` float32."""
        parts = [F.one_hot(k[:, i].clamp(0, lv - 1), lv).permute(0, 3, 1, 2) for i, lv in enumerate(self.levels)]
        keep = keep.expand(k.shape[0], *k.shape[-2:]).unsqueeze(1).to(torch.float32)
        return torch.cat([torch.cat(parts, dim=1).to(torch.float32) * keep, keep], dim=1)

    def anchor_logits(self, side: torch.Tensor) -> torch.Tensor:
        """``[N, Σ levels, H, W]`` logits of the anchors from ``side`` ``[N, Cc+1, H, W]``."""
        return self.anchor(side)

    def nonanchor_logits(self, k: torch.Tensor, keep: torch.Tensor, side: torch.Tensor, base: torch.Tensor):
        """Logits of the non-anchors given anchor codes ``k`` ``[N, D, H, W]`` where ``keep`` (``[N, H, W]``
        or ``[H, W]``: anchor ∧ visible) and the anchor logits ``base``."""
        feat = self.context(self._onehot(k, keep).to(side.dtype))
        return base + self.fuse(torch.cat([feat, side], dim=1))

    def _split_logits(self, logits: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.split(logits, self.levels, dim=1))

    def _check_codes(self, k: torch.Tensor) -> None:
        if k.dtype.is_floating_point or k.dtype == torch.bool:
            raise InputError(f"codes must be integer level indices; got {k.dtype}")
        if k.ndim < 3 or k.shape[-3] != len(self.levels):
            raise InputError(f"expected codes [*, {len(self.levels)}, H, W]; got {tuple(k.shape)}")
        lv = torch.tensor(self.levels, device=k.device).view(-1, 1, 1)
        if k.numel() and ((k < 0) | (k >= lv)).any():
            raise InputError(f"codes out of range for levels {self.levels}")

    # -- training --------------------------------------------------------------------------------------
    def forward(self, codes: torch.Tensor, context: torch.Tensor | None = None,
                visible: torch.Tensor | None = None) -> EntropyOutput:
        """Training path: likelihoods ``[*, D, H, W]`` of the true codes (1 at invisible positions)."""
        self._check_codes(codes)
        side, vis = self._inputs(codes.shape, context, visible)
        k = codes.reshape(-1, *codes.shape[-3:]).to(side.device, torch.int64)
        anchor = anchor_mask(k.shape[-2], k.shape[-1], k.device)
        base = self.anchor_logits(side)
        non = self.nonanchor_logits(k, anchor & vis, side, base)
        liks = []
        for i, (la, ln) in enumerate(zip(self._split_logits(base), self._split_logits(non))):
            logp = torch.where(anchor, la.log_softmax(1), ln.log_softmax(1))
            liks.append(logp.gather(1, k[:, i : i + 1]).exp())
        lik = torch.where(vis.unsqueeze(1), torch.cat(liks, dim=1), torch.ones(()))
        return EntropyOutput(codes, lik.reshape(codes.shape))

    # -- coding ----------------------------------------------------------------------------------------
    def _cpu(self) -> CheckerboardCategorical:
        p = next(self.parameters())
        if p.device.type == "cpu" and p.dtype == torch.float32:
            return self
        return copy.deepcopy(self).to("cpu", torch.float32)

    def _counts(self, logits: torch.Tensor, sel: torch.Tensor) -> list[np.ndarray]:
        """Per dimension: ``[M, levels[d]]`` integer counts at the ``sel`` ``[N, H, W]`` positions."""
        out = []
        for lg in self._split_logits(logits):
            p = torch.softmax(lg.to(torch.float64), dim=1).permute(0, 2, 3, 1)[sel]
            out.append(quantize_pmf(p.numpy()))
        return out

    def compress(self, codes: torch.Tensor, context: torch.Tensor | None = None,
                 visible: torch.Tensor | None = None) -> bytes:
        """Code the visible level indices ``codes`` ``[*, D, H, W]`` (int): anchors, then non-anchors."""
        self._check_codes(codes)
        k = codes.detach().to("cpu", torch.int64)
        side, vis = self._inputs(k.shape, _cpu(context), _cpu(visible))
        k = k.reshape(-1, *k.shape[-3:])
        anchor = anchor_mask(k.shape[-2], k.shape[-1])
        w = StreamWriter()
        with deterministic_cpu():
            net = self._cpu()
            base = net.anchor_logits(side)
            self._write(w, k, base, anchor & vis)
            self._write(w, k, net.nonanchor_logits(k, anchor & vis, side, base), ~anchor & vis)
        return w.finish(stream_key("checkerboard-categorical", tuple(codes.shape)))

    def _write(self, w: StreamWriter, k: torch.Tensor, logits: torch.Tensor, sel: torch.Tensor) -> None:
        for i, c in enumerate(self._counts(logits, sel)):
            w.categorical(k[:, i][sel].numpy(), c)

    def decompress(self, data: bytes, shape: Sequence[int], context: torch.Tensor | None = None,
                   visible: torch.Tensor | None = None) -> Decompressed:
        """Level indices int64 ``shape`` (``[*, D, H, W]``; 0 at invisible positions) on CPU; never raises
        on corrupted or truncated data (``ok`` is then False)."""
        data = check_data(data)
        shape = tuple(int(s) for s in shape)
        side, vis = self._inputs(shape, _cpu(context), _cpu(visible))
        n, (h, w) = side.shape[0], shape[-2:]
        k = torch.zeros(n, len(self.levels), h, w, dtype=torch.int64)
        anchor = anchor_mask(h, w)
        reader = StreamReader(data, stream_key("checkerboard-categorical", shape))
        with deterministic_cpu():
            net = self._cpu()
            base = net.anchor_logits(side)
            self._read(reader, k, base, anchor & vis)
            self._read(reader, k, net.nonanchor_logits(k, anchor & vis, side, base), ~anchor & vis)
        return Decompressed(k.reshape(shape), reader.ok)

    def _read(self, r: StreamReader, k: torch.Tensor, logits: torch.Tensor, sel: torch.Tensor) -> None:
        for i, (c, lv) in enumerate(zip(self._counts(logits, sel), self.levels)):
            sym = np.clip(r.categorical(c), 0, lv - 1)
            plane = k[:, i]
            plane[sel] = torch.from_numpy(sym)


def _cpu(x: torch.Tensor | None) -> torch.Tensor | None:
    if x is None:
        return None
    return x.detach().to("cpu", torch.float32 if x.dtype.is_floating_point else x.dtype)
