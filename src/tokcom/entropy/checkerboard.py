"""Two-step checkerboard context model for continuous latents.

He, Zheng, Sun, Wang, Qin, "Checkerboard context model for efficient learned image compression", CVPR
2021 — ref. [44] of PVSC and [9] of TVC; eqs. (10)-(13), 002_165f6aebfafa3581.txt, and TVC §3.2.1. Shaped
like CompressAI's ``CheckerboardLatentCodec`` (two-pass, anchors on even parity) and DCVC's two-step
spatial prior:

::

    hyper = (μ0, σ0) ─────────────────────────────────────────┐
         │ anchors ((h + w) even): code round(y - μ0) with σ0  │
         ▼                                                     ▼
    ŷ_anchor ──► 5×5 conv ──► ⊕ hyper ──► 1×1 ─► 1×1 ──► (Δμ, Δlog σ)
                                        μ1 = μ0 + Δμ,  σ1 = σ0 · exp(Δlog σ)
         non-anchors ((h + w) odd): code round(y - μ1) with σ1

The context net starts at zero (μ1 = μ0, σ1 = σ0) so an untrained model is the plain hyperprior. Both
``compress`` and ``decompress`` compute the non-anchor parameters with :meth:`CheckerboardGaussian.plan`
in float32 on CPU with one thread (:func:`~tokcom.entropy.base.deterministic_cpu`) from the same
``ŷ_anchor = q + μ0``, and σ is mapped to a table index before coding, so both pick the same tables.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from tokcom.entropy.base import (
    Decompressed,
    EntropyOutput,
    check_data,
    deterministic_cpu,
    lower_bound,
    quantize,
)
from tokcom.entropy.gaussian import GaussianConditional
from tokcom.entropy.stream import StreamReader, StreamWriter, stream_key
from tokcom.errors import InputError

__all__ = ["CheckerboardGaussian", "anchor_mask"]


def anchor_mask(height: int, width: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``[H, W]`` bool: True at anchor positions, ``(h + w)`` even (works for odd sizes too)."""
    h = torch.arange(height, device=device).view(-1, 1)
    w = torch.arange(width, device=device).view(1, -1)
    return (h + w) % 2 == 0


