"""TVC's two token streams and their entropy models (003_299bbe4b0e9ae1eb.txt §3.2).

:class:`ContinuousStream` (§3.2.1)::

    y^C [N, C, h, w] (N = B·t latent frames; the GoP was spatially downsampled before the tokenizer)
      ─ ÷ Δ ─► y ─► h_a ─► z ─► Q ─► ẑ ─► FactorizedPrior ─► bytes_z
                              ẑ ─► h_s ─► (μ0, σ0) ─► CheckerboardGaussian (anchors, then non-anchors
                                                      with μ, σ from the decoded anchors) ─► bytes_y
      ŷ^C = Δ · ŷ   (uniform quantisation with step Δ; arithmetic (range) coded through constriction)

:class:`DiscreteStream` (§3.2.2–3.2.3)::

    FSQ code map y^D [N, D, h, w] (level indices per dimension, not the 64000-way index)
      visible = the 3-D mask m (eq. 1) ─ masked tokens are not sent
      context = [init(↑ŷ^C), m]: masked positions are initialised from the continuous stream and the CCM
                sees the same mask as the decoder (§3.2.3)
      ─► CheckerboardCategorical(levels, context) ─► bytes_d (lossless: decoded visible codes == sent codes)

Every coding-side network runs on CPU in float32 with one thread (``tokcom.entropy.deterministic_cpu``) on
inputs both ends hold bit-identically (ẑ, ŷ^C), so both ends pick the same tables.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom.entropy import CheckerboardCategorical, CheckerboardGaussian, FactorizedPrior, deterministic_cpu
from tokcom.errors import InputError


def _cpu_copy(m: nn.Module) -> nn.Module:
    p = next(m.parameters())
    return m if (p.device.type == "cpu" and p.dtype == torch.float32) else copy.deepcopy(m).to("cpu", torch.float32)


@dataclass(frozen=True)
class ContinuousCode:
    """The continuous stream of one GoP as coded.

    Attributes:
        z_bytes, y_bytes: the hyper-latent's and the latent's streams (each with tokcom.entropy's header).
        y_hat: ŷ^C ``[N, C, h, w]`` float32 CPU, exactly what the decoder will get.
        bits_estimate: the model's ``−Σ log2 p`` of ŷ and ẑ (the coded symbols, rounded mode).
    """

    z_bytes: bytes
    y_bytes: bytes
    y_hat: torch.Tensor
    bits_estimate: float

    @property
    def bits(self) -> int:
        return 8 * (len(self.z_bytes) + len(self.y_bytes))


class ContinuousStream(nn.Module):
    """Quantisation + hyperprior + checkerboard Gaussian CCM for y^C (§3.2.1).

    Args:
        channels: d_C (16).
        hyper_channels: channels of z (one stride-2 stage below y^C).
        hidden: width of h_a / h_s.
    """

    def __init__(self, channels: int = 16, hyper_channels: int = 32, hidden: int = 64) -> None:
        super().__init__()
        c, cz, f = int(channels), int(hyper_channels), int(hidden)
        self.channels, self.hyper_channels = c, cz
        self.h_a = nn.Sequential(nn.Conv2d(c, f, 3, padding=1), nn.LeakyReLU(0.1),
                                 nn.Conv2d(f, cz, 3, stride=2, padding=1))
        self.h_s = nn.Sequential(nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(cz, f, 3, padding=1),
                                 nn.LeakyReLU(0.1), nn.Conv2d(f, 2 * c, 3, padding=1))
        self.prior = FactorizedPrior(cz)
        self.cb = CheckerboardGaussian(c)

    def hyper(self, z_hat: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """``ẑ [N, Cz, hz, wz]`` → ``(μ0, σ0)`` ``[N, 2C, h, w]`` (σ0 = softplus, cropped to ``size``)."""
        p = self.h_s(z_hat)[..., : size[0], : size[1]]
        mu, s = p.chunk(2, dim=1)
        return torch.cat([mu, F.softplus(s)], dim=1)

    def _check(self, y: torch.Tensor) -> None:
        if y.ndim != 4 or y.shape[1] != self.channels:
            raise InputError(f"continuous stream: expected y^C [N, {self.channels}, h, w]; got {tuple(y.shape)}")

    # -- training: eq. (3) -----------------------------------------------------------------------------
    def forward(self, y_c: torch.Tensor, step: float = 1.0, mode: str = "noise",
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(ŷ^C [N, C, h, w] (noisy or quantised, ×Δ), bits)``: the rate of eq. (3) in bits, differentiable.

        ``mode``: ``noise`` (uniform noise for ẑ and ŷ), ``ste`` (straight-through rounding), ``round``.
        """
        self._check(y_c)
        y = y_c / float(step)
        z = self.h_a(y)
        out_z = self.prior(z, mode=mode, generator=generator)
        hyper = self.hyper(out_z.values, tuple(y.shape[-2:]))
        out_y = self.cb(y, hyper, mode=mode, generator=generator)
        # eq. (3), 003_299bbe4b0e9ae1eb.txt: −log2 p(ŷ|ẑ) − log2 p(ẑ)
        bits = out_y.bits() + out_z.bits()
        return out_y.values * float(step), bits

    # -- coding ----------------------------------------------------------------------------------------
    def compress(self, y_c: torch.Tensor, step: float = 1.0) -> ContinuousCode:
        """Code y^C ``[N, C, h, w]`` with quantisation step ``step``; returns the streams and ŷ^C."""
        self._check(y_c)
        y = y_c.detach().to("cpu", torch.float32) / float(step)
        net = _cpu_copy(self)
        with deterministic_cpu():
            z = net.h_a(y)
        z_bytes = net.prior.compress(z)
        z_hat, _ = net.prior.decompress(z_bytes, tuple(z.shape))
        with deterministic_cpu():
            hyper = net.hyper(z_hat, tuple(y.shape[-2:]))
        y_bytes = net.cb.compress(y, hyper)
        y_hat = net.cb.reconstruct(y, hyper)
        with torch.no_grad():
            est = float(net.prior(z_hat, mode="round").bits() + net.cb(y, hyper, mode="round").bits())
        return ContinuousCode(z_bytes, y_bytes, y_hat * float(step), est)

    def decompress(self, z_bytes: bytes, y_bytes: bytes, shape: Sequence[int], step: float = 1.0
                   ) -> tuple[torch.Tensor, bool]:
        """``(ŷ^C [N, C, h, w] float32 CPU, ok)`` for ``shape = (N, C, h, w)``; never raises on damaged data
        (``ok`` False; the values are then finite garbage or zeros)."""
        n, c, h, w = (int(v) for v in shape)
        if c != self.channels:
            raise InputError(f"continuous stream: shape {tuple(shape)} does not have {self.channels} channels")
        net = _cpu_copy(self)
        z_shape = (n, self.hyper_channels, (h + 1) // 2, (w + 1) // 2)
        z_hat, ok_z = net.prior.decompress(z_bytes, z_shape)
        with deterministic_cpu():
            hyper = net.hyper(z_hat, (h, w))
        y_hat, ok_y = net.cb.decompress(y_bytes, hyper)
        return y_hat * float(step), bool(ok_z and ok_y)


def upsample_to(y_c: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``[N, C, hc, wc]`` → ``[N, C, h, w]`` by nearest-neighbour repetition (the continuous grid is the
    discrete one downsampled by an integer factor)."""
    if tuple(y_c.shape[-2:]) == tuple(size):
        return y_c
    return F.interpolate(y_c, size=tuple(int(v) for v in size), mode="nearest")


class DiscreteStream(nn.Module):
    """Masked, lossless coding of the FSQ code map with a categorical checkerboard CCM (§3.2.2–3.2.3).

    Args:
        levels: FSQ levels (the alphabet of each code dimension).
        c_channels: d_C of ŷ^C (the source of the masked positions' initial values).
        hidden: width of the categorical CCM's context net.
    """

    def __init__(self, levels: Sequence[int], c_channels: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.levels = tuple(int(v) for v in levels)
        d = len(self.levels)
        self.init = nn.Conv2d(int(c_channels), d, 1)  # ŷ^C → FSQ-valued initialisation (§3.2.3)
        self.ccm = CheckerboardCategorical(self.levels, context_channels=d + 1, hidden_channels=int(hidden))

    def context(self, y_c_up: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """``[N, D+1, h, w]``: the ŷ^C-derived values (tanh, in FSQ range) and the mask channel.

        Args:
            y_c_up: ŷ^C on the discrete grid ``[N, C, h, w]``.
            visible: ``[N, h, w]`` bool.
        """
        # §3.2.3: masked positions initialised from ŷ^C, and the same 3-D mask on the encoder-side CCM input
        init = torch.tanh(self.init(y_c_up))
        return torch.cat([init, visible.unsqueeze(1).to(init.dtype)], dim=1)

    def forward(self, levels_k: torch.Tensor, y_c_up: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """Training path: bits (differentiable) of the visible codes ``levels_k [N, D, h, w]`` int64."""
        out = self.ccm(levels_k, self.context(y_c_up, visible), visible)
        return out.bits()

    def _ctx_cpu(self, y_c_up: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        net = _cpu_copy(self)
        with deterministic_cpu():
            return net.context(y_c_up.detach().to("cpu", torch.float32), visible.to("cpu"))

    def compress(self, levels_k: torch.Tensor, y_c_up: torch.Tensor, visible: torch.Tensor) -> bytes:
        """The visible level indices ``[N, D, h, w]`` int64 → bytes (masked positions are not sent)."""
        ctx = self._ctx_cpu(y_c_up, visible)
        return _cpu_copy(self).ccm.compress(levels_k.detach().cpu(), ctx, visible.cpu())

    def decompress(self, data: bytes, y_c_up: torch.Tensor, visible: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """``(level indices [N, D, h, w] int64 (0 where masked), ok)``; never raises on damaged data."""
        ctx = self._ctx_cpu(y_c_up, visible)
        n, _, h, w = y_c_up.shape
        return tuple(_cpu_copy(self).ccm.decompress(data, (n, len(self.levels), h, w), ctx, visible.cpu()))

    def estimate_bits(self, levels_k: torch.Tensor, y_c_up: torch.Tensor, visible: torch.Tensor) -> float:
        """The model's ``−Σ log2 p`` of the visible codes, on the coding path's CPU context."""
        ctx = self._ctx_cpu(y_c_up, visible)
        with deterministic_cpu():
            return float(_cpu_copy(self).ccm(levels_k.detach().cpu(), ctx, visible.cpu()).bits())


# ---------------------------------------------------------------------------------------------- raw indices
def pack_raw_indices(indices: np.ndarray, visible: np.ndarray) -> bytes:
    """The "no code-map compression" ablation (Fig. 6): visible token indices as 16-bit big-endian."""
    return np.ascontiguousarray(np.asarray(indices)[np.asarray(visible, bool)], dtype=">u2").tobytes()


def unpack_raw_indices(data: bytes, visible: np.ndarray, codebook_size: int) -> tuple[np.ndarray, bool]:
    """``(indices (shape of visible) int64, 0 where masked or missing; ok)``; never raises."""
    vis = np.asarray(visible, bool)
    out = np.zeros(vis.shape, np.int64)
    n = int(vis.sum())
    ok = len(data) == 2 * n
    vals = np.frombuffer(bytes(data[: 2 * n]) + b"\0" * max(0, 2 * n - len(data)), dtype=">u2").astype(np.int64)
    ok = ok and bool((vals < codebook_size).all())
    out[vis] = np.clip(vals, 0, codebook_size - 1)
    return out, ok
