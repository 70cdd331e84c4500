"""Batches for training steps, per data-parallel rank: a torch ``IterableDataset`` over a
:class:`~tokcom.train.data.ClipSampler`.

Every sample is a pure function of ``(seed, step, j)`` where ``j = rank · batch + i`` is its index in the
*global* batch of that step (``numpy.random.default_rng([seed, step, j])``). Consequences:

* each rank draws a different stream (its ``j`` differ), from ``(seed, rank)``;
* the global batch of a step does not depend on how it is split: 2 processes × batch b see exactly the
  samples of 1 process × batch 2b (which is what makes DDP runs comparable to single-process ones);
* a resumed run needs no saved data-RNG state: step ``s`` gives the same batch whenever it is drawn;
* ``DataLoader`` workers split the steps (worker ``w`` of ``W`` draws steps ``≡ w mod W``, and the loader
  returns them in order), so the batches do not depend on the number of workers either.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from tokcom.train.data import ClipSampler
from tokcom.video.transform import to_tensor


@dataclass(frozen=True)
class ClipGeometry:
    """What one step draws per process: ``batch`` clips of ``frames`` frames, ``crop × crop`` pixels."""

    batch: int
    frames: int
    crop: int


def sample_rng(seed: int, step: int, index: int) -> np.random.Generator:
    """The generator of sample ``index`` (global batch position) of ``step``."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(step), int(index)])


def batch_at(sampler: ClipSampler, geom: ClipGeometry, seed: int, step: int, rank: int = 0) -> np.ndarray:
    """``[batch, frames, crop, crop, 3]`` uint8: rank ``rank``'s share of the global batch of ``step``."""
    out = np.empty((geom.batch, geom.frames, geom.crop, geom.crop, 3), np.uint8)
    for i in range(geom.batch):
        out[i] = sampler.sample_one(sample_rng(seed, step, rank * geom.batch + i), geom.frames, geom.crop)
    return out


class ClipStream(IterableDataset):
    """``(step, uint8 tensor [B, T, H, W, 3])`` for steps ``start, start+1, …`` (up to ``stop``, exclusive;
    None: forever), rank ``rank``'s share of each global batch.

    Args:
        sampler: the training sources.
        geom: batch (per process), frames, crop.
        seed: run seed.
        rank: data-parallel rank (0 without DDP).
        start: first step drawn (a resumed run starts at its checkpoint's step).
        stop: first step not drawn.
    """

    def __init__(self, sampler: ClipSampler, geom: ClipGeometry, seed: int = 0, rank: int = 0, start: int = 0,
                 stop: int | None = None) -> None:
        super().__init__()
        self.sampler, self.geom, self.seed, self.rank = sampler, geom, seed, rank
        self.start, self.stop = start, stop

    def __iter__(self) -> Iterator[tuple[int, torch.Tensor]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        steps = itertools.count(self.start + wid, nw)
        for s in steps:
            if self.stop is not None and s >= self.stop:
                return
            yield s, torch.from_numpy(batch_at(self.sampler, self.geom, self.seed, s, self.rank))


def batches(stream: ClipStream, workers: int = 0, pin_memory: bool = False) -> Iterator[tuple[int, torch.Tensor]]:
    """Iterate ``stream`` through a ``DataLoader`` with ``workers`` processes (0: in this process)."""
    if workers <= 0:
        return iter(stream)
    loader = DataLoader(stream, batch_size=None, num_workers=workers, pin_memory=pin_memory,
                        persistent_workers=False, prefetch_factor=2)
    return iter(loader)


def to_model_input(clips: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """uint8 ``[B, T, H, W, 3]`` → float32 ``(B, 3, T, H, W)`` in [-1, 1] on ``device``, through the one
    model-boundary converter :func:`tokcom.video.transform.to_tensor` (conversion on the device)."""
    return to_tensor(clips.numpy() if isinstance(clips, torch.Tensor) else clips, device=str(device))
