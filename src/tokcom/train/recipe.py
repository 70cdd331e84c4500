"""Recipes (multi-stage training plans) and the registry of trainable models, ``TRAINABLE``.

A :class:`Recipe` is a list of :class:`Stage` s run one after the other on one optimizer. A stage says how
long it runs, its learning-rate schedule (linear warm-up, then cosine decay to ``min_lr_ratio`` or constant),
its loss weights by term name (:mod:`tokcom.train.losses`), which parameter groups train (the rest are
frozen), whether the GAN discriminator trains, the clip geometry (a GOP-length curriculum is a sequence of
stages with growing ``frames``) and model options. PVSC's three stages (paper 002 §III-D) read::

    Stage("ideal", 40000, lr=1e-4, losses={"l1": 1, "lpips_vgg": 0.8, "rate": 1}, freeze=("f_tx", "f_rx"),
          options={"quantization": "noise"}, frames=3)
    Stage("channel", 20000, lr=1e-4, losses={...}, train=("f_tx", "f_rx"), options={"snr_db": 10})
    Stage("joint", 10000, lr=1e-5, losses={..., "gan": 0.1}, gan=True, frames=7)

Recipes are declared in code (frozen dataclasses, registered with their model) or in a YAML/JSON file with
the same fields (:func:`load_recipe`).

The clock: the run's progress ``p`` is ``step / total_steps``, or, when a wall-clock budget anneals the
schedule, ``max(step / total, elapsed / budget)``. The stage is the one holding ``p · total`` of the stacked
stage lengths, and its schedule follows the fraction of it that has passed (:meth:`Recipe.locate`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tokcom.errors import InputError
from tokcom.registry import Registry

SCHEDULES = ("cosine", "constant")


def _pairs(value: Any) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), v) for k, v in items))


@dataclass(frozen=True)
class Stage:
    """One stage of a recipe.

    Attributes:
        name: shown in logs and the record.
        steps: optimizer steps.
        lr: peak learning rate; warmup: linear warm-up steps from the stage start; min_lr_ratio: the cosine
            ends at ``lr · min_lr_ratio``; schedule: ``cosine`` or ``constant`` (after the warm-up).
        losses: ``term name → weight`` (mapping; stored as sorted pairs).
        train: parameter groups trained (empty: every group not in ``freeze``); freeze: groups frozen.
        lr_mult: ``group → factor`` on ``lr``.
        gan: train the patch discriminator during this stage (the generator term is the ``gan`` weight).
        gan_start: steps into the stage before the discriminator trains and the ``gan`` term counts (VQGAN's
            ``disc_start``: the reconstruction settles first).
        frames, crop, batch: clip geometry of this stage (0: the run's / model's).
        options: model switches read by ``ctx.option(name)`` (mapping; stored as sorted pairs).
        reset_optimizer: clear the optimizer state when the stage starts.
    """

    name: str
    steps: int
    lr: float = 1e-3
    warmup: int = 100
    min_lr_ratio: float = 0.05
    schedule: str = "cosine"
    losses: Any = (("l1", 1.0),)
    train: tuple[str, ...] = ()
    freeze: tuple[str, ...] = ()
    lr_mult: Any = ()
    gan: bool = False
    gan_start: int = 0
    frames: int = 0
    crop: int = 0
    batch: int = 0
    options: Any = ()
    reset_optimizer: bool = False

    def __post_init__(self) -> None:
        for k in ("losses", "lr_mult", "options"):
            object.__setattr__(self, k, _pairs(getattr(self, k)))
        object.__setattr__(self, "train", tuple(self.train))
        object.__setattr__(self, "freeze", tuple(self.freeze))
        if self.steps < 0 or self.lr < 0 or self.warmup < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise InputError(f"stage {self.name!r}: steps, lr and warmup must be ≥ 0, min_lr_ratio in [0, 1]")
        if self.schedule not in SCHEDULES:
            raise InputError(f"stage {self.name!r}: schedule must be one of {', '.join(SCHEDULES)}")

    @property
    def loss_weights(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.losses}

    def trainable(self, groups: list[str]) -> list[str]:
        """The groups this stage trains, from all of the model's ``groups``."""
        unknown = sorted((set(self.train) | set(self.freeze)) - set(groups))
        if unknown:
            raise InputError(f"stage {self.name!r} names unknown parameter groups {unknown}; valid: {groups}")
        chosen = self.train or tuple(groups)
        return [g for g in groups if g in chosen and g not in self.freeze]

    def lr_at(self, stage_step: int, fraction: float) -> float:
        """Learning rate at ``stage_step`` steps into the stage, ``fraction`` ∈ [0, 1] of it elapsed."""
        warm = min(1.0, (stage_step + 1) / self.warmup) if self.warmup > 0 else 1.0
        if self.schedule == "constant":
            return self.lr * warm
        m = self.min_lr_ratio
        return self.lr * warm * (m + (1 - m) * 0.5 * (1 + math.cos(math.pi * min(max(fraction, 0.0), 1.0))))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("losses", "lr_mult", "options"):
            d[k] = dict(getattr(self, k))
        d["train"], d["freeze"] = list(self.train), list(self.freeze)
        return d