class CheckerboardGaussian(nn.Module):
    """Two-step checkerboard Gaussian model over ``[*, C, H, W]`` latents (any leading dims).

    Args:
        channels: latent channels ``C``.
        hidden_channels: width of the context network (default ``2C``, at least 16).
        gaussian: the conditional coder (default :class:`GaussianConditional` with CompressAI's table).
    """

    def __init__(self, channels: int, hidden_channels: int | None = None,
                 gaussian: GaussianConditional | None = None) -> None:
        super().__init__()
        if channels < 1:
            raise InputError(f"channels must be ≥ 1; got {channels}")
        c = int(channels)
        f = int(hidden_channels or max(2 * c, 16))
        self.channels = c
        self.gaussian = gaussian or GaussianConditional()
        self.context = nn.Conv2d(c, f, 5, padding=2)  # sees anchors only: non-anchor inputs are zeroed
        self.fuse = nn.Sequential(nn.Conv2d(f + 2 * c, f, 1), nn.LeakyReLU(0.1), nn.Conv2d(f, 2 * c, 1))
        nn.init.zeros_(self.fuse[-1].weight)
        nn.init.zeros_(self.fuse[-1].bias)

    # -- parameters ------------------------------------------------------------------------------------
    def _split(self, x: torch.Tensor, hyper: torch.Tensor):
        if x.ndim < 3 or x.shape[-3] != self.channels:
            raise InputError(f"expected [*, {self.channels}, H, W]; got {tuple(x.shape)}")
        lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
        want = (*lead, 2 * c, h, w)
        if tuple(hyper.shape) != want:
            raise InputError(f"hyper must be {want} (μ0 then σ0 along the channel dim); got {tuple(hyper.shape)}")
        return x.reshape(-1, c, h, w), hyper.reshape(-1, 2 * c, h, w)

    def nonanchor_params(self, anchors: torch.Tensor, hyper: torch.Tensor):
        """``(μ1, σ1)`` ``[N, C, H, W]`` from ``anchors`` ``[N, C, H, W]`` (zero at non-anchors) and
        ``hyper`` ``[N, 2C, H, W]`` (σ1 is the lower-bounded σ0 scaled by ``exp(Δlog σ)``)."""
        mu0, s0 = hyper.chunk(2, dim=1)
        d = self.fuse(torch.cat([self.context(anchors), hyper], dim=1))
        dmu, dlog = d.chunk(2, dim=1)
        s0 = lower_bound(s0, self.gaussian.scale_bound)
        return mu0 + dmu, s0 * torch.exp(dlog.clamp(-20.0, 20.0))

    def forward(self, y: torch.Tensor, hyper: torch.Tensor, mode: str = "noise",
                generator: torch.Generator | None = None) -> EntropyOutput:
        """Training path (two passes, as the coder does).

        Args:
            y: ``[*, C, H, W]`` float latents.
            hyper: ``[*, 2C, H, W]``: ``μ0`` then ``σ0`` from the hyperprior decoder (σ0 is lower-bounded).
            mode: ``"noise"``, ``"ste"`` or ``"round"``.
        """
        shape = y.shape
        y4, h4 = self._split(y, hyper)
        mu0, s0 = h4.chunk(2, dim=1)
        anchor = anchor_mask(y4.shape[-2], y4.shape[-1], y4.device)
        noise = None
        if mode == "noise":
            noise = torch.rand(y4.shape, generator=generator, device=y4.device, dtype=y4.dtype) - 0.5
            y_anchor = y4 + noise
        else:
            y_anchor = quantize(y4, mode, mu0)
        mu1, s1 = self.nonanchor_params(y_anchor * anchor, h4)
        mu = torch.where(anchor, mu0, mu1)
        sigma = torch.where(anchor, s0, s1)
        values = y4 + noise if noise is not None else quantize(y4, mode, mu)
        lik = self.gaussian.likelihood(values, sigma, mu)
        return EntropyOutput(values.reshape(shape), lik.reshape(shape))

    # -- coding ----------------------------------------------------------------------------------------
    def _cpu(self) -> CheckerboardGaussian:
        p = next(self.parameters())
        if p.device.type == "cpu" and p.dtype == torch.float32:
            return self
        return copy.deepcopy(self).to("cpu", torch.float32)

    def plan(self, y: torch.Tensor, hyper: torch.Tensor):
        """What the encoder codes, computed exactly as the decoder will.

        Returns:
            ``(q_anchor, idx_anchor, q_non, idx_non, y_hat)``: int64 residuals and table indexes of the
            anchor and non-anchor positions (flat, ``[N, C, H, W]`` order), and ``ŷ`` float32 CPU in
            ``y``'s shape.
        """
        y4, h4 = self._split(y.detach().to("cpu", torch.float32), hyper.detach().to("cpu", torch.float32))
        mu0, s0 = h4.chunk(2, dim=1)
        anchor = anchor_mask(y4.shape[-2], y4.shape[-1]).expand_as(y4)
        gc = self.gaussian
        q0 = gc.residuals(y4, mu0)
        a = anchor.numpy()
        y_anchor = torch.where(anchor, gc.dequantize(q0, mu0, y4.shape), torch.zeros(()))
        with deterministic_cpu():
            mu1, s1 = self._cpu().nonanchor_params(y_anchor, h4)
        q1 = gc.residuals(y4, mu1)
        y_hat = torch.where(anchor, y_anchor, gc.dequantize(q1, mu1, y4.shape))
        return q0[a], gc.indexes(s0)[a], q1[~a], gc.indexes(s1)[~a], y_hat.reshape(y.shape)

    def reconstruct(self, y: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        """``ŷ`` exactly as :meth:`decompress` returns it for the stream :meth:`compress` makes
        (float32 CPU, shape of ``y``); what a transmitter keeps in its reference buffer."""
        return self.plan(y, hyper)[-1]

    def compress(self, y: torch.Tensor, hyper: torch.Tensor) -> bytes:
        """Code ``y`` ``[*, C, H, W]`` given ``hyper`` ``[*, 2C, H, W]``: anchors, then non-anchors."""
        qa, ia, qn, inn, _ = self.plan(y, hyper)
        w = StreamWriter()
        self.gaussian.write(w, qa, ia)
        self.gaussian.write(w, qn, inn)
        return w.finish(stream_key("checkerboard-gaussian", tuple(y.shape)))

    def decompress(self, data: bytes, hyper: torch.Tensor) -> Decompressed:
        """``ŷ`` float32 CPU ``[*, C, H, W]`` (shape from ``hyper``, which must be bit-identical to the
        encoder's); never raises on corrupted or truncated data (``ok`` is then False)."""
        data = check_data(data)
        if hyper.ndim < 3 or hyper.shape[-3] != 2 * self.channels:
            raise InputError(f"hyper must be [*, {2 * self.channels}, H, W]; got {tuple(hyper.shape)}")
        shape = (*hyper.shape[:-3], self.channels, *hyper.shape[-2:])
        h4 = hyper.detach().to("cpu", torch.float32).reshape(-1, 2 * self.channels, *hyper.shape[-2:])
        mu0, s0 = h4.chunk(2, dim=1)
        gc = self.gaussian
        anchor = anchor_mask(h4.shape[-2], h4.shape[-1]).expand_as(mu0)
        a = anchor.numpy()
        reader = StreamReader(data, stream_key("checkerboard-gaussian", shape))
        q0 = np.zeros(mu0.shape, dtype=np.int64)
        q0[a] = gc.read(reader, gc.indexes(s0)[a])
        y_anchor = torch.where(anchor, gc.dequantize(q0, mu0, mu0.shape), torch.zeros(()))
        with deterministic_cpu():
            mu1, s1 = self._cpu().nonanchor_params(y_anchor, h4)
        q1 = np.zeros(mu0.shape, dtype=np.int64)
        q1[~a] = gc.read(reader, gc.indexes(s1)[~a])
        y_hat = torch.where(anchor, y_anchor, gc.dequantize(q1, mu1, mu0.shape))
        y_hat = torch.nan_to_num(y_hat, nan=0.0, posinf=0.0, neginf=0.0)  # only garbage streams differ
        return Decompressed(y_hat.reshape(shape), reader.ok)
