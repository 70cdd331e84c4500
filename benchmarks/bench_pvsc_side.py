"""PVSC's side information per frame with each rate-map codec (``arith``, ``deflate``, ``png``): bits per side PDU
(header, b_z, b_k, CRC) of I- and P-frames, the rate map's share, and symbols per frame, at fixed qualities.

Usage::

    python benchmarks/bench_pvsc_side.py [CLIP] [--size 256x256] [--frames 24] [--qualities 0,0.375,1,4]
                                         [--snr-db 6] [--quick]

CLIP defaults to the bundled sample clip; ``--quick``: 8 frames, qualities 0 and 1.
The transmitter only (``Scheme.encode``, GOP 8, no rate target): the side PDUs are what the link would carry.
Prints one line per quality and, last, one JSON object.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from tokcom.link.base import build_link
from tokcom.schemes.base import build_scheme
from tokcom.types import Rate
from tokcom.video import read_video, samples

CODECS = ("arith", "deflate", "png")


def measure(clip: str, size: str, frames: int, qualities: list[float], snr_db: float) -> list[dict]:
    video = read_video(clip, frames=frames, size=size)
    state = build_link("awgn", {"snr_db": snr_db}).state(video.info, Rate())
    rows = []
    for q in qualities:
        row: dict = {"quality": q}
        for codec in CODECS:
            tx = build_scheme("pvsc", {"gop": 8, "quality": q, "rate_map_codec": codec}).encode(
                video, state, np.random.default_rng(0))
            sent = [f for f in tx.report.frames_tx if f.sent]
            row[codec] = {kind: {"side_bits": float(np.mean([f.side_bits for f in sent if f.kind == kind])),
                                 "k_bits": float(np.mean([f.k_bits for f in sent if f.kind == kind]))}
                          for kind in ("I", "P")}
            row["symbols_per_frame"] = float(np.mean([f.symbols for f in sent]))
        rows.append(row)
        print(f"q{q:g}: " + " | ".join(
            f"{c}: I {row[c]['I']['side_bits']:.0f} P {row[c]['P']['side_bits']:.0f} (b_k {row[c]['P']['k_bits']:.0f})"
            for c in CODECS) + f" | symbols {row['symbols_per_frame']:.0f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clip", nargs="?", default=None, help="a video file (default: the bundled sample clip)")
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--qualities", default="0,0.375,1,4")
    ap.add_argument("--snr-db", type=float, default=6.0)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    clip = a.clip or str(samples.path("bikes"))
    frames, qualities = (8, "0,1") if a.quick else (a.frames, a.qualities)
    rows = measure(clip, a.size, frames, [float(v) for v in qualities.split(",")], a.snr_db)
    print(json.dumps({"clip": clip, "size": a.size, "frames": frames, "rows": rows}))


if __name__ == "__main__":
    main()
