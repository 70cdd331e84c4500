"""Video TokenCom (000_cfad1eb21f67e2e2.txt): encode / decode ms per frame, MILP solve time, and the per-SNR
choices of Table III over AWGN at a fixed bandwidth.

Usage::

    python benchmarks/bench_tokencom.py [--clip PATH] [--frames 33] [--size 256x256] [--box 64,64,192,192]
                                        [--bandwidth-hz 340000] [--snr-db -2,0,2,4,6,8] [--device cpu]
                                        [--threads 1] [--overhead 0.85] [--quick]

The clip defaults to ``../shared/data/cockatoo.mp4`` (else the bundled bikes.mp4, frames 192–…, with the
bicycle box). For every SNR one ``tokcom.simulate`` run (abstract PHY, seed 0) gives the classes' MCS, B_Δ,
source bitrate, PSNR (whole frame and inside the intended token region) and validity — Table III's columns —
for intent and for the intent-unaware ablation (``intent_mode=random``). Timing: ``encode_s`` / ``decode_s``
of each run (tokenizer, flow, side information, MILP, packing / parsing, detokenizer) per frame, the fastest
of the runs; MILP solve time is HiGHS' wall time inside the encoder. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=None)
    ap.add_argument("--start", type=int, default=None)
    ap.add_argument("--frames", type=int, default=33)
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--box", default=None)
    ap.add_argument("--bandwidth-hz", type=float, default=340000.0)
    ap.add_argument("--snr-db", default="-2,0,2,4,6,8")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--overhead", type=float, default=0.85, help="the link's ρ_oh (TokenCom §III: 0.85)")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    import tokcom
    from tokcom.config import parse_float_list
    from tokcom.link.base import build_link
    from tokcom.schemes.base import build_scheme
    from tokcom.types import Rate
    from tokcom.video import read_video, samples

    shared = REPO.parent / "shared" / "data" / "cockatoo.mp4"
    if a.clip:
        clip, start, box = Path(a.clip), a.start or 0, a.box or "64,64,192,192"
    elif shared.is_file():
        clip, start, box = shared, a.start or 0, a.box or "64,64,192,192"
    else:
        clip, start, box = samples.path("bikes"), 192 if a.start is None else a.start, a.box or "64,8,250,200"
    frames, size, snrs = a.frames, a.size, parse_float_list(a.snr_db)
    if a.quick:
        frames, size, snrs = 9, "128x128", [-2.0, 6.0]
        box = ",".join(str(int(float(v)) // 2) for v in box.split(","))
    video = read_video(clip, start=start, frames=frames, size=size)
    rows = []
    for mode in ("intent", "random"):
        for snr in snrs:
            s = build_scheme("tokencom", {"intent_box": box, "intent_mode": mode}, device=a.device)
            r = tokcom.simulate(s, video, build_link("awgn", {"snr_db": snr, "overhead": a.overhead}), 0,
                                rate=Rate(bandwidth_hz=a.bandwidth_hz), metrics=["psnr"], device=a.device)
            sr = r.scheme_report
            cc = sr["class_config"]
            rows.append({
                "mode": mode, "snr_db": snr, "mod_int": cc["intended"]["modulation"],
                "r_int": round(cc["intended"]["coderate"], 3), "mod_non": cc["non_intended"]["modulation"],
                "r_non": round(cc["non_intended"]["coderate"], 3), "b_delta": sr["b_delta"],
                "rho_s": round(sr["rho_s"], 4), "source_kbps": round(sr["source_bitrate_bps"] / 1e3, 2),
                "cbr": r.cbr, "over_budget": r.over_budget, "psnr": round(r.metrics["psnr"], 2),
                "psnr_roi_in": round(r.metrics.get("psnr_roi_in", float("nan")), 2), "valid": r.valid,
                "uep": sr["uep"]["status"], "milp_ms": round(sr["uep"]["solve_ms"], 2),
                "encode_ms_per_frame": round(1e3 * r.timing["encode_s"] / video.num_frames, 1),
                "decode_ms_per_frame": round(1e3 * r.timing["decode_s"] / video.num_frames, 1),
            })
    cols = list(rows[0])
    print(f"# {clip.name} frames {start}–{start + video.num_frames - 1} at {size}, box {box}, "
          f"bandwidth {a.bandwidth_hz:g} Hz, ρ_oh {a.overhead:g}, {a.device}, {a.threads} thread(s)")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    summary = {
        "encode_ms_per_frame_min": min(r["encode_ms_per_frame"] for r in rows),
        "decode_ms_per_frame_min": min(r["decode_ms_per_frame"] for r in rows),
        "milp_ms_median": sorted(r["milp_ms"] for r in rows)[len(rows) // 2],
    }
    print(json.dumps({"bench": "tokencom", "clip": str(clip), "machine": platform.processor() or platform.machine(),
                      "rows": rows, **summary}))


if __name__ == "__main__":
    main()
