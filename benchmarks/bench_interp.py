"""Frame interpolation (Resi-VidTok eq. 21): milliseconds per synthesised frame and PSNR of rife / flow / blend.

Usage::

    python benchmarks/bench_interp.py [--methods rife,rife-refine,flow,flow-noocc,blend] [--frames 25]
                                      [--size 256x256] [--gaps 2,4] [--step 2] [--repeat 3]
                                      [--device cpu] [--threads 1] [--clip PATH] [--quick]

The clip is ``../shared/data/bikes.mp4`` when present, else the bundled sample (the same clip), read with
``tokcom.video.read_video(path, frames=N, size=...)`` (centre crop + area resize). For every gap ``g`` and
every start ``s = 0, step, 2·step, ...`` with ``s + g < frames``, the key frames ``s`` and ``s + g`` are
given to ``Interpolator.interpolate`` with ``alphas = 1/g, ..., (g−1)/g``, and each synthesised frame is
compared with the true frame (PSNR in dB over RGB, averaged over frames). The default 25 frames stop before
the scene cut of bikes.mp4 at frame ≈ 28.

Methods: ``rife`` (RIFE v3.9, reference fast mode), ``rife-refine`` (with the refinement U-Net), ``flow``
(DIS + Super SloMo fusion with occlusion weighting), ``flow-noocc`` (the same without visibility weights),
``blend`` (cross-fade). RIFE rows are skipped (with a note) when the weights are not cached.

Timing: one untimed warm-up call per method (weight loading, first-call allocation), then all pairs are
run ``--repeat`` times and the fastest pass counts (the least disturbed on a shared machine); ms/frame =
seconds of that pass / number of synthesised frames. torch and OpenCV use ``--threads`` threads (default 1:
per-core numbers). Prints a table, then one JSON line (the last line) with every row and the ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

METHODS = {
    "rife": ("rife", {}),
    "rife-refine": ("rife", {"refine": True}),
    "flow": ("flow", {}),
    "flow-noocc": ("flow", {"occlusion": False}),
    "blend": ("blend", {}),
}
DEFAULT_METHODS = ("rife", "rife-refine", "flow", "flow-noocc", "blend")


def _clip_path() -> tuple[Path, str]:
    shared = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bikes.mp4").resolve()
    if shared.is_file():
        return shared, "../shared/data/bikes.mp4"
    from tokcom.video import samples

    return samples.path(), "tokcom.video.samples:bikes"


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _jobs(n: int, gaps: list[int], step: int) -> list[tuple[int, int]]:
    return [(s, g) for g in gaps for s in range(0, n - g, step)]


def measure(method: str, frames: np.ndarray, jobs: list[tuple[int, int]], repeat: int,
            device: str) -> dict:
    """Run ``method`` over every (start, gap) job; PSNR per gap and ms per synthesised frame."""
    from tokcom.interp import get_interpolator

    name, opts = METHODS[method]
    interp = get_interpolator(name, device=device, **opts)
    s0, g0 = jobs[0]
    interp.interpolate(frames[s0], frames[s0 + g0], [0.5])  # warm-up (not timed)
    psnr: dict[int, list[float]] = {}
    times: list[float] = []
    count = 0
    for rep in range(max(1, repeat)):
        t = time.perf_counter()
        outs = [interp.interpolate(frames[s], frames[s + g], [k / g for k in range(1, g)]) for s, g in jobs]
        times.append(time.perf_counter() - t)
        if rep == 0:
            for (s, g), out in zip(jobs, outs):
                for k, f in enumerate(out, start=1):
                    psnr.setdefault(g, []).append(_psnr(f, frames[s + k]))
            count = sum(len(o) for o in outs)
    best = min(times)
    return {"method": method, "interpolator": interp.name, "options": opts, "frames_made": count,
            "ms_per_frame": 1e3 * best / count, "ms_per_frame_runs": [1e3 * x / count for x in times],
            "psnr_db": {str(g): float(np.mean(v)) for g, v in psnr.items()},
            "psnr_db_min": {str(g): float(np.min(v)) for g, v in psnr.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", type=_csv, default=list(DEFAULT_METHODS),
                    help=f"comma-separated, from {','.join(METHODS)}")
    ap.add_argument("--frames", type=int, default=None, help="frames read from the clip (default 25)")
    ap.add_argument("--size", default="256x256", help="WxH after centre crop + resize (default 256x256)")
    ap.add_argument("--gaps", type=lambda s: [int(x) for x in _csv(s)], default=[2, 4],
                    help="key-frame distances (stride S of the paper; default 2,4)")
    ap.add_argument("--step", type=int, default=2, help="distance between pair starts (default 2)")
    ap.add_argument("--repeat", type=int, default=None, help="timed passes, fastest counts (default 3)")
    ap.add_argument("--device", default="cpu", help="torch device for RIFE (default cpu)")
    ap.add_argument("--threads", type=int, default=1, help="torch/OpenCV threads (default 1)")
    ap.add_argument("--clip", type=Path, default=None, help="video file (default bikes.mp4)")
    ap.add_argument("--quick", action="store_true", help="9 frames, gap 2 and 4, one pass")
    a = ap.parse_args()

    bad = [m for m in a.methods if m not in METHODS]
    if bad:
        ap.error(f"unknown method(s): {', '.join(bad)}; valid: {', '.join(METHODS)}")
    if not a.gaps or min(a.gaps) < 2:
        ap.error("--gaps must be ≥ 2")
    frames_n = a.frames or (9 if a.quick else 25)
    repeat = a.repeat or (1 if a.quick else 3)
    if frames_n <= max(a.gaps):
        ap.error("--frames must exceed the largest gap")

    import cv2

    cv2.setNumThreads(a.threads)
    try:
        import torch

        torch.set_num_threads(a.threads)
    except ImportError:
        torch = None

    from tokcom.interp import interpolator_unavailable
    from tokcom.video import read_video

    path, clip_name = (a.clip, str(a.clip)) if a.clip is not None else _clip_path()
    video = read_video(path, frames=frames_n, size=a.size)
    frames = np.array(video.frames)
    jobs = _jobs(frames_n, a.gaps, a.step)
    print(f"# clip {clip_name} at {video.width}x{video.height}, frames 0..{frames_n - 1}, gaps "
          f"{','.join(map(str, a.gaps))}, {len(jobs)} pairs, device {a.device}, {a.threads} thread(s), "
          f"best of {repeat}, {platform.machine()}", flush=True)
    gap_cols = "".join(f" {'PSNR g' + str(g):>9s}" for g in a.gaps)
    head = f"{'method':12s} {'ran':>5s} {'ms/frame':>9s} {'fps':>7s}{gap_cols}"
    print(head)
    print("-" * len(head), flush=True)
    rows, skipped = [], {}
    for m in a.methods:
        why = interpolator_unavailable(METHODS[m][0])
        if why is not None:
            skipped[m] = why
            print(f"{m:12s} skipped: {why}", flush=True)
            continue
        r = measure(m, frames, jobs, repeat, a.device)
        rows.append(r)
        cols = "".join(f" {r['psnr_db'][str(g)]:9.2f}" for g in a.gaps)
        print(f"{m:12s} {r['interpolator']:>5s} {r['ms_per_frame']:9.1f} {1e3 / r['ms_per_frame']:7.1f}{cols}",
              flush=True)
    by = {r["method"]: r for r in rows}
    ratios: dict[str, float] = {}
    if "blend" in by:
        for m, r in by.items():
            if m == "blend":
                continue
            for g in a.gaps:
                ratios[f"{m} PSNR gain over blend (dB), gap {g}"] = (r["psnr_db"][str(g)]
                                                                   - by["blend"]["psnr_db"][str(g)])
    if "rife" in by and "flow" in by:
        ratios["rife/flow time ratio"] = by["rife"]["ms_per_frame"] / by["flow"]["ms_per_frame"]
    if ratios:
        print()
        for k, v in ratios.items():
            print(f"{k:45s} {v:7.2f}")
    out = {"bench": "interp", "clip": clip_name, "size": f"{video.width}x{video.height}", "frames": frames_n,
           "gaps": a.gaps, "step": a.step, "pairs": len(jobs), "repeat": repeat, "device": a.device,
           "threads": a.threads, "torch": None if torch is None else torch.__version__,
           "timing": "fastest pass over all pairs, warm-up excluded", "rows": rows, "skipped": skipped,
           "ratios": ratios}
    print(json.dumps(out, allow_nan=False))


if __name__ == "__main__":
    main()
