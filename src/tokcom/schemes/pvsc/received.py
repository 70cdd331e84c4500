"""The transmitter's estimate of what the receiver will see: rate control's ``rate_choice=received``.

The paper trains one model per channel condition, and for such a model a higher quality is a better received
quality, so §III-C's rule — the highest quality that fits — needs no more. One model serving a range of SNRs
(``--recipe multisnr``) breaks that assumption at low SNR: there, noisy symbols can cost more than they bring,
and a cheaper rung (fewer symbols, more of the picture from ẑ and the temporal context) is received better.
The transmitter knows the link's SNR (it adapts the side link's MCS to it), so it can check::

    for a rung that fits:  ŝ = clip(s + n),  n ~ CN(0, N0), N0 = 10^(−SNR/10)      eq. (1) with h = 1
                           x̂ = PvscModel.decode_frame(ẑ, ŝ, k, buffer)             eqs. (16)–(21)
                           loss = mean over the GOP of λ_rec·L1(x̂, x) + λ_per·LPIPS(x̂, x)   eq. (27)

and :func:`tokcom.schemes.ratecontrol.descend` walks down from the highest rung that fits while this loss
falls. The noise is the same draw for every rung of a GOP (common random numbers: the rungs are compared, not
the draws) and independent of the link's own noise. Over Rayleigh the transmitter knows only the mean SNR, so
it simulates AWGN at that SNR (docs/deviations.md). LPIPS is LPIPS-alex (``choice_net``, the default) or LPIPS-VGG;
without the network's weights the loss is λ_rec·L1 alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tokcom.schemes.pvsc.bitstream import sanitise_symbols
from tokcom.schemes.pvsc.config import LAMBDA_PER, LAMBDA_REC

NOISE_SEED = 0x5EC
"""Seeds the simulated noise (with the frame index): independent of the link's seed, identical across rungs."""
LOSS_NETS = ("lpips-alex", "lpips-vgg")
"""The perceptual networks the choice may use (``PvscConfig.choice_net``): the small recipe's LPIPS-alex, or the
paper's LPIPS-VGG (what the shipped model's main pair was last fine-tuned with, and what the evaluation scores)."""


@dataclass(frozen=True)
class ReceivedChoice:
    """What rate control needs to score a rung by its simulated reception (one transmission)."""

    snr_db: float
    clip: float  # the receiver's symbol clip (PvscConfig.symbol_clip)
    size: tuple[int, int]  # (H, W) before padding
    net: Any | None  # the LPIPS-alex network, or None (L1 only)
    loss_name: str

    @classmethod
    def build(cls, snr_db: float, clip: float, size: tuple[int, int], device: str,
              net_name: str = "lpips-alex") -> ReceivedChoice:
        """With the ``net_name`` network (:data:`LOSS_NETS`) when its weights are cached, else the L1-only loss."""
        from tokcom.metrics.perceptual import get_net, weights_unavailable

        if net_name not in LOSS_NETS:
            raise ValueError(f"choice network must be one of {', '.join(LOSS_NETS)}; got {net_name!r}")
        if weights_unavailable(net_name):
            return cls(float(snr_db), float(clip), size, None, "l1")
        return cls(float(snr_db), float(clip), size, get_net(net_name, device), f"l1+{LAMBDA_PER:g}·{net_name}")

    def loss(self, model, frames, code) -> float:
        """:func:`received_loss` of one GOP's ``code``."""
        return received_loss(model, frames, code, self.snr_db, self.clip, self.size, self.net)


def simulated_noise(num: int, snr_db: float, frame: int) -> np.ndarray:
    """``[num]`` complex64 CN(0, N0) samples, N0 = 10^(−snr_db/10) (unit symbol power, eq. 2); the same draw
    for a frame whatever the rung (a longer draw extends a shorter one)."""
    rng = np.random.default_rng([NOISE_SEED, int(frame)])
    no = 10.0 ** (-float(snr_db) / 10.0)
    iq = (rng.standard_normal((int(num), 2)) * math.sqrt(no / 2)).astype(np.float32)
    return iq.view(np.complex64)[:, 0]


def simulated_reception(model, frames, code, snr_db: float, clip: float, size: tuple[int, int]):
    """The GOP as the receiver would decode it at ``snr_db``: ``(n, 3, H, W)`` in [-1, 1].

    Args:
        model: the ``PvscModel``.
        frames: the GOP's source ``(n, 3, Hp, Wp)`` (padded; only its length is used here).
        code: the GOP coded with one rung (``scheme.GopCode``: per sent frame ẑ, rate map and symbols; the
            frames after the last sent one repeat it, as the receiver does).
        clip: the receiver's symbol clip (``PvscConfig.symbol_clip``).
        size: ``(H, W)`` of the frames before padding.
    """
    import torch

    h, w = size
    ref = None
    recon = []
    with torch.no_grad():
        for j, t in enumerate(code.frame_index):
            sym = code.symbols[j]
            y = sanitise_symbols(sym + simulated_noise(sym.size, snr_db, t), clip)[0]
            x_hat, ref = model.decode_frame(code.z_hats[j], y, code.stats[j]["kidx"], ref, code.candidate.quality)
            recon.append(x_hat[:, :, :h, :w])
    return torch.cat(recon + [recon[-1]] * (frames.shape[0] - len(recon)))


def received_loss(model, frames, code, snr_db: float, clip: float, size: tuple[int, int], net: Any | None) -> float:
    """Eq. (27)'s reconstruction loss, λ_rec·L1 + λ_per·LPIPS (``net``; None: L1 only), of one GOP as the
    receiver would decode it at ``snr_db`` (:func:`simulated_reception`; the arguments are its)."""
    import torch

    h, w = size
    with torch.no_grad():
        x = simulated_reception(model, frames, code, snr_db, clip, size)
        target = frames[:, :, :h, :w].to(x.dtype)
        per_frame = LAMBDA_REC * (x - target).abs().mean(dim=(1, 2, 3))
        if net is not None:
            per_frame = per_frame + LAMBDA_PER * net(x, target).reshape(x.shape[0], -1).mean(dim=1)
        return float(per_frame.mean())