@dataclass(frozen=True)
class Recipe:
    """A training plan: stages run in order on one optimizer (Adam/AdamW with ``betas``).

    Attributes:
        name, description: shown by ``tokcom train --list`` and recorded.
        stages: at least one.
        betas, weight_decay: the optimizer's (``weight_decay > 0``: AdamW).
        grad_clip: max gradient norm (0: none).
        disc_lr_ratio: discriminator lr as a multiple of the stage lr; disc_betas: its Adam betas.
    """

    name: str
    stages: tuple[Stage, ...]
    description: str = ""
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    disc_lr_ratio: float = 1.0
    disc_betas: tuple[float, float] = (0.5, 0.99)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "betas", tuple(self.betas))
        object.__setattr__(self, "disc_betas", tuple(self.disc_betas))
        if not self.stages:
            raise InputError(f"recipe {self.name!r} has no stages")

    @property
    def total_steps(self) -> int:
        return sum(s.steps for s in self.stages)

    @property
    def uses_gan(self) -> bool:
        return any(s.gan for s in self.stages)

    def locate(self, position: float) -> tuple[int, float]:
        """``(stage index, fraction of that stage elapsed)`` at ``position`` steps along the stacked stages."""
        start = 0.0
        for i, s in enumerate(self.stages):
            if position < start + s.steps or i == len(self.stages) - 1:
                return i, (position - start) / s.steps if s.steps else 1.0
            start += s.steps
        return len(self.stages) - 1, 1.0  # pragma: no cover

    def stage_start(self, index: int) -> int:
        return sum(s.steps for s in self.stages[:index])

    def with_steps(self, total: int) -> Recipe:
        """The recipe with its stage lengths scaled to ``total`` steps (proportionally, largest remainder)."""
        old = self.total_steps
        if total == old:
            return self
        if total < 0:
            raise InputError("--steps must be ≥ 0")
        if old == 0:
            shares = [total / len(self.stages)] * len(self.stages)
        else:
            shares = [s.steps * total / old for s in self.stages]
        steps = [math.floor(x) for x in shares]
        for i in sorted(range(len(shares)), key=lambda i: steps[i] - shares[i])[: total - sum(steps)]:
            steps[i] += 1
        return replace(self, stages=tuple(replace(s, steps=n) for s, n in zip(self.stages, steps, strict=True)))

    def with_lr(self, lr: float) -> Recipe:
        """The recipe with every stage's lr scaled so that the first stage peaks at ``lr``."""
        base = self.stages[0].lr
        if lr <= 0 or base <= 0 or lr == base:
            return self
        f = lr / base
        return replace(self, stages=tuple(replace(s, lr=s.lr * f) for s in self.stages))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "betas": list(self.betas),
                "weight_decay": self.weight_decay, "grad_clip": self.grad_clip,
                "disc_lr_ratio": self.disc_lr_ratio, "disc_betas": list(self.disc_betas),
                "stages": [s.to_dict() for s in self.stages]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], name: str = "") -> Recipe:
        stage_keys = {f.name for f in fields(Stage)}
        recipe_keys = {f.name for f in fields(cls)}
        bad = sorted(set(d) - recipe_keys)
        if bad:
            raise InputError(f"recipe: unknown keys {bad}; valid: {sorted(recipe_keys)}")
        stages = []
        for i, sd in enumerate(d.get("stages") or []):
            bad = sorted(set(sd) - stage_keys)
            if bad:
                raise InputError(f"recipe stage {i}: unknown keys {bad}; valid: {sorted(stage_keys)}")
            stages.append(Stage(**{"name": f"stage{i}", **sd}))
        kw = {k: v for k, v in d.items() if k not in ("stages", "name")}
        return cls(name=str(d.get("name") or name or "custom"), stages=tuple(stages), **kw)


def load_recipe(source: str | Path | Recipe, recipes: Mapping[str, Recipe]) -> Recipe:
    """A recipe by name from ``recipes`` (a model's), or from a ``.yaml``/``.yml``/``.json`` file."""
    if isinstance(source, Recipe):
        return source
    s = str(source)
    if s in recipes:
        return recipes[s]
    p = Path(s).expanduser()
    if p.suffix.lower() in (".yaml", ".yml", ".json"):
        if not p.is_file():
            raise InputError(f"recipe file {p} not found")
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".json":
            d = json.loads(text)
        else:
            try:
                import yaml
            except ImportError:
                raise InputError("YAML recipes need PyYAML (pip install pyyaml), or write the recipe as JSON") from None
            d = yaml.safe_load(text)
        if not isinstance(d, Mapping):
            raise InputError(f"recipe file {p}: expected a mapping with 'stages'")
        return Recipe.from_dict(d, name=p.stem)
    raise InputError(f"unknown recipe {s!r}; valid: {', '.join(sorted(recipes))} or a .yaml/.json file")


@dataclass(frozen=True)
class TrainableSpec:
    """A registered trainable model.

    Attributes:
        name: the ``--model`` name.
        build: ``options → TrainableModel`` (options: architecture overrides, e.g. ``{"width": 32}``).
        recipes: ``name → Recipe``; ``default`` is used when none is named.
        frames, crop, batch: default clip geometry per process (a stage or the run may override).
        description: one line for ``tokcom train --list``.
    """

    name: str
    build: Callable[[dict[str, Any]], Any] = field(compare=False)
    recipes: Mapping[str, Recipe] = field(default_factory=dict, compare=False)
    frames: int = 1
    crop: int = 64
    batch: int = 8
    description: str = ""

    def recipe(self, source: str | Path | Recipe = "default") -> Recipe:
        return load_recipe(source, self.recipes)


TRAINABLE: Registry = Registry("trainable model", ["tokcom.train.toy", "tokcom.tokenizers.trainable",
                                                   "tokcom.schemes.pvsc.trainable",
                                                   "tokcom.schemes.tvc.trainable"])
"""``name → TrainableSpec``. Register with ``TRAINABLE.register(spec.name)(spec)``."""


def register_trainable(spec: TrainableSpec) -> TrainableSpec:
    """Register ``spec`` under its name (a model package calls this at import)."""
    return TRAINABLE.register(spec.name, spec.description)(spec)
