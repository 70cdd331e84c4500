"""``tokcom train``: train any registered trainable model with a recipe (the engine, docs/training.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer


def _value(text: str) -> Any:
    """``"32"`` → 32, ``"0.5"`` → 0.5, ``"[8,8,8]"`` → [8, 8, 8], ``"true"`` → True; otherwise the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def list_trainable() -> list[dict[str, Any]]:
    """Every trainable model with its recipes (what ``tokcom train --list`` prints)."""
    from tokcom.train.recipe import TRAINABLE

    rows = []
    for e in TRAINABLE.entries():
        spec = e.obj
        rows.append({"name": spec.name, "description": spec.description,
                     "geometry": {"batch": spec.batch, "frames": spec.frames, "crop": spec.crop},
                     "recipes": {n: {"description": r.description, "steps": r.total_steps,
                                     "stages": [s.name for s in r.stages]} for n, r in spec.recipes.items()}})
    return rows


def train_cmd(
    model: Annotated[str | None, typer.Option("--model", help="trainable model (see --list)")] = None,
    data: Annotated[list[str] | None, typer.Option(
        "--data", help="videos/images folder, corpus folder, Vimeo-90K root or shard export (repeatable)")] = None,
    out: Annotated[str, typer.Option("--out", help="run folder (checkpoints, log, record, export)")] = "runs/train",
    recipe: Annotated[str, typer.Option("--recipe", help="recipe name of the model, or a .yaml/.json file")] = "default",
    steps: Annotated[int, typer.Option("--steps", help="total steps, stages scaled (0: the recipe's)")] = 0,
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="wall-clock budget (0: none)")] = 0.0,
    budget: Annotated[str, typer.Option("--budget", help="at the budget: anneal (schedule ends there) | stop "
                                        "(checkpoint, resume later)")] = "anneal",
    batch: Annotated[int, typer.Option("--batch", help="clips per step and process (0: the model's)")] = 0,
    frames: Annotated[int, typer.Option("--frames", help="frames per clip (0: the model's / stage's)")] = 0,
    crop: Annotated[int, typer.Option("--crop", help="crop size in px (0: the model's / stage's)")] = 0,
    lr: Annotated[float, typer.Option("--lr", help="peak lr of the first stage, others scaled (0: recipe)")] = 0.0,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda (bf16 autocast; cuda:LOCAL_RANK under "
                                        "torchrun)")] = "cpu",
    init_from: Annotated[str, typer.Option("--init-from", help="start from a run folder or .safetensors "
                                           "(fresh optimizer and schedule)")] = "",
    threads: Annotated[int, typer.Option("--threads", help="torch CPU threads (0: default)")] = 0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    ckpt_every: Annotated[int, typer.Option("--ckpt-every", help="steps between checkpoints")] = 200,
    log_every: Annotated[int, typer.Option("--log-every", help="steps between log records")] = 20,
    workers: Annotated[int, typer.Option("--workers", help="data loader processes (0: none)")] = 0,
    stop_after: Annotated[int, typer.Option("--stop-after", help="stop (checkpoint, resumable) after N steps "
                                            "in this session (0: no limit)")] = 0,
    arch: Annotated[list[str] | None, typer.Option("--arch", help="model option KEY=VALUE (repeatable), "
                                                   "e.g. width=32")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="file name / item glob never trained on (repeatable; held-out clips always are)")] = None,
    train_on_validation: Annotated[bool, typer.Option(
        "--train-on-validation", help="also train on the validation clips cockatoo.mp4 / vtest.avi (left out by "
                                      "default: they choose checkpoints)")] = False,
    list_: Annotated[bool, typer.Option("--list", help="list trainable models and their recipes")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Train (or resume) a model with a recipe; run it under torchrun for data parallel training.

    Writes OUT/ckpt/, OUT/export/, OUT/train.log, OUT/loss.png, OUT/record.json. Re-running the same command
    resumes; SIGTERM/SIGINT or the --max-minutes budget stop it cleanly with a checkpoint.
    """
    import logging

    from tokcom.cli.common import parse_key_values
    from tokcom.errors import InputError

    if list_:
        rows = list_trainable()
        if json_out:
            print(json.dumps(rows, indent=2))
            return
        for r in rows:
            g = r["geometry"]
            print(f"{r['name']:18s} batch {g['batch']:>3d}  frames {g['frames']:>3d}  crop {g['crop']:>4d}  "
                  f"{r['description']}")
            for n, rc in r["recipes"].items():
                print(f"    recipe {n:12s} {rc['steps']:>7d} steps  {' → '.join(rc['stages'])}: {rc['description']}")
        return
    if not model:
        raise InputError("--model is required (tokcom train --list shows the trainable models)")
    if not data:
        raise InputError("--data is required: a folder of videos/images, a corpus, a Vimeo-90K root or shards")
    from tokcom.train.engine import RunConfig, Trainer

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data_opts: dict = {"exclude": tuple(exclude)} if exclude else {}
    if train_on_validation:
        data_opts["train_on_validation"] = True
    cfg = RunConfig(model=model, data=tuple(data), out=out, recipe=recipe, steps=steps, max_minutes=max_minutes,
                    budget=budget, batch=batch, frames=frames, crop=crop, lr=lr, device=device, threads=threads,
                    seed=seed, ckpt_every=ckpt_every, log_every=log_every, init_from=init_from, workers=workers,
                    stop_after=stop_after,
                    model_options={k: _value(v) for k, v in parse_key_values(arch).items()},
                    data_options=data_opts)
    res = Trainer(cfg).fit()
    if res.record is None:  # not rank 0: rank 0 reports
        return
    summary = {"out": str(res.out), "export": str(res.export), "record": str(res.record), "steps": res.steps,
               "seconds": res.seconds, "status": res.status}
    print(json.dumps(summary) if json_out else f"{res.status}: {res.steps} steps in {res.seconds:.0f} s; "
          f"export {res.export}")
