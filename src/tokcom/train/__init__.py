"""The training engine of tokcom: one loop for every learned part (tokenizers now; PVSC and TVC next).

Re-exports only. Modules: :mod:`~tokcom.train.data` (sources and clip sampling), :mod:`~tokcom.train.sources`
(Vimeo-90K septuplets, shard exports), :mod:`~tokcom.train.stream` (per-rank batches), :mod:`~tokcom.train.model`
(the :class:`TrainableModel` adapter), :mod:`~tokcom.train.recipe` (stages, recipes, ``TRAINABLE``),
:mod:`~tokcom.train.losses` and :mod:`~tokcom.train.gan` (loss terms), :mod:`~tokcom.train.config` and
:mod:`~tokcom.train.engine` (the run and the trainer), :mod:`~tokcom.train.checkpoint`, :mod:`~tokcom.train.distributed`, :mod:`~tokcom.train.record`,
:mod:`~tokcom.train.toy` (the smallest model). See docs/training.md.
"""

from __future__ import annotations

from tokcom.train.data import HELD_OUT_CLIPS, ClipSampler, DataConfig
from tokcom.train.engine import RunConfig, RunResult, Trainer, train
from tokcom.train.gan import PatchDiscriminator, hinge_d_loss, hinge_g_loss
from tokcom.train.losses import GENERIC, LossSet, PerceptualLoss
from tokcom.train.model import StepContext, StepOutput, TrainableModel
from tokcom.train.recipe import TRAINABLE, Recipe, Stage, TrainableSpec, load_recipe, register_trainable
from tokcom.train.sources import ShardExport, VimeoSeptuplets
from tokcom.train.stream import ClipGeometry, ClipStream, batch_at

__all__ = [
    "GENERIC",
    "HELD_OUT_CLIPS",
    "TRAINABLE",
    "ClipGeometry",
    "ClipSampler",
    "ClipStream",
    "DataConfig",
    "LossSet",
    "PatchDiscriminator",
    "PerceptualLoss",
    "Recipe",
    "RunConfig",
    "RunResult",
    "ShardExport",
    "Stage",
    "StepContext",
    "StepOutput",
    "TrainableModel",
    "TrainableSpec",
    "Trainer",
    "VimeoSeptuplets",
    "batch_at",
    "hinge_d_loss",
    "hinge_g_loss",
    "load_recipe",
    "register_trainable",
    "train",
]
