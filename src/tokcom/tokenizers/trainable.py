"""The built-in tokenizers as trainable models of the engine (:mod:`tokcom.train`).

``tokcom-dv4x8x8``, ``tokcom-dv8x16x16``, ``tokcom-cv8x16x16`` (continuous, TVC) and ``tokcom-resitok`` are
registered in ``TRAINABLE`` with two recipes each (the continuous one: L1 + MSE, then L1 + LPIPS (+ GAN) in
``perceptual``, as the DV recipes):

* ``default`` — what ``tokcom tokenizer train`` always did: L1 + MSE on pixels, Adam (0.9, 0.99), lr 1e-3,
  100 warm-up steps, cosine to 5 %, gradient clipping 1.0; ResiTok adds the loss of a random-prefix decode
  (``prefix.l1`` + ``prefix.mse``, nested / tail dropout, :func:`resitok_prefix_missing`).
* ``perceptual`` — a fine-tune of the decoder (the encoder, hence the tokens, stays frozen): LPIPS-alex
  0.1 for 20 % of the steps, then LPIPS + hinge GAN 0.05 with a patch discriminator that trains alone for its
  first 200 steps. Start it from shipped weights: ``--init-from src/tokcom/tokenizers/weights/NAME.safetensors``.

Parameter groups: ``encoder`` (the ``e_*`` modules) and ``decoder`` (``d_*``). Exports stay
``<name>.safetensors`` (fp16) + ``<name>.json`` (arch, sha256, training record) via
:func:`~tokcom.tokenizers.weights_io.save_weights`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from tokcom.errors import InputError
from tokcom.tokenizers.nets import DVNet, ResiNet, interlaced_order
from tokcom.tokenizers.weights_io import save_weights
from tokcom.train.losses import fold_frames
from tokcom.train.model import StepContext, StepOutput, TrainableModel
from tokcom.train.recipe import Recipe, Stage, TrainableSpec, register_trainable

# name → (kind, architecture, default training geometry); CPU defaults (small crops, short clips)
PRESETS: dict[str, dict[str, Any]] = {
    "tokcom-dv4x8x8": {"kind": "dv", "arch": {"temporal_factor": 4, "spatial_factor": 8, "width": 64,
                                              "levels": [8, 8, 8, 5, 5, 5]},
                       "frames": 9, "crop": 64, "batch": 8},
    "tokcom-dv8x16x16": {"kind": "dv", "arch": {"temporal_factor": 8, "spatial_factor": 16, "width": 64,
                                                "levels": [8, 8, 8, 5, 5, 5]},
                         "frames": 17, "crop": 96, "batch": 4},
    # TVC's continuous partner of tokcom-dv8x16x16 (003_299bbe4b0e9ae1eb.txt §3.1): same geometry and recipes
    "tokcom-cv8x16x16": {"kind": "cv", "arch": {"temporal_factor": 8, "spatial_factor": 16, "width": 64,
                                                "latent_channels": 16},
                         "frames": 17, "crop": 96, "batch": 4},
    "tokcom-resitok": {"kind": "resitok", "arch": {"width": 64, "levels": [8, 8, 8, 8], "dec_blocks": 3},
                       "frames": 1, "crop": 128, "batch": 12},
}
PREFIX_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2)


def build_net(model: str, arch: dict[str, Any]) -> nn.Module:
    kind = PRESETS[model]["kind"] if model in PRESETS else ("resitok" if "resitok" in model else "dv")
    if kind == "dv":
        return DVNet(arch["temporal_factor"], arch["spatial_factor"], arch["width"], tuple(arch["levels"]))
    if kind == "cv":
        from tokcom.tokenizers.cv import build_cv_net

        return build_cv_net(arch)
    return ResiNet(arch["width"], tuple(arch["levels"]), arch.get("dec_blocks", 3))


def resitok_prefix_missing(n: int, h: int, w: int, gen: torch.Generator, device) -> torch.Tensor:
    """``(n,1,h,w)`` float mask of missing grid positions for random prefixes (nested dropout): half the time
    one of L/16, L/8, L/4, L/2, otherwise uniform in 1..L−1."""
    L = h * w
    order = interlaced_order(h, w)
    rank = torch.empty(L, dtype=torch.int64)
    rank[order] = torch.arange(L)
    ks = []
    for _ in range(n):
        if torch.rand((), generator=gen) < 0.5:
            f = PREFIX_FRACTIONS[int(torch.randint(len(PREFIX_FRACTIONS), (), generator=gen))]
            ks.append(max(1, round(f * L)))
        else:
            ks.append(int(torch.randint(1, L, (), generator=gen)))
    k = torch.tensor(ks).view(n, 1)
    miss = (rank.view(1, L) >= k).float().view(n, 1, h, w)
    return miss.to(device)


CV_BOTTLENECK = ("e_out.weight", "e_out.bias", "d_in.weight")
"""The only tensors a CV tokenizer's net shapes differently from the DV net of the same trunk."""


