"""Adversarial training: a PatchGAN-style discriminator on single frames and the hinge losses.

PVSC (paper 002 §III-D) adds GAN losses once its reconstruction branch has converged (λ_adv = 0.1); the
tokenizers' ``perceptual`` recipe fine-tunes with LPIPS + hinge GAN. The discriminator belongs to the
engine, not to the model: it is built when a recipe stage has ``gan=True``, checkpointed with the run, and
never exported.

Hinge losses (Lim & Ye 2017; the form of VQGAN / SPADE)::

    L_D = E[max(0, 1 − D(x))] + E[max(0, 1 + D(x̂))]        L_G = −E[D(x̂)]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator: ``layers`` stride-2 4×4 convolutions (LeakyReLU 0.2), then a 3×3 convolution
    to one logit per patch. ``(N,3,H,W)`` → ``(N,1,H/2^layers,W/2^layers)``.

    Defaults (48 channels, 3 layers: 70×70-px receptive field at 8× down) are those of the tokenizer
    trainer's earlier ``PatchDisc``, whose checkpoints load unchanged (same ``net.*`` keys).
    """

    def __init__(self, channels: int = 48, layers: int = 3) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        cin, c = 3, channels
        for i in range(layers):
            mods += [nn.Conv2d(cin, c, 4, 2, 1), nn.LeakyReLU(0.2)]
            cin, c = c, c * 2 if i < layers - 1 else c
        mods.append(nn.Conv2d(cin, 1, 3, 1, 1))
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss ``E[relu(1 − D(x))] + E[relu(1 + D(x̂))]``."""
    return F.relu(1.0 - real_logits.float()).mean() + F.relu(1.0 + fake_logits.float()).mean()


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss ``−E[D(x̂)]``."""
    return -fake_logits.float().mean()


def discriminator_logits(disc: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(D(real), D(fake))`` from one forward pass over both (one DDP forward per step). Inputs ``(N,3,H,W)``;
    ``fake`` should be detached by the caller."""
    logits = disc(torch.cat([real, fake], dim=0))
    return logits[: real.shape[0]], logits[real.shape[0]:]


class frozen:
    """Temporarily set ``requires_grad=False`` on a module's parameters (the generator's adversarial term
    must not train the discriminator, and must not touch its DDP gradient hooks)."""

    def __init__(self, module: nn.Module) -> None:
        self.params = [p for p in module.parameters() if p.requires_grad]

    def __enter__(self) -> None:
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc) -> None:
        for p in self.params:
            p.requires_grad_(True)
