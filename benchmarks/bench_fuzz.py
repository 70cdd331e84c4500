"""The long receiver fuzz run (issue 14): every registered receiver against thousands of damaged receptions of
its own transmission — lost, flipped, truncated, reordered, garbage and well-formed but wrong (valid framing
and CRCs, content that does not describe the video; ``tokcom.testing.fuzz``). CI runs 200 cases per receiver
(``tests/integration/test_receiver_fuzz.py``); this runs many more, over several links and rate targets, and
records per scheme the cases, the failures (exception or a wrong reconstruction shape, with the first
message) and the slowest decode — a hang shows up as a large ``max_decode_s``.

Usage::

    python benchmarks/bench_fuzz.py [--cases 2000] [--schemes h264,h265,...] [--links awgn,rayleigh,erasure]
                                    [--cbr 0.01,0.05] [--size 64x64] [--frames 9] [--seed 0] [--quick]

Prints a table and, as the last line, one JSON object. Exit status 1 when any case failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=2000, help="receptions per scheme, link and rate")
    ap.add_argument("--schemes", default="", help="comma-separated (default: every registered scheme)")
    ap.add_argument("--links", default="awgn,rayleigh,erasure")
    ap.add_argument("--cbr", default="0.01,0.05")
    ap.add_argument("--size", default="64x64")
    ap.add_argument("--frames", type=int, default=9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="50 cases, awgn, one rate")
    a = ap.parse_args(argv)
    if a.quick:
        a.cases, a.links, a.cbr = 50, "awgn", "0.05"

    import torch

    from tokcom.link.base import build_link
    from tokcom.registry import SCHEMES
    from tokcom.schemes.base import build_scheme
    from tokcom.testing.fuzz import WELL_FORMED, fuzz_receptions
    from tokcom.types import Rate
    from tokcom.video import read_video, samples

    torch.set_num_threads(1)
    clip = read_video(samples.path("bikes"), start=60, frames=a.frames, size=a.size)
    names = [s for s in a.schemes.split(",") if s] or SCHEMES.list()
    rows = []
    for name in names:
        scheme = build_scheme(name, dict(SCHEMES.get(name).example_options))
        row = {"scheme": name, "well_formed": name in WELL_FORMED, "cases": 0, "failures": 0, "first_failure": "",
               "max_decode_s": 0.0, "mean_decode_s": 0.0}
        total = 0.0
        t_all = time.perf_counter()
        for li, link_name in enumerate(a.links.split(",")):
            link = build_link(link_name)
            for ci, cbr in enumerate(float(c) for c in a.cbr.split(",")):
                seed = a.seed + 1000 * li + 100 * ci
                tx = scheme.encode(clip, link.state(clip.info, Rate(cbr=cbr)), np.random.default_rng(seed))
                for k, rx in enumerate(fuzz_receptions(name, tx, a.cases, seed=seed + 1)):
                    t0 = time.perf_counter()
                    try:
                        dec = scheme.decode(rx, np.random.default_rng(k))
                        f = dec.video.frames
                        ok = f.shape == (clip.num_frames, clip.height, clip.width, 3) and f.dtype == np.uint8
                        why = "" if ok else f"reconstruction {f.shape} {f.dtype}"
                    except Exception as e:  # noqa: BLE001 — the bench counts every failure
                        ok, why = False, f"{type(e).__name__}: {e}"[:200]
                    dt = time.perf_counter() - t0
                    total += dt
                    row["max_decode_s"] = max(row["max_decode_s"], dt)
                    row["cases"] += 1
                    if not ok:
                        row["failures"] += 1
                        row["first_failure"] = row["first_failure"] or f"{link_name} cbr {cbr:g}: {why}"
        row["mean_decode_s"] = total / max(row["cases"], 1)
        row["wall_s"] = time.perf_counter() - t_all
        rows.append(row)
        print(f"{name:10s} cases {row['cases']:6d}  failures {row['failures']:3d}  decode mean "
              f"{row['mean_decode_s'] * 1e3:7.1f} ms  max {row['max_decode_s'] * 1e3:8.1f} ms  "
              f"{row['first_failure']}", flush=True)
    result = {"size": a.size, "frames": a.frames, "links": a.links.split(","), "cbr": a.cbr.split(","),
              "cases_per_setting": a.cases, "schemes": rows,
              "failures": int(sum(r["failures"] for r in rows))}
    print(json.dumps(result))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
