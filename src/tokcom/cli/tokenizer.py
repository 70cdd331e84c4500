"""``tokcom tokenizer eval | train | list``: tokenizer quality on a clip, and training the built-ins."""

from __future__ import annotations

import json
from typing import Annotated

import typer

tokenizer_app = typer.Typer(
    help="Video tokenizers: evaluate one on a clip, train the built-in ones, list them.",
    no_args_is_help=True,
    add_completion=False,
)


@tokenizer_app.command("list")
def list_cmd(json_out: Annotated[bool, typer.Option("--json", help="JSON list")] = False) -> None:
    """List registered tokenizers with their factors and token sizes."""
    from tokcom.registry import TOKENIZERS

    rows = []
    for e in TOKENIZERS.entries():
        s = e.obj.spec
        rows.append({"name": s.name, "kind": s.kind, "temporal_factor": s.temporal_factor,
                     "spatial_factor": s.spatial_factor, "codebook_size": s.codebook_size,
                     "bits_per_token": s.bits_per_token, "latent_channels": s.latent_channels,
                     "description": e.description})
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print(f"{r['name']:18s} {r['kind']:12s} {r['temporal_factor']}x{r['spatial_factor']}x{r['spatial_factor']}"
              f"  {r['codebook_size'] or '-':>6}  {r['description']}")


@tokenizer_app.command("eval")
def eval_cmd(
    tokenizer: Annotated[str, typer.Option("--tokenizer", help="registered tokenizer name")],
    input: Annotated[str, typer.Option("--input", help="video file")],
    size: Annotated[str | None, typer.Option("--size", help="WxH: centre crop + resize (default: native)")] = None,
    frames: Annotated[int | None, typer.Option("--frames", help="number of frames (default: all)")] = None,
    start: Annotated[int, typer.Option("--start", help="first frame")] = 0,
    prefix: Annotated[str | None, typer.Option("--prefix", help="prefix lengths, e.g. 16,32,64,128,256")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="metric names (repeatable)")] = None,
    weights: Annotated[str | None, typer.Option("--weights", help="folder with the weights instead")] = None,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda")] = "cpu",
    dtype: Annotated[str, typer.Option("--dtype", help="fp32 or bf16")] = "fp32",
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Encode/decode a clip and print rate, quality and speed (and the prefix curve of progressive ones)."""
    from tokcom.errors import InputError
    from tokcom.tokenizers import load_tokenizer
    from tokcom.tokenizers.evaluate import DEFAULT_EVAL_METRICS, evaluate
    from tokcom.video import read_video

    ks = None
    if prefix:
        try:
            ks = [int(p) for p in prefix.split(",") if p.strip()]
        except ValueError:
            raise InputError(f"--prefix takes comma-separated integers; got {prefix!r}") from None
    names = [n.strip() for m in metric for n in m.split(",") if n.strip()] if metric else DEFAULT_EVAL_METRICS
    video = read_video(input, frames=frames, start=start, size=size)
    tok = load_tokenizer(tokenizer, device=device, dtype=dtype, path=weights)
    out = evaluate(tok, video, prefix=ks, metrics=names, device=device)
    out["input"] = input
    if json_out:
        print(json.dumps(out, indent=2, allow_nan=False, default=float))
        return
    print(f"{out['tokenizer']}: {out['frames']}x{out['width']}x{out['height']}  tokens {out['tokens']}  "
          f"bpp {out['bpp']:.5f}")
    for k, v in out["metrics"].items():
        print(f"  {k:12s} {v:.4f}")
    for p in out.get("prefix", []):
        print(f"  prefix {p['k']:5d}  psnr {p['psnr']:.3f}")


@tokenizer_app.command("train")
def train_cmd(
    model: Annotated[str, typer.Option("--model", help="tokcom-dv4x8x8 | tokcom-dv8x16x16 | tokcom-resitok")],
    data: Annotated[list[str], typer.Option("--data", help="folder of videos/images, or a corpus folder of "
                                            "tokcom data fetch (repeatable)")],
    out: Annotated[str, typer.Option("--out", help="run folder (checkpoints, log, export)")] = "runs/tok",
    steps: Annotated[int, typer.Option("--steps")] = 20000,
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="time budget (0: none)")] = 0.0,
    batch: Annotated[int, typer.Option("--batch", help="0: preset")] = 0,
    frames: Annotated[int, typer.Option("--frames", help="clip frames, 1+k·tf (0: preset)")] = 0,
    crop: Annotated[int, typer.Option("--crop", help="crop size in px (0: preset)")] = 0,
    width: Annotated[int, typer.Option("--width", help="network width (0: preset)")] = 0,
    lr: Annotated[float, typer.Option("--lr")] = 1e-3,
    lpips_weight: Annotated[float, typer.Option("--lpips-weight", help="LPIPS-alex loss weight")] = 0.0,
    adv_weight: Annotated[float, typer.Option("--adv-weight", help="adversarial loss weight")] = 0.0,
    adv_start: Annotated[int, typer.Option("--adv-start")] = 2000,
    threads: Annotated[int, typer.Option("--threads", help="torch CPU threads (0: default)")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda (bf16 autocast)")] = "cpu",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    ckpt_every: Annotated[int, typer.Option("--ckpt-every")] = 200,
    install: Annotated[bool, typer.Option("--install", help="copy the export into the package weights")] = False,
    init_from: Annotated[str, typer.Option("--init-from", help="fine-tune from a run folder or .safetensors "
                                           "(fresh optimizer and schedule)")] = "",
) -> None:
    """Train (or resume) a built-in tokenizer; exports fp16 safetensors + JSON to OUT/export/."""
    import logging
    import shutil

    from tokcom.tokenizers.train import TrainConfig, train
    from tokcom.tokenizers.weights_io import WEIGHTS_DIR

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = TrainConfig(model=model, data=tuple(data), out=out, steps=steps, max_minutes=max_minutes,
                      batch=batch, frames=frames, crop=crop, lr=lr, lpips_weight=lpips_weight,
                      adv_weight=adv_weight, adv_start=adv_start, threads=threads, device=device, seed=seed,
                      ckpt_every=ckpt_every, arch={"width": width} if width else {}, init_from=init_from)
    path = train(cfg)
    if install:
        for suffix in (".safetensors", ".json"):
            shutil.copy2(path.with_suffix(suffix), WEIGHTS_DIR / f"{model}{suffix}")
    print(str(path))
