"""Checkpoints of a run, and the weights a run starts from (``--init-from``).

A run folder's checkpoint (written atomically; a crash mid-write leaves the previous one)::

    RUN/ckpt/model.safetensors   the model's weights (fp32; TrainableModel.weights())
    RUN/ckpt/state.pt            optimizer (+ discriminator and its optimizer), step, stage and the step it
                                 began at, elapsed seconds, RNG states (torch, CUDA, numpy, python);
                                 read with torch.load(weights_only=True)
    RUN/ckpt/config.json         the run config and the recipe

The data stream needs no saved state: every batch is a function of (seed, step, rank)
(:mod:`tokcom.train.stream`). The learning rate is a function of (stage, step, elapsed), so the schedule's
state is the step, the stage and the elapsed time.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokcom.errors import InputError
from tokcom.tokenizers.weights_io import load_tensors

MODEL_FILE = "model.safetensors"
STATE_FILE = "state.pt"
CONFIG_FILE = "config.json"


def capture_rng() -> dict[str, Any]:
    """Global RNG states (torch CPU and CUDA, numpy's legacy global, python's ``random``)."""
    _kind, keys, pos, has_gauss, gauss = np.random.get_state()
    out: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss),
                  "gauss": float(gauss)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def restore_rng(state: dict[str, Any]) -> None:
    if "torch" in state:
        torch.set_rng_state(state["torch"].cpu())
    if "numpy" in state:
        n = state["numpy"]
        np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    if "python" in state:
        v, internal, gauss = state["python"]
        random.setstate((v, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        for i, s in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(s.cpu(), i)


def has_checkpoint(ckpt: Path) -> bool:
    return (ckpt / STATE_FILE).is_file() and (ckpt / MODEL_FILE).is_file()


def save_checkpoint(ckpt: Path, weights: dict[str, torch.Tensor], state: dict[str, Any],
                    config: dict[str, Any] | None = None) -> None:
    """Write ``weights`` (fp32 safetensors) and ``state`` (torch) into ``ckpt``, each atomically."""
    from safetensors.torch import save_file

    ckpt.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().to("cpu", torch.float32 if v.is_floating_point() else v.dtype).contiguous()
          for k, v in weights.items()}
    save_file(sd, str(ckpt / "model.tmp"))
    os.replace(ckpt / "model.tmp", ckpt / MODEL_FILE)
    torch.save(state, ckpt / "state.tmp")
    os.replace(ckpt / "state.tmp", ckpt / STATE_FILE)
    if config is not None:
        (ckpt / "config.tmp").write_text(json.dumps(config, indent=2, default=str))
        os.replace(ckpt / "config.tmp", ckpt / CONFIG_FILE)


def load_checkpoint(ckpt: Path, device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(weights, state)`` of the checkpoint in ``ckpt``."""
    from safetensors.torch import load_file

    if not has_checkpoint(ckpt):
        raise InputError(f"no checkpoint in {ckpt}")
    weights = load_file(str(ckpt / MODEL_FILE), device=str(device))
    state = torch.load(ckpt / STATE_FILE, map_location=device, weights_only=True)
    return weights, state


def _record_of(p: Path) -> dict[str, Any]:
    """The training record kept beside a run folder or an exported weights file."""
    try:
        if p.is_dir():
            if (p / "record.json").is_file():
                return json.loads((p / "record.json").read_text())
            exports = sorted((p / "export").glob("*.json"))
            return json.loads(exports[0].read_text()) if exports else {}
        js = p.with_suffix(".json")
        return json.loads(js.read_text()) if js.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def init_weights(src: str, load: bool = True) -> tuple[dict[str, torch.Tensor] | None, dict[str, Any]]:
    """Weights to start a run from: a run folder (its ``ckpt/model.safetensors``, fp32) or a ``.safetensors``
    file (exported or shipped fp16 weights; with a JSON beside it that records a sha256, the file must
    match it). Returns ``(state_dict or None when not load, lineage)``; the lineage ``{from, steps,
    seconds}`` sums the steps and seconds of every earlier run in the chain, for the new run's record."""
    from safetensors.torch import load_file

    p = Path(src).expanduser()
    record = _record_of(p)
    st = p / "ckpt" / MODEL_FILE if p.is_dir() else p
    if not st.is_file():
        raise InputError(f"--init-from {src}: no weights there (expected a run folder or a .safetensors file)")
    tr = record.get("training", {})
    before = tr.get("init_from", {})
    lineage = {"from": p.name, "steps": int(tr.get("steps", 0)) + int(before.get("steps", 0)),
               "seconds": round(float(tr.get("seconds", 0.0)) + float(before.get("seconds", 0.0)), 1)}
    if not load:
        return None, lineage
    if p.is_file() and record.get("sha256"):
        return load_tensors(p.stem, p.parent)[0], lineage
    return {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(st)).items()}, lineage
