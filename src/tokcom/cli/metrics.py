"""``tokcom metrics --ref PATH --dist PATH [--size WxH] [--frames N] [--metric NAME ...] --json``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tokcom.devices import check_device


def metrics_cmd(
    ref: Annotated[str, typer.Option("--ref", help="reference video")],
    dist: Annotated[str, typer.Option("--dist", help="distorted/reconstructed video (frame-aligned)")],
    size: Annotated[str | None, typer.Option("--size", help="WxH: centre crop + resize both")] = None,
    frames: Annotated[int | None, typer.Option("--frames", help="number of frames (default: all)")] = None,
    start: Annotated[int, typer.Option("--start", help="first frame of both videos")] = 0,
    metric: Annotated[list[str] | None, typer.Option(
        "--metric", help="metric name (repeatable or comma-separated); default: the default set")] = None,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda")] = "cpu",
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Compute quality metrics of --dist against --ref (weights never downloaded here)."""
    from tokcom.errors import InputError
    from tokcom.metrics import compute_metrics
    from tokcom.registry import METRICS
    from tokcom.video import read_video

    device = check_device(device)
    names = None
    if metric:
        names = [n.strip() for m in metric for n in m.split(",") if n.strip()]
        for n in names:
            METRICS.get(n)  # unknown name → exit 2 listing the valid ones
    a = read_video(ref, frames=frames, start=start, size=size)
    b = read_video(dist, frames=frames, start=start, size=size)
    if frames is None and a.num_frames != b.num_frames:
        n = min(a.num_frames, b.num_frames)
        a, b = a.with_frames(a.frames[:n]), b.with_frames(b.frames[:n])
    if a.frames.shape != b.frames.shape:
        raise InputError(f"--ref and --dist differ in size: {a.width}x{a.height} vs {b.width}x{b.height}; "
                         "use --size")
    values, unavailable = compute_metrics(a, b, names, device=device)
    out = {"ref": ref, "dist": dist, "frames": a.num_frames, "width": a.width, "height": a.height,
           "metrics": values}
    if unavailable:
        out["metrics_unavailable"] = unavailable
    if json_out:
        print(json.dumps(out, indent=2, allow_nan=False, default=float))
        return
    for k, v in values.items():
        print(f"{k:12s} {v:.6g}")
    for k, why in unavailable.items():
        print(f"{k:12s} unavailable: {why}")