def warm_start_cv(net: nn.Module, dv_state: dict[str, torch.Tensor]) -> bool:
    """Initialise a CV net from a DV tokenizer's weights (``--init-from`` a DV export: TVC's pair shares the
    trunk). Every tensor but the bottleneck must match in name and shape, else nothing is loaded (False).
    The encoder's output conv gets the DV's pre-FSQ channels in its first channels (the rest keep their
    initialisation); the decoder's input conv reads them with the DV's weights and starts with zero weights
    on the extra channels, so the warm-started CV decodes its first channels as the DV decoded its codes."""
    own = net.state_dict()
    trunk = [k for k in own if k not in CV_BOTTLENECK]
    if set(own) != set(dv_state) or any(own[k].shape != dv_state[k].shape for k in trunk):
        return False
    new = {k: dv_state[k].to(own[k].dtype) for k in trunk}
    e_w, e_b, d_w = (own[k].clone() for k in CV_BOTTLENECK)
    n = dv_state["e_out.weight"].shape[0]
    if n > e_w.shape[0] or dv_state["e_out.weight"].shape[1:] != e_w.shape[1:]:
        return False
    e_w[:n] = dv_state["e_out.weight"].to(e_w.dtype)
    e_b[:n] = dv_state["e_out.bias"].to(e_b.dtype)
    d_w.zero_()
    d_w[:, :n] = dv_state["d_in.weight"].to(d_w.dtype)
    new.update({"e_out.weight": e_w, "e_out.bias": e_b, "d_in.weight": d_w})
    net.load_state_dict(new)
    return True


