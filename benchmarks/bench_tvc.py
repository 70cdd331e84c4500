"""TVC (``tvc``, 003_299bbe4b0e9ae1eb.txt): source-only LPIPS–bpp curves against x265, the Fig. 6 ablations,
actual bits against the entropy models' estimates, and speed.

Usage::

    python benchmarks/bench_tvc.py [--clips bikes,PATH] [--size 256x256] [--frames 34]
                                   [--points all|0,2,5] [--ablation-points 1,2,4] [--h265-bpp 0.005,0.01,...]
                                   [--metrics psnr,lpips_vgg,lpips_alex,dists] [--speed-sizes 256x256,1280x720]
                                   [--weights shipped|random|PATH] [--threads 1] [--quick]

**Rate–quality, source only** (§4.2, Fig. 4): per clip, ``tvc`` at every point of its rate-control ladder
(``tokcom.schemes.tvc.config.RATE_LADDER``: (Δ, mask rate), ``rate_control=fixed``), encoded and decoded with
every PDU delivered (no channel); bpp = the PDUs' payload bits / (frames · H · W). The anchor is ``h265``
(x265 ``veryslow``, low delay = zero-latency, 1200-byte PDUs) at ``--h265-bpp`` targets (``--bitrate`` =
bpp · H · W · fps), decoded from all its PDUs. BD-rate (Bjøntegaard, akima) of tvc against h265 for every
metric: negative = tvc needs fewer bits for the same quality; NaN where the quality ranges do not overlap.
**Ablations** (Fig. 6): ``code_map=false`` (raw 16-bit indices), ``cross_attention=false``,
``spatiotemporal=false``, ``fusion=false`` at ``--ablation-points``.
**Bits**: per run, the PDUs' entropy-coded payload bits against the entropy models' estimate
(``TvcEncodeReport.bits_estimate``: −Σ log2 p of ŷ^C, ẑ and the visible codes): ``bits_ratio`` with the
PDU headers and CRCs, ``stream_bits_ratio`` for the entropy-coded streams alone (b_z, b_y, b_d).
**Speed**: ``Scheme.encode`` / ``Scheme.decode`` seconds per frame for one GoP of 17 frames at each
``--speed-sizes`` (fastest of 2 after a warm-up; the paper: 0.3 s/frame on an L40s for the whole pipeline).

The held-out clips (bikes.mp4, cityCC0) were never trained on nor used to pick a checkpoint. Prints a table
per clip and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ABLATIONS = {"raw indices": {"code_map": False}, "no cross-attn": {"cross_attention": False},
             "no s-t": {"spatiotemporal": False}, "no fusion": {"fusion": False}}


def _clip(name: str, size: str, frames: int):
    from tokcom.video import read_video, samples

    if name == "bikes":
        shared = ROOT.parent / "shared" / "data" / "bikes.mp4"
        path = shared if shared.is_file() else samples.path("bikes")
    else:
        path = Path(name)
    return Path(path).stem, read_video(path, frames=frames, size=size)


def _stream_bits(packets) -> int:
    """Bits of the entropy-coded streams alone (b_z, b_y, b_d), without PDU headers and CRCs."""
    from tokcom.schemes.tvc import bitstream as bs

    n = 0
    for p in packets:
        c = bs.parse_continuous(p.payload)
        d = bs.parse_discrete(p.payload) if c is None else None
        n += 8 * (len(c.z_bytes) + len(c.y_bytes)) if c is not None else (8 * len(d.data) if d is not None else 0)
    return n


def _source_only(scheme, video, rate=None):
    """Encode, deliver every PDU, decode: ``(decoded video, transmission, payload bits, enc s, dec s)``."""
    from tokcom.link.base import build_link
    from tokcom.types import Rate, Reception

    state = build_link("erasure", {"pdu_loss": 0.0}).state(video.info, rate or Rate())
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    tx = scheme.encode(video, state, rng)
    t1 = time.perf_counter()
    dec = scheme.decode(Reception(tx.info, tx.packets, tx.symbols), rng)
    t2 = time.perf_counter()
    bits = int(sum(8 * len(p.payload) for p in tx.packets))
    return dec.video, tx, bits, t1 - t0, t2 - t1


def _metrics(ref, dist, names) -> dict[str, float]:
    from tokcom.metrics import compute_metrics

    values, missing = compute_metrics(ref, dist, names)
    for k, why in missing.items():
        print(f"  (metric {k} unavailable: {why})")
    return values


def tvc_row(video, opts: dict, metrics) -> dict:
    from tokcom.schemes.base import build_scheme

    s = build_scheme("tvc", {"rate_control": "fixed", **opts})
    dec, tx, bits, enc_s, dec_s = _source_only(s, video)
    rep = tx.report
    px = video.info.num_frames * video.info.height * video.info.width
    coded = _stream_bits(tx.packets)
    row = {"options": opts, "bpp": bits / px, "bits": bits, "bits_estimate": rep.bits_estimate,
           "bits_ratio": bits / rep.bits_estimate if rep.bits_estimate else None, "stream_bits": coded,
           "stream_bits_ratio": coded / rep.bits_estimate if rep.bits_estimate else None,
           "c_bits": rep.c_bits, "d_bits": rep.d_bits, "weights": rep.weights, "trained": rep.trained,
           "encode_s": enc_s, "decode_s": dec_s, **_metrics(video, dec, metrics)}
    return row


def h265_row(video, bpp: float, metrics) -> dict:
    from tokcom.schemes.base import build_scheme
    from tokcom.types import Rate

    s = build_scheme("h265", {"preset": "veryslow", "low_delay": True})
    info = video.info
    rate = Rate(bitrate_bps=bpp * info.height * info.width * info.fps)
    dec, _, bits, _, _ = _source_only(s, video, rate)
    px = info.num_frames * info.height * info.width
    return {"target_bpp": bpp, "bpp": bits / px, "bits": bits, **_metrics(video, dec, metrics)}


def bd(anchor: list[dict], test: list[dict], metric: str) -> float | None:
    from tokcom.metrics import bd_rate

    a = [(r["bpp"], r[metric]) for r in anchor if metric in r and r["bpp"] > 0]
    t = [(r["bpp"], r[metric]) for r in test if metric in r and r["bpp"] > 0]
    if len(a) < 2 or len(t) < 2:
        return None
    # the lower convex hull of each curve in rate (a curve of operating points may hold dominated ones)
    try:
        v = bd_rate(_pareto(a, metric), _pareto(t, metric), metric)
    except Exception as e:  # noqa: BLE001 - a degenerate curve: report why, keep the other numbers
        print(f"  BD-rate {metric}: {e}")
        return None
    return None if not np.isfinite(v) else v


def _pareto(points: list[tuple[float, float]], metric: str) -> list[tuple[float, float]]:
    """The points no other point beats at a lower or equal rate (quality direction from the metric)."""
    from tokcom.registry import METRICS

    hib = bool(getattr(METRICS.get(metric), "higher_is_better", True))
    out, best = [], None
    for r, q in sorted(points):
        if best is None or (q > best if hib else q < best):
            out.append((r, q))
            best = q
    return out


def speed(size: str, weights: str) -> dict:
    from tokcom.schemes.base import build_scheme

    _, v = _clip("bikes", size, 17)
    s = build_scheme("tvc", {"rate_control": "fixed", "weights": weights})
    _source_only(s, v)  # warm-up (model load, entropy tables)
    enc, dec = [], []
    for _ in range(2):
        _, _, _, e, d = _source_only(s, v)
        enc.append(e)
        dec.append(d)
    return {"size": size, "frames": 17, "encode_s_per_frame": min(enc) / 17, "decode_s_per_frame": min(dec) / 17}


def _fmt(row: dict, metrics) -> str:
    return "  ".join(f"{m} {row[m]:.4f}" for m in metrics if m in row)


def main() -> None:
    from tokcom.schemes.tvc.config import RATE_LADDER

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default=f"bikes,{ROOT.parent / 'runs' / 'heldout' / 'cityCC0.mkv'}")
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--frames", type=int, default=34)
    ap.add_argument("--points", default="all", help="ladder indices (comma list) or all")
    ap.add_argument("--ablation-points", default="1,2,4")
    ap.add_argument("--h265-bpp", default="0.005,0.01,0.02,0.035,0.05")
    ap.add_argument("--metrics", default="psnr,lpips_vgg,lpips_alex,dists")
    ap.add_argument("--speed-sizes", default="256x256,1280x720")
    ap.add_argument("--weights", default="shipped")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.clips, a.frames, a.points, a.ablation_points, a.h265_bpp = "bikes", 17, "2,5", "2", "0.01,0.03"
        a.metrics, a.speed_sizes = "psnr", "256x256"
    import torch

    torch.set_num_threads(a.threads)
    metrics = [m for m in a.metrics.split(",") if m]
    idx = range(len(RATE_LADDER)) if a.points == "all" else [int(i) for i in a.points.split(",")]
    out: dict = {"clips": {}, "ladder": [list(p) for p in RATE_LADDER], "threads": a.threads}
    for name in [c for c in a.clips.split(",") if c]:
        if name != "bikes" and not Path(name).is_file():
            print(f"skip {name}: not found")
            continue
        stem, video = _clip(name, a.size, a.frames)
        print(f"== {stem}: {video.info.num_frames} frames {video.info.width}x{video.info.height}", flush=True)
        rows = []
        for i in idx:
            q, r = RATE_LADDER[i]
            row = tvc_row(video, {"weights": a.weights, "quant_step": q, "mask_rate": r}, metrics)
            row["point"] = i
            rows.append(row)
            print(f"tvc  #{i:2d} Δ {q:5g} mask {r:.2f}  bpp {row['bpp']:.5f}  bits/est {row['bits_ratio']:.4f} (streams "
                  f"{row['stream_bits_ratio']:.4f})  "
                  f"{_fmt(row, metrics)}", flush=True)
        abl = {}
        for label, opts in ABLATIONS.items():
            abl[label] = []
            for i in [int(x) for x in a.ablation_points.split(",") if x]:
                q, r = RATE_LADDER[i]
                row = tvc_row(video, {"weights": a.weights, "quant_step": q, "mask_rate": r, **opts}, metrics)
                row["point"] = i
                abl[label].append(row)
                print(f"  {label:13s} #{i:2d}  bpp {row['bpp']:.5f}  {_fmt(row, metrics)}", flush=True)
        h = []
        for bpp in [float(x) for x in a.h265_bpp.split(",") if x]:
            row = h265_row(video, bpp, metrics)
            h.append(row)
            print(f"h265 target {bpp:.4f}  bpp {row['bpp']:.5f}  {_fmt(row, metrics)}", flush=True)
        bds = {m: bd(h, rows, m) for m in metrics}
        print("BD-rate tvc vs h265 (%): " + ", ".join(f"{m} {'n/a' if v is None else f'{v:+.1f}'}"
                                                      for m, v in bds.items()), flush=True)
        out["clips"][stem] = {"tvc": rows, "ablations": abl, "h265": h, "bd_rate_percent": bds}
    out["speed"] = []
    for size in [s for s in a.speed_sizes.split(",") if s]:
        sp = speed(size, a.weights)
        out["speed"].append(sp)
        print(f"speed {size}: encode {sp['encode_s_per_frame']:.3f} s/frame  decode {sp['decode_s_per_frame']:.3f} "
              f"s/frame ({a.threads} thread)", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
