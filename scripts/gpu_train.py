#!/usr/bin/env python3
"""Train on a short-lease GPU machine from ``.npz`` shards (docs/training.md, "The short-lease GPU path").

The machine has PyTorch, numpy, OpenCV and safetensors but no PyAV and no network; a command runs at most
10 minutes, at most 64 MiB travel in and 16 MiB per file come back. So: carry one shard export of
``tokcom data export --frames 17 --size 128 --max-mib 60 --max-shards 1`` (and, to continue a model, its
fp16 ``.safetensors`` + ``.json``), train for ``--minutes`` with the schedule annealed to that budget, and
copy back only what is small: the fp16 export, its JSON, ``record.json``, ``train.log``, ``loss.png`` and a
``summary.json`` (6 files; the fp32 checkpoint and optimizer state stay behind). An export over 16 MiB (the paper
PVSC's is 43 MB in fp16) comes back as ``<name>.safetensors.part000``, ``.part001``, …; ``python3
scripts/gpu_train.py --join FOLDER`` joins them here.

::

    python3 scripts/gpu_train.py --model tokcom-dv8x16x16 --data shards --minutes 7 --out "$OUT" \\
        [--init-from shards/tokcom-dv8x16x16.safetensors] [--batch 32 --crop 128 --frames 17] [--workers 8]

Runs from a source checkout without installing tokcom (``src/`` is put on ``sys.path``). On CPU (no CUDA)
it trains on the CPU: the tests run it that way on a tiny shard.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILE_LIMIT = 16 * 2**20


def _import_tokcom() -> None:
    try:
        import tokcom  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(REPO / "src"))


PART_BYTES = 15 * 2**20


def split_file(path: Path, out: Path) -> list[str]:
    """Write ``path`` as ``out/<name>.part000``, ``.part001``, … of at most :data:`PART_BYTES` each (a file the
    device tool would not return whole); ``--join`` puts them back together. Returns the part names."""
    names = []
    with open(path, "rb") as src:
        while chunk := src.read(PART_BYTES):
            name = f"{path.name}.part{len(names):03d}"
            (out / name).write_bytes(chunk)
            names.append(name)
    return names


def join_parts(folder: Path) -> list[Path]:
    """Join every ``<name>.part000…`` in ``folder`` back into ``<name>`` (the parts are removed); the export's
    JSON beside it holds its sha256, which loading checks."""
    joined = []
    for first in sorted(folder.glob("*.part000")):
        target = first.with_name(first.name[: -len(".part000")])
        parts = sorted(folder.glob(target.name + ".part[0-9][0-9][0-9]"))
        with open(target, "wb") as dst:
            dst.writelines(p.read_bytes() for p in parts)
        for p in parts:
            p.unlink()
        joined.append(target)
    return joined


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--join"]:  # here, after the device call: python3 scripts/gpu_train.py --join FOLDER
        for folder in argv[1:]:
            for t in join_parts(Path(folder)):
                print(f"joined {t} ({t.stat().st_size / 2**20:.1f} MiB)")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, action="append", help="shard export folder (repeatable)")
    ap.add_argument("--out", required=True, help="folder for the files that come back")
    ap.add_argument("--minutes", type=float, required=True, help="training budget (schedule annealed to it)")
    ap.add_argument("--recipe", default="default")
    ap.add_argument("--steps", type=int, default=1_000_000, help="step cap (default: the time budget decides)")
    ap.add_argument("--init-from", default="")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--frames", type=int, default=0)
    ap.add_argument("--crop", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0.0)
    ap.add_argument("--device", default="")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ckpt-every", type=int, default=2000)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--arch", action="append", default=[], help="model option KEY=VALUE (repeatable)")
    ap.add_argument("--work", default="", help="run folder (default: a fresh folder under /tmp)")
    a = ap.parse_args(argv)

    _import_tokcom()
    import logging

    import torch

    from tokcom.train.engine import RunConfig, Trainer

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    work = Path(a.work) if a.work else Path(f"/tmp/tokcom-gpu-train-{int(time.time())}")
    arch = {}
    for kv in a.arch:
        k, _, v = kv.partition("=")
        try:
            arch[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            arch[k.strip()] = v
    print(f"torch {torch.__version__}, device {device}"
          f"{' (' + torch.cuda.get_device_name(0) + ')' if device.startswith('cuda') else ''}; run folder {work}",
          flush=True)
    cfg = RunConfig(model=a.model, data=tuple(a.data), out=str(work), recipe=a.recipe, steps=a.steps,
                    max_minutes=a.minutes, budget="anneal", batch=a.batch, frames=a.frames, crop=a.crop, lr=a.lr,
                    device=device, threads=a.threads, seed=a.seed, ckpt_every=a.ckpt_every,
                    log_every=a.log_every, init_from=a.init_from, model_options=arch, workers=a.workers,
                    plot_every_s=1e9)
    res = Trainer(cfg).fit()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    copied, skipped = [], []
    files = [res.export, res.export.with_suffix(".json")] if res.export else []
    files += [work / "record.json", work / "train.log", work / "loss.png"]
    for f in files:
        if f is None or not f.is_file():
            continue
        if f.stat().st_size > FILE_LIMIT:
            if f == res.export:  # e.g. pvsc-paper's 43 MB fp16 export: parts that come back, joined here
                copied += split_file(f, out)
            else:
                skipped.append(f"{f.name} ({f.stat().st_size / 2**20:.1f} MiB > 16 MiB)")
            continue
        shutil.copy2(f, out / f.name)
        copied.append(f.name)
    rec = json.loads((work / "record.json").read_text())
    tr = rec["training"]
    summary = {"model": a.model, "status": res.status, "steps": res.steps, "seconds": res.seconds,
               "samples": tr.get("samples"), "samples_per_s": round(tr.get("samples", 0) / max(res.seconds, 1e-9), 2),
               "hardware": tr.get("hardware"), "final": rec.get("final", {}), "files": copied, "skipped": skipped}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: summary[k] for k in ("status", "steps", "seconds", "samples_per_s", "files")}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
