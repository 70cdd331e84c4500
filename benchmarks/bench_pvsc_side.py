"""PVSC's side information per frame with each rate-map codec (``arith``, ``deflate``, ``png``): bits per side PDU
(header, b_z, b_k, CRC) of I- and P-frames, the rate map's share, and symbols per frame, at fixed qualities.

Usage::

    python benchmarks/bench_pvsc_side.py [CLIP] [--size 256x256] [--frames 24] [--qualities 0,0.375,1,4]
                                         [--snr-db 6] [--quick] [--contexts]

CLIP defaults to the bundled sample clip; ``--quick``: 8 frames, qualities 0 and 1.
The transmitter only (``Scheme.encode``, GOP 8, no rate target): the side PDUs are what the link would carry.
Prints one line per quality and, last, one JSON object.

``--contexts``: the sent rate maps (read back from the side PDUs, as the receiver does) coded under other
context models — the ideal code length of :func:`tokcom.entropy.adaptive.adaptive_bits` on the residual of a
predictor: the co-located index of the previous frame in the GOP (``temporal``; the I-frame order-0), the
JPEG-LS median of left / up / up-left (``med``), the left or the upper neighbour — against order-0 (what
``arith`` codes). It measures whether a context model would pay for a change of the b_k format.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from tokcom.entropy.adaptive import adaptive_bits
from tokcom.link.base import build_link
from tokcom.schemes.base import build_scheme
from tokcom.schemes.pvsc import bitstream as bs
from tokcom.schemes.pvsc.config import PAD_MULTIPLE
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


def sent_rate_maps(scheme, tx, num_frames: int, height: int, width: int) -> dict[int, np.ndarray]:
    """frame → the rate map ``[h, w]`` its side PDU carries (decoded as the receiver decodes it)."""
    model, _ = scheme.model()
    hp, wp = height + (-height) % PAD_MULTIPLE, width + (-width) % PAD_MULTIPLE
    grid, z_shape = (hp // 16, wp // 16), (1, model.arch.c_z, hp // 64, wp // 64)
    starts = {s for s, _ in scheme.gops(num_frames)}
    out = {}
    for p in tx.packets:
        si = bs.parse_side(p.payload) if p.payload[:1] == bytes([bs.SIDE_TAG]) else None
        if si is None:
            continue
        got = bs.decode_streams(model.codec(si.frame in starts).prior, si.z_bytes, si.k_bytes, z_shape, grid,
                                len(model.arch.rates), si.codec)
        if got is not None:
            out[si.frame] = got[1].astype(np.int64)
    return out


def context_bits(maps: dict[int, np.ndarray], gop_starts: set[int], levels: int) -> dict[str, float]:
    """Mean bits per rate map under each context model (see the module docstring)."""
    tot = dict.fromkeys(("order0", "temporal", "med", "left", "up"), 0.0)
    resid = 2 * levels - 1
    for t, m in sorted(maps.items()):
        p = np.pad(m, ((1, 0), (1, 0)), mode="edge")
        a, b, c = p[1:, :-1], p[:-1, 1:], p[:-1, :-1]
        med = np.where(c >= np.maximum(a, b), np.minimum(a, b),
                       np.where(c <= np.minimum(a, b), np.maximum(a, b), a + b - c))
        order0 = adaptive_bits(m.reshape(-1), levels)
        tot["order0"] += order0
        for name, pred in (("med", med), ("left", a), ("up", b)):
            tot[name] += adaptive_bits((m - pred + levels - 1).reshape(-1), resid)
        prev = maps.get(t - 1)
        tot["temporal"] += order0 if t in gop_starts or prev is None else \
            adaptive_bits((m - prev + levels - 1).reshape(-1), resid)
    return {k: v / max(len(maps), 1) for k, v in tot.items()}


def contexts(clip: str, size: str, frames: int, qualities: list[float], snr_db: float) -> list[dict]:
    video = read_video(clip, frames=frames, size=size)
    state = build_link("awgn", {"snr_db": snr_db}).state(video.info, Rate())
    rows = []
    for q in qualities:
        sch = build_scheme("pvsc", {"gop": 8, "quality": q, "rate_map_codec": "arith"})
        tx = sch.encode(video, state, np.random.default_rng(0))
        maps = sent_rate_maps(sch, tx, video.num_frames, video.height, video.width)
        bits = context_bits(maps, {s for s, _ in sch.gops(video.num_frames)}, len(sch.model()[0].arch.rates))
        rows.append({"quality": q, "maps": len(maps), "bits_per_map": bits})
        print(f"q{q:g}: " + " | ".join(f"{k} {v:.0f}" for k, v in bits.items()) + " bits per rate map", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clip", nargs="?", default=None, help="a video file (default: the bundled sample clip)")
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--qualities", default="0,0.375,1,4")
    ap.add_argument("--snr-db", type=float, default=6.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--contexts", action="store_true", help="rate-map context models instead of the codecs")
    a = ap.parse_args()
    clip = a.clip or str(samples.path("bikes"))
    frames, qualities = (8, "0,1") if a.quick else (a.frames, a.qualities)
    run = contexts if a.contexts else measure
    rows = run(clip, a.size, frames, [float(v) for v in qualities.split(",")], a.snr_db)
    print(json.dumps({"clip": clip, "size": a.size, "frames": frames, "rows": rows}))


if __name__ == "__main__":
    main()