class TokenizerTrainable(TrainableModel):
    """Adapter around :class:`DVNet` / :class:`ResiNet` (``self.net``; checkpoints and exports hold the net's
    state dict, as before the engine existed)."""

    def __init__(self, name: str, arch: dict[str, Any] | None = None) -> None:
        super().__init__()
        if name not in PRESETS:
            raise InputError(f"unknown built-in tokenizer {name!r}; valid: {', '.join(PRESETS)}")
        self.name = name
        self.kind = PRESETS[name]["kind"]
        self.arch = {**PRESETS[name]["arch"], **(arch or {})}
        self.net = build_net(name, self.arch)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        groups: dict[str, list[nn.Parameter]] = {"encoder": [], "decoder": []}
        for n, p in self.net.named_parameters():
            groups["encoder" if n.startswith("e_") else "decoder"].append(p)
        return groups

    def training_step(self, batch: torch.Tensor, ctx: StepContext) -> StepOutput:
        if self.kind == "dv":
            rec, _ = self.net(batch)
            return StepOutput(recon=rec, target=batch)
        if self.kind == "cv":
            rec, z = self.net(batch)
            return StepOutput(recon=rec, target=batch, logs={"latent_std": float(z.detach().float().std())})
        ref = fold_frames(batch)  # ResiTok codes frames independently
        codes, _ = self.net.fsq(self.net.encode_latent(ref))
        n, _, h, w = codes.shape
        rec = self.net.decode_grid(codes, torch.zeros(n, 1, h, w, device=codes.device))
        miss = resitok_prefix_missing(n, h, w, ctx.generator, codes.device)
        pre = self.net.decode_grid(codes, miss)
        return StepOutput(recon=rec, target=ref, pairs={"prefix": (pre, ref)})

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "arch": dict(self.arch)}

    def weights(self) -> dict[str, torch.Tensor]:
        return self.net.state_dict()

    def load_weights(self, state: dict[str, torch.Tensor], source: str = "") -> None:
        """Exact weights of this tokenizer; for a continuous (CV) tokenizer also a discrete (DV) one of the
        same trunk (:func:`warm_start_cv`)."""
        try:
            self.net.load_state_dict(state)
        except RuntimeError as e:
            if self.kind == "cv" and warm_start_cv(self.net, state):
                return
            raise InputError(f"{source or 'weights'}: weights do not fit {self.name} {self.arch} "
                             f"({str(e).splitlines()[0]})") from None

    def export(self, directory: Path, record: dict[str, Any]) -> Path:
        return save_weights(self.name, self.weights(), {"name": self.name, "kind": self.kind, "arch": self.arch,
                                                        "training": record}, directory)


def tokenizer_recipe(name: str, steps: int = 20000, lr: float = 1e-3, warmup: int = 100, min_lr_ratio: float = 0.05,
                     mse_weight: float = 1.0, lpips_weight: float = 0.0, adv_weight: float = 0.0,
                     adv_start: int = 2000) -> Recipe:
    """The ``default`` recipe of tokenizer ``name`` with the knobs of ``tokcom tokenizer train``."""
    losses = {"l1": 1.0, "mse": mse_weight}
    if PRESETS[name]["kind"] == "resitok":
        losses.update({"prefix.l1": 1.0, "prefix.mse": mse_weight})
    if lpips_weight > 0:
        losses["lpips_alex"] = lpips_weight
    gan = adv_weight > 0
    if gan:
        losses["gan"] = adv_weight
    stage = Stage("reconstruction", steps, lr=lr, warmup=warmup, min_lr_ratio=min_lr_ratio, losses=losses,
                  gan=gan, gan_start=adv_start if gan else 0)
    return Recipe("default", (stage,), description="L1 + MSE (ResiTok: + random-prefix decode), Adam, cosine")


def perceptual_recipe(name: str, steps: int = 5000, lr: float = 1e-4) -> Recipe:
    base = tokenizer_recipe(name).stages[0].loss_weights
    lp = {**base, "lpips_alex": 0.1}
    n1 = steps // 5
    return Recipe("perceptual", (
        Stage("lpips", n1, lr=lr, warmup=50, min_lr_ratio=1.0, schedule="constant", losses=lp, train=("decoder",)),
        Stage("adversarial", steps - n1, lr=lr, warmup=0, losses={**lp, "gan": 0.05}, train=("decoder",),
              gan=True, gan_start=200)),
        description="decoder fine-tune (tokens unchanged): LPIPS-alex 0.1, then + hinge GAN 0.05")


def _register(name: str) -> None:
    p = PRESETS[name]
    register_trainable(TrainableSpec(
        name, lambda options, _n=name: TokenizerTrainable(_n, options),
        {"default": tokenizer_recipe(name), "perceptual": perceptual_recipe(name)},
        frames=p["frames"], crop=p["crop"], batch=p["batch"],
        description=f"built-in {_KIND_WORDS[p['kind']]} tokenizer (tokcom.tokenizers.nets)"))


_KIND_WORDS = {"dv": "causal video", "cv": "continuous causal video (TVC)", "resitok": "progressive"}


for _name in PRESETS:
    _register(_name)
