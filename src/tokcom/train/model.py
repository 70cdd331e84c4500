"""What a learned part of tokcom gives the training engine: the :class:`TrainableModel` adapter.

An adapter wraps the networks of one model (a tokenizer, PVSC's JSCC codec, TVC's context models and pixel
decoder …) and says three things: which **parameter groups** it has (so that a recipe stage can freeze
some: PVSC stage 1 freezes ``F_tx``/``F_rx``, TVC freezes the tokenizers throughout), what one **training
step** computes, and how the trained weights are **exported**. Everything else — data, optimizer, schedule,
generic losses, GAN, checkpoints, DDP, logging — is the engine's (:mod:`tokcom.train.engine`).

::

    batch (B,3,T,H,W) in [-1,1] ─► model.training_step(batch, ctx) ─► StepOutput
        recon/target  ─► generic losses by name (l1, mse, lpips_alex, lpips_vgg, dists, gan)
        pairs[name]   ─► the same losses, named "<name>.l1" …
        terms         ─► model terms by name (rate_bpp, nll, …), weighted by the recipe
    loss = Σ_name recipe_weight[name] · term[name]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tokcom.errors import InputError


@dataclass(frozen=True)
class StepContext:
    """What a training step knows besides its batch.

    Attributes:
        stage: the current :class:`~tokcom.train.recipe.Stage` (its ``options`` carry model switches such as
            PVSC's quantisation mode or the training SNR).
        step: global optimizer step (0-based, the step being computed); stage_step: step within the stage.
        generator: a CPU ``torch.Generator`` seeded from (seed, step, rank), for the step's own randomness
            (prefix lengths, channel noise, masks): a resumed run redraws the same values.
        device: where the batch lives; amp: bf16 autocast is on.
        rank, world_size: data-parallel position.
    """

    stage: Any
    step: int
    stage_step: int
    generator: torch.Generator
    device: torch.device
    amp: bool = False
    rank: int = 0
    world_size: int = 1

    def option(self, name: str, default: Any = None) -> Any:
        """The stage option ``name`` (``stage.options``), else ``default``."""
        return dict(self.stage.options).get(name, default)


@dataclass(frozen=True)
class StepOutput:
    """The result of one training step.

    Attributes:
        recon, target: the main reconstruction and its reference, ``(B,3,T,H,W)`` or ``(N,3,H,W)`` float in
            [-1, 1]; the generic losses (``l1``, ``mse``, ``lpips_*``, ``dists``, ``gan``) apply to them.
            None for a model without a pixel output (an entropy model).
        pairs: further ``name → (recon, target)`` pairs; their losses are named ``"<name>.<loss>"``
            (ResiTok's random-prefix decode: ``prefix.l1``).
        terms: model loss terms by name, scalar tensors with gradients (rates in bits per pixel, NLL, …);
            the recipe weights them like any other term.
        logs: scalars to log only (no gradient): PSNR, rates, mask ratios.
    """

    recon: torch.Tensor | None = None
    target: torch.Tensor | None = None
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    terms: dict[str, torch.Tensor] = field(default_factory=dict)
    logs: dict[str, float] = field(default_factory=dict)


class TrainableModel(nn.Module):
    """Base of every model adapter (the protocol: :meth:`parameter_groups`, :meth:`training_step`,
    :meth:`export`). An ``nn.Module`` so that the engine can move it, wrap it in DDP (``forward`` is the
    training step) and checkpoint it.

    Subclasses set ``name`` and usually override :meth:`weights` / :meth:`load_weights` when the exported
    state is a sub-network's (a tokenizer's net, not the adapter).
    """

    name: str = "model"
    find_unused_parameters: bool = False
    """DDP flag: True when some trainable parameter may get no gradient in a step."""

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """``group name → parameters``; every parameter in exactly one group."""
        raise NotImplementedError

    def training_step(self, batch: torch.Tensor, ctx: StepContext) -> StepOutput:
        """One step's forward pass on ``batch`` ``(B,3,T,H,W)`` float in [-1, 1]."""
        raise NotImplementedError

    def export(self, directory: Path, record: dict[str, Any]) -> Path:
        """Write the shippable weights (and ``record``, the training record) into ``directory``; returns the
        weights file."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Architecture facts for the training record (``{"arch": {...}}``)."""
        return {}

    def weights(self) -> dict[str, torch.Tensor]:
        """The tensors a checkpoint and ``--init-from`` carry (default: the whole state dict)."""
        return self.state_dict()

    def load_weights(self, state: dict[str, torch.Tensor], source: str = "") -> None:
        """Load :meth:`weights` (from a checkpoint or ``--init-from``); a mismatch raises ``InputError``."""
        try:
            self.load_state_dict(state)
        except RuntimeError as e:
            raise InputError(f"{source or 'weights'}: do not fit {self.name} {self.describe()} "
                             f"({str(e).splitlines()[0]})") from None

    def forward(self, batch: torch.Tensor, ctx: StepContext) -> StepOutput:  # DDP calls this
        return self.training_step(batch, ctx)


def check_groups(model: TrainableModel) -> dict[str, list[nn.Parameter]]:
    """:meth:`TrainableModel.parameter_groups`, checked: every parameter in exactly one group."""
    groups = model.parameter_groups()
    seen: dict[int, str] = {}
    for g, ps in groups.items():
        for p in ps:
            if id(p) in seen:
                raise ValueError(f"{model.name}: a parameter is in groups {seen[id(p)]!r} and {g!r}")
            seen[id(p)] = g
    missing = [n for n, p in model.named_parameters() if id(p) not in seen]
    if missing:
        raise ValueError(f"{model.name}: parameters in no group: {', '.join(missing[:5])}")
    return groups
