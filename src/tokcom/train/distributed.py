"""Data-parallel training under ``torchrun``: process-group setup, DDP wrapping, reductions, teardown.

Launched by ``torchrun --nproc_per_node N`` (or ``python -m torch.distributed.run``), every process sees
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous variables; :func:`setup` then joins the group
(NCCL on CUDA, gloo on CPU). Without them the run is a single process and nothing here does anything.

Teardown is deterministic (:func:`teardown`): the DDP wrappers are released first (their reducers hold
communication buffers and hooks), then all ranks meet at a barrier, then the group is destroyed. With torch
2.13 on CPU, a finished 2-process gloo job that skipped this aborted at interpreter exit ("terminate called
without an active exception", SIGABRT) in about half of the runs.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """This process's place: ``rank`` of ``world_size``, ``local_rank`` on its node, its ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def setup(device: str = "cpu", timeout_s: float = 1800.0) -> DistInfo:
    """Join the process group when launched by torchrun; the device is ``cuda:LOCAL_RANK`` on CUDA."""
    dev = torch.device(device)
    if not launched_by_torchrun():
        return DistInfo(device=dev)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if dev.type == "cuda":
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        kw = {"device_id": dev} if dev.type == "cuda" else {}
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s), **kw)
    return DistInfo(rank, world, local, dev)


def wrap(module: nn.Module, info: DistInfo, find_unused_parameters: bool = False) -> nn.Module:
    """``module`` in DistributedDataParallel (over its parameters that require grad), or itself."""
    if not info.enabled or not any(p.requires_grad for p in module.parameters()):
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [info.device.index] if info.device.type == "cuda" else None
    return DDP(module, device_ids=ids, find_unused_parameters=find_unused_parameters)


def unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "module", module)


def all_reduce_max(values: list[float], info: DistInfo) -> list[float]:
    """Element-wise maximum of ``values`` over ranks (stop flags, elapsed time): every rank decides alike."""
    if not info.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=_comm_device(info))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.tolist()


def all_reduce_mean(values: dict[str, torch.Tensor], info: DistInfo) -> dict[str, float]:
    """Mean over ranks of scalar tensors (the logged loss terms), as floats."""
    keys = sorted(values)
    if not keys:
        return {}
    dev = _comm_device(info) if info.enabled else values[keys[0]].device
    t = torch.stack([values[k].detach().to(dev, torch.float64).reshape(()) for k in keys])
    if info.enabled:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t /= info.world_size
    return dict(zip(keys, t.tolist(), strict=True))


def broadcast_module(module: nn.Module, info: DistInfo) -> None:
    """Copy rank 0's parameters and buffers to every rank (after loading a checkpoint or init weights)."""
    if not info.enabled:
        return
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t.data, src=0)


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def _comm_device(info: DistInfo) -> torch.device:
    return info.device if info.device.type == "cuda" else torch.device("cpu")


def teardown(info: DistInfo) -> None:
    """Meet at a barrier, then destroy the process group. The caller drops its DDP wrappers first (the
    engine sets them to None); the garbage collection here frees their reducers before the barrier."""
    gc.collect()
    if info.enabled and dist.is_initialized():
        if info.device.type == "cuda":
            torch.cuda.synchronize()
        dist.barrier()
        dist.destroy_process_group()
