"""Seconds per 100 frames at 256×256 for every metric (CPU by default).

Usage::

    python benchmarks/bench_metrics.py [--frames 32] [--threads N] [--device cpu] [--metric NAME ...]

Each metric runs once on a warm-up pair (model loading excluded), then on ``--frames`` frames of a
256×256 frame-aligned pair (bikes.mp4 centre crop + Gaussian noise σ = 8 when ../shared/data exists,
else seeded random frames); the time is scaled to 100 frames. FVD needs ≥ 16 frames and runs on
non-overlapping 16-frame clips. Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np


def _frames(n: int) -> tuple[np.ndarray, str]:
    data = Path(__file__).resolve().parents[1] / "../shared/data/bikes.mp4"
    rng = np.random.default_rng(0)
    if data.is_file():
        from tokcom.video import read_video

        frames = read_video(data, frames=n).frames  # 640×272 → centre 256×256 crop (no resize)
        ref, src = np.ascontiguousarray(frames[:, 8:264, 192:448]), "bikes.mp4 256x256 crop"
    else:
        ref, src = rng.integers(0, 256, (n, 256, 256, 3), dtype=np.uint8), "random"
    dist = np.clip(ref + rng.normal(0, 8, ref.shape), 0, 255).astype(np.uint8)
    return np.stack([ref, dist]), src


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--metric", action="append", help="metric name (repeatable); default: all available")
    args = ap.parse_args()

    from tokcom.metrics import compute_metrics
    from tokcom.registry import METRICS

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    (ref, dist), src = _frames(max(args.frames, 16))
    names = args.metric or METRICS.list()
    rows = []
    for name in names:
        m = METRICS.get(name)(device=args.device)
        why = m.unavailable()
        if why:
            rows.append({"metric": name, "unavailable": why})
            continue
        n = max(args.frames, 16) if name == "fvd" else args.frames
        warm = 16 if name == "fvd" else 1
        compute_metrics(ref[:warm], dist[:warm], [name], device=args.device)  # load weights, warm up
        t0 = time.perf_counter()
        vals, un = compute_metrics(ref[:n], dist[:n], [name], device=args.device)
        dt = time.perf_counter() - t0
        rows.append({"metric": name, "frames": n, "seconds": round(dt, 3),
                     "s_per_100_frames": round(dt * 100 / n, 2), "value": vals.get(name),
                     **({"error": un[name]} if un else {})})
    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:
        threads = None
    cpu = platform.processor() or platform.machine()
    print(f"# {src}, device={args.device}, torch threads={threads}, {cpu}")
    print(f"{'metric':12s} {'s/100 frames':>13s} {'value':>10s}")
    for r in rows:
        if "unavailable" in r:
            print(f"{r['metric']:12s} {'—':>13s}  unavailable: {r['unavailable']}")
        else:
            v = "error" if r["value"] is None else round(r["value"], 4)
            print(f"{r['metric']:12s} {r['s_per_100_frames']:13.2f} {v:>10}")
    print(json.dumps({"source": src, "device": args.device, "threads": threads, "rows": rows}))


if __name__ == "__main__":
    main()
