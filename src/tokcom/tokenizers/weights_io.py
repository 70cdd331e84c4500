"""Shipped weights of the built-in tokenizers: ``weights/<name>.safetensors`` (fp16) + ``<name>.json``.

The JSON holds the architecture config, the sha256 of the safetensors file (checked at every load) and the
training record (data, steps, hardware, time, quality). Tensors are read with ``safetensors`` only (never a
pickle).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tokcom.errors import WeightsUnavailable
from tokcom.models import sha256_file

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def weight_files(name: str, directory: str | Path | None = None) -> tuple[Path, Path]:
    d = Path(directory) if directory is not None else WEIGHTS_DIR
    return d / f"{name}.safetensors", d / f"{name}.json"


def read_config(name: str, directory: str | Path | None = None) -> dict[str, Any]:
    st, js = weight_files(name, directory)
    if not js.is_file() or not st.is_file():
        raise WeightsUnavailable(f"weights of tokenizer {name} not found ({st}); train them with: "
                                 f"tokcom tokenizer train --model {name}")
    return json.loads(js.read_text())


def load_tensors(name: str, directory: str | Path | None = None, device: str = "cpu") -> tuple[dict, dict]:
    """``(state_dict (float32 tensors), config)``; the file's sha256 must match the JSON."""
    from safetensors.torch import load_file

    cfg = read_config(name, directory)
    st, _ = weight_files(name, directory)
    digest = sha256_file(st)
    if digest != cfg.get("sha256"):
        raise WeightsUnavailable(f"weights of tokenizer {name} ({st}) have sha256 {digest[:12]}…, "
                                 f"expected {str(cfg.get('sha256'))[:12]}…; reinstall tokcom")
    sd = load_file(str(st), device=str(device))
    return {k: v.float() for k, v in sd.items()}, cfg


def save_weights(name: str, state_dict: dict, config: dict[str, Any], directory: str | Path | None = None,
                 dtype: str = "float16") -> Path:
    """Write ``<name>.safetensors`` (tensors cast to ``dtype``) and ``<name>.json`` (config + sha256)."""
    import torch
    from safetensors.torch import save_file

    st, js = weight_files(name, directory)
    st.parent.mkdir(parents=True, exist_ok=True)
    dt = getattr(torch, dtype)
    tensors = {k: v.detach().to("cpu", dt).contiguous() for k, v in sorted(state_dict.items())}
    tmp = st.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(st)
    st.chmod(0o644)
    cfg = dict(config)
    cfg["sha256"] = sha256_file(st)
    cfg["dtype"] = dtype
    cfg["bytes"] = st.stat().st_size
    js.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    return st
