"""The configuration of one training run (``tokcom train``) and how it ended."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tokcom.train.recipe import Recipe

BUDGETS = ("anneal", "stop")


@dataclass(frozen=True)
class RunConfig:
    """One training run (``tokcom train``). Zeros mean "the recipe's / model's value".

    Attributes:
        model: a ``TRAINABLE`` name; recipe: a recipe name of that model, a YAML/JSON file or a Recipe.
        data: training sources (folders, files, a corpus, a Vimeo-90K root, a shard export).
        out: the run folder. steps: total steps (the recipe's stages scaled to it).
        max_minutes, budget: wall-clock budget and what it does (``anneal`` | ``stop``).
        batch (per process), frames, crop: clip geometry. lr: peak lr of the first stage (others scaled).
        device, amp: ``cpu`` | ``cuda``; bf16 autocast on CUDA. threads: torch CPU threads (0: default).
        seed: run seed. ckpt_every, log_every: steps. init_from: run folder or .safetensors to start from.
        model_options: architecture overrides for the model's build. data_options: DataConfig fields.
        workers: DataLoader worker processes (0: in the training process). plot_every_s: plot throttle.
        stop_after: stop (checkpoint, resumable) after this many steps in this session (0: no limit), to
            train in chunks on a shared machine.
    """

    model: str
    data: tuple[str, ...] = ()
    out: str = "runs/train"
    recipe: Any = "default"
    steps: int = 0
    max_minutes: float = 0.0
    budget: str = "anneal"
    batch: int = 0
    frames: int = 0
    crop: int = 0
    lr: float = 0.0
    device: str = "cpu"
    amp: bool = True
    threads: int = 0
    seed: int = 0
    ckpt_every: int = 200
    log_every: int = 20
    init_from: str = ""
    model_options: dict[str, Any] = field(default_factory=dict)
    data_options: dict[str, Any] = field(default_factory=dict)
    workers: int = 0
    plot_every_s: float = 300.0
    stop_after: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["recipe"] = self.recipe.name if isinstance(self.recipe, Recipe) else str(self.recipe)
        return d


@dataclass(frozen=True)
class RunResult:
    """How a run ended: ``status`` ``done`` | ``budget`` | ``paused`` (``stop_after``) | ``SIGTERM`` | ``SIGINT``."""

    out: Path
    export: Path | None
    record: Path | None
    steps: int
    seconds: float
    status: str
