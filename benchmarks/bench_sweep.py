"""Sweep throughput: points per minute with 1 vs 2 local workers, and Ray vs the local pool.

Usage::

    python benchmarks/bench_sweep.py [--points 16] [--frames 12] [--size 128x128]

A grid of h264/h265 (preset ultrafast) × PDU-loss × bitrate points on the bundled clip, run fresh into a
temporary directory for each backend/worker setting. Prints a table and one JSON line (ratios included).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--size", default="128x128")
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()

    from tokcom.experiments.runner import run_sweep
    from tokcom.experiments.spec import parse_spec
    from tokcom.video import samples

    spec = parse_spec({
        "schemes": ["h264", "h265"], "inputs": [str(samples.path())], "size": args.size, "frames": args.frames,
        "channels": ["erasure"], "pdu_loss": [0.0, 0.1], "bitrate": [40000, 80000, 160000, 320000],
        "metrics": ["psnr"], "options": {"h264": {"preset": "ultrafast"}, "h265": {"preset": "ultrafast"}},
    })
    n = len(spec.points())
    settings = [("local", 1), ("local", 2)]
    if not args.no_ray:
        try:
            import ray  # noqa: F401

            settings.append(("ray", 2))
        except ImportError:
            pass
    rows = []
    for backend, workers in settings:
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            run_sweep(spec, Path(d) / "s", backend=backend, workers=workers, preview=False)
            dt = time.perf_counter() - t
        rows.append({"backend": backend, "workers": workers, "points": n, "seconds": dt,
                     "points_per_min": 60 * n / dt})
        print(f"{backend:5s} workers={workers}  {n} points  {dt:6.1f} s  {60 * n / dt:6.1f} points/min", flush=True)
    base = rows[0]["seconds"]
    ratios = {f"{r['backend']}x{r['workers']}_speedup_vs_local1": base / r["seconds"] for r in rows}
    print(json.dumps({"bench": "sweep", "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0],
                      "rows": rows, "ratios": ratios}))


if __name__ == "__main__":
    main()
