"""``toy-ae``: a tiny per-frame convolutional autoencoder, the smallest complete :class:`TrainableModel`.

It exists to show the adapter API in 80 lines (a template for PVSC / TVC adapters), to smoke-test the engine
(``tokcom train --model toy-ae --data DIR --steps 3``) and to test what does not depend on a real model
(DDP equivalence, resume, signals). Not used by any scheme.

::

    frame (N,3,H,W) ─ encoder: conv 4×4/2 → SiLU → conv 4×4/2 → tanh ─ z (N,C,H/4,W/4)
      ─ [dropout p] ─ decoder: up ×2, conv, SiLU, up ×2, conv ─ (N,3,H,W)

Groups ``encoder`` / ``decoder``; a model term ``latent_l1`` (mean |z|, a stand-in for a rate term).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokcom.tokenizers.weights_io import save_weights
from tokcom.train.losses import fold_frames, psnr_db
from tokcom.train.model import StepContext, StepOutput, TrainableModel
from tokcom.train.recipe import Recipe, Stage, TrainableSpec, register_trainable


class ToyAutoencoder(TrainableModel):
    name = "toy-ae"

    def __init__(self, width: int = 8, latent: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.arch = {"width": int(width), "latent": int(latent), "dropout": float(dropout)}
        self.encoder = nn.Sequential(nn.Conv2d(3, width, 4, 2, 1), nn.SiLU(), nn.Conv2d(width, latent, 4, 2, 1))
        self.decoder = nn.Sequential(nn.Upsample(scale_factor=2.0), nn.Conv2d(latent, width, 3, 1, 1), nn.SiLU(),
                                     nn.Upsample(scale_factor=2.0), nn.Conv2d(width, 3, 3, 1, 1))
        self.dropout = float(dropout)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"encoder": list(self.encoder.parameters()), "decoder": list(self.decoder.parameters())}

    def training_step(self, batch: torch.Tensor, ctx: StepContext) -> StepOutput:
        x = fold_frames(batch)
        z = torch.tanh(self.encoder(x))
        if self.dropout > 0:  # global torch RNG on purpose: the engine checkpoints and restores it
            z = F.dropout(z, self.dropout, training=True)
        y = self.decoder(z)
        return StepOutput(recon=y, target=x, terms={"latent_l1": z.abs().mean()}, logs={"psnr": psnr_db(y, x)})

    def describe(self) -> dict[str, Any]:
        return {"arch": dict(self.arch)}

    def export(self, directory: Path, record: dict[str, Any]) -> Path:
        return save_weights(self.name, self.state_dict(), {"name": self.name, "arch": self.arch, "training": record},
                            directory)


def _build(options: dict[str, Any]) -> ToyAutoencoder:
    return ToyAutoencoder(**options)


RECIPES = {
    "default": Recipe("default", (Stage("reconstruction", 200, lr=3e-3, warmup=5, losses={"l1": 1.0, "mse": 1.0}),),
                      description="L1 + MSE, one stage"),
    "two-stage": Recipe("two-stage", (
        Stage("decoder", 100, lr=3e-3, warmup=5, losses={"l1": 1.0}, train=("decoder",), frames=1),
        Stage("joint", 100, lr=1e-3, warmup=5, losses={"l1": 1.0, "mse": 1.0, "latent_l1": 0.01}, frames=3)),
        description="decoder only, then all groups with a latent term and longer clips (a curriculum)"),
}

register_trainable(TrainableSpec("toy-ae", _build, RECIPES, frames=1, crop=16, batch=4,
                                 description="tiny per-frame autoencoder: engine smoke tests and the adapter template"))
