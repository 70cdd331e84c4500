"""Training of the built-in tokenizers (``tokcom tokenizer train``): a thin wrapper over the training engine.

:class:`TrainConfig` keeps the options of ``tokcom tokenizer train``; :func:`train` turns them into the
tokenizer's ``default`` recipe (:func:`tokcom.tokenizers.trainable.tokenizer_recipe`: L1 + MSE, optional
LPIPS-alex and hinge GAN after ``adv_start`` steps, ResiTok's random-prefix decode) and a
:class:`tokcom.train.RunConfig`, and runs :class:`tokcom.train.Trainer`. The run folder is unchanged:
``OUT/ckpt/`` (``model.safetensors`` fp32, ``state.pt``, ``config.json``), ``OUT/export/<name>.{safetensors,
json}`` (fp16, exported at every checkpoint), ``OUT/train.log``, plus the engine's ``OUT/record.json`` and
``OUT/loss.png``. A run restarted with the same ``out`` resumes; ``init_from`` fine-tunes with a fresh
optimizer and schedule. ``tokcom train --model NAME --recipe default|perceptual|FILE.yaml`` is the general
form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tokcom.errors import InputError
from tokcom.tokenizers.trainable import (
    PREFIX_FRACTIONS,
    PRESETS,
    build_net,
    resitok_prefix_missing,
    tokenizer_recipe,
)
from tokcom.train.checkpoint import init_weights as _init_weights  # noqa: F401  (the name before the engine)
from tokcom.train.gan import PatchDiscriminator as PatchDisc  # noqa: F401
from tokcom.train.record import hardware as _hardware  # noqa: F401

__all__ = ["PREFIX_FRACTIONS", "PRESETS", "TrainConfig", "build_net", "resitok_prefix_missing", "run_config", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``frames``/``crop``/``batch`` of 0 take the model preset's values."""

    model: str = "tokcom-dv4x8x8"
    data: tuple[str, ...] = ()
    out: str = "runs/tok"
    steps: int = 20000
    max_minutes: float = 0.0  # 0: no time limit; else the cosine schedule follows max(step, time) progress
    lr: float = 1e-3
    min_lr_ratio: float = 0.05
    warmup: int = 100
    batch: int = 0
    frames: int = 0
    crop: int = 0
    mse_weight: float = 1.0
    lpips_weight: float = 0.0
    adv_weight: float = 0.0
    adv_start: int = 2000
    threads: int = 0
    seed: int = 0
    device: str = "cpu"
    amp: bool = True
    ckpt_every: int = 200
    log_every: int = 20
    arch: dict[str, Any] = field(default_factory=dict)
    init_from: str = ""  # fine-tune: start from these weights (run folder or .safetensors), fresh schedule

    def resolved(self) -> TrainConfig:
        if self.model not in PRESETS:
            raise InputError(f"unknown built-in tokenizer {self.model!r}; valid: {', '.join(PRESETS)}")
        p = PRESETS[self.model]
        return replace(self, batch=self.batch or p["batch"], frames=self.frames or p["frames"],
                       crop=self.crop or p["crop"], arch={**p["arch"], **self.arch})


def run_config(cfg: TrainConfig):
    """The engine's :class:`~tokcom.train.RunConfig` for ``cfg`` (its recipe built from the knobs)."""
    from tokcom.train.engine import RunConfig

    cfg = cfg.resolved()
    recipe = tokenizer_recipe(cfg.model, steps=cfg.steps, lr=cfg.lr, warmup=cfg.warmup,
                              min_lr_ratio=cfg.min_lr_ratio, mse_weight=cfg.mse_weight,
                              lpips_weight=cfg.lpips_weight, adv_weight=cfg.adv_weight, adv_start=cfg.adv_start)
    return RunConfig(model=cfg.model, data=tuple(cfg.data), out=cfg.out, recipe=recipe, steps=0,
                     max_minutes=cfg.max_minutes, budget="anneal", batch=cfg.batch, frames=cfg.frames,
                     crop=cfg.crop, device=cfg.device, amp=cfg.amp, threads=cfg.threads, seed=cfg.seed,
                     ckpt_every=cfg.ckpt_every, log_every=cfg.log_every, init_from=cfg.init_from,
                     model_options=dict(cfg.arch))


def train(cfg: TrainConfig) -> Path:
    """Train (or resume) ``cfg.model``; returns the exported safetensors path."""
    from tokcom.train.engine import Trainer

    if not cfg.data:
        raise InputError("no training data: give --data FOLDER (see scripts/assemble_training_set.py)")
    return Trainer(run_config(cfg)).fit().export
