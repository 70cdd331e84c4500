"""Losses of the training engine: pixel (L1, MSE), perceptual (LPIPS-alex, LPIPS-vgg, DISTS) and the
generator's hinge GAN term, combined by name with a recipe's weights.

Term names: the generic losses of the main pair (``StepOutput.recon`` vs ``target``) are ``l1``, ``mse``,
``lpips_alex``, ``lpips_vgg``, ``dists`` and ``gan``; those of a further pair ``p`` are ``p.l1`` … ``p.gan``;
the model's own terms (rates, NLL) keep their names. ``loss = Σ weight[name] · term[name]`` over the names
with a nonzero weight; a term is computed only when weighted (LPIPS costs nothing when off). A weight that
names no term raises ``InputError`` with the valid names (a typo must not silently drop a term).

The perceptual networks are tokcom's metric networks (:func:`tokcom.metrics.perceptual.get_net`, weights from
the cache, ``tokcom models fetch lpips-alex``), frozen: gradients flow to the reconstruction only. Videos
``(B,3,T,H,W)`` are folded to frames ``(B·T,3,H,W)`` for them and for the discriminator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokcom.errors import InputError
from tokcom.train.gan import frozen, hinge_g_loss
from tokcom.train.model import StepOutput

PIXEL = ("l1", "mse")
PERCEPTUAL = {"lpips_alex": "lpips-alex", "lpips_vgg": "lpips-vgg", "dists": "dists"}
GENERIC = (*PIXEL, *PERCEPTUAL, "gan")


def fold_frames(x: torch.Tensor) -> torch.Tensor:
    """``(B,3,T,H,W)`` → ``(B·T,3,H,W)``; ``(N,3,H,W)`` unchanged."""
    if x.ndim == 5:
        return x.transpose(1, 2).reshape(-1, x.shape[1], x.shape[-2], x.shape[-1])
    return x


def psnr_db(recon: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB of signals in [-1, 1] (peak-to-peak 2), on the clamped reconstruction."""
    with torch.no_grad():
        mse = F.mse_loss(recon.detach().float().clamp(-1, 1), target.float()).item()
    return 10 * math.log10(4.0 / max(mse, 1e-10))


class PerceptualLoss(nn.Module):
    """Mean LPIPS / DISTS distance between ``(…,3,H,W)`` inputs in [-1, 1], differentiable in both.

    Args:
        kind: ``lpips-alex``, ``lpips-vgg`` or ``dists``.
        device: where the network runs.
        loader: ``(kind, device) → network`` (default :func:`tokcom.metrics.perceptual.get_net`; tests pass
            randomly initialised networks).
    """

    def __init__(self, kind: str, device: str = "cpu", loader: Callable[[str, str], nn.Module] | None = None) -> None:
        super().__init__()
        if loader is None:
            from tokcom.metrics.perceptual import get_net, weights_unavailable

            why = weights_unavailable(kind)
            if why:
                raise InputError(f"the {kind} loss needs its weights: {why}")
            loader = get_net
        self.kind = kind
        self.net = loader(kind, str(device))
        for p in self.net.parameters():
            p.requires_grad_(False)

    def forward(self, recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        x, y = fold_frames(recon).float(), fold_frames(target).float()
        if self.kind == "dists":  # DISTS takes [0, 1]
            x, y = (x + 1) / 2, (y + 1) / 2
        return self.net(x, y).mean()


class LossSet:
    """The weighted sum of a stage's terms.

    Args:
        weights: ``term name → weight`` (the stage's ``losses``).
        device: where perceptual networks run.
        net_loader: passed to :class:`PerceptualLoss`.
    """

    def __init__(self, weights: Mapping[str, float], device: str = "cpu",
                 net_loader: Callable[[str, str], nn.Module] | None = None) -> None:
        self.weights = {k: float(v) for k, v in weights.items() if float(v) != 0.0}
        self._nets: dict[str, PerceptualLoss] = {}
        for name in self.weights:
            base = name.rsplit(".", 1)[-1]
            if base in PERCEPTUAL and base not in self._nets:
                self._nets[base] = PerceptualLoss(PERCEPTUAL[base], device, net_loader)

    @property
    def uses_gan(self) -> bool:
        return any(n.rpartition(".")[2] == "gan" for n in self.weights)

    def _generic(self, base: str, recon: torch.Tensor, target: torch.Tensor, disc: nn.Module | None) -> torch.Tensor:
        if base == "l1":
            return F.l1_loss(recon, target)
        if base == "mse":
            return F.mse_loss(recon, target)
        if base in PERCEPTUAL:
            return self._nets[base](recon, target)
        with frozen(disc):
            return hinge_g_loss(disc(fold_frames(recon)))

    def __call__(self, out: StepOutput, disc: nn.Module | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(total loss, {term: value})``: every weighted term, every model term and ``loss``, as detached
        scalar tensors (read them only when logging: on CUDA each read is a synchronisation). ``disc``: the
        discriminator while it trains; without it the ``gan`` terms are left out."""
        pairs: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        if out.recon is not None and out.target is not None:
            pairs[""] = (out.recon, out.target)
        for k, v in out.pairs.items():
            pairs[k] = v
        terms: dict[str, torch.Tensor] = dict(out.terms)
        active = {n: w for n, w in self.weights.items() if disc is not None or n.rpartition(".")[2] != "gan"}
        for name in self.weights:
            if name in terms:
                continue
            pair, _, base = name.rpartition(".")
            if base == "gan" and disc is None and pair in pairs:
                continue  # the discriminator is not (yet) training: no adversarial term
            if base in GENERIC and pair in pairs:
                rec, ref = pairs[pair]
                terms[name] = self._generic(base, rec.float(), ref.float(), disc)
            else:
                valid = sorted({*out.terms, *(f"{p}.{g}" if p else g for p in pairs for g in GENERIC)})
                raise InputError(f"loss weight {name!r} names no term of this model; valid: {', '.join(valid)}")
        total = None
        for name, w in active.items():
            t = w * terms[name].float()
            total = t if total is None else total + t
        if total is None:
            raise InputError("the stage weights no loss term (its losses are all zero)")
        logs = {k: v.detach().float() for k, v in terms.items()}
        logs["loss"] = total.detach()
        return total, logs

    def describe(self) -> dict[str, Any]:
        return dict(self.weights)
