"""PVSC's rate-control rungs over SNR: what each would cost and how its reception scores, for one GOP.

Usage::

    python benchmarks/bench_pvsc_rungs.py [CLIP] [--size 256x256] [--frames 8] [--snrs -4,-2,0,2,6]
                                          [--rungs 4] [--ladder eta|quality] [--grid] [--vgg-frames 4]
                                          [--weights shipped|FILE.safetensors] [--quick]
                                          [--qualities 3,4 --eta-scales 1,1.5,2]

CLIP defaults to the bundled sample clip; ``--quick``: 64², 4 frames, two SNRs, no LPIPS-vgg.

Rungs: the ``--rungs`` cheapest of the ``--ladder`` that still send the P-frames (the ones rate control reaches at
low SNR: ``q0.5 η×0.25``, ``q0.5 η×0.125``, ``q0.25 η×0.125``, ``q0 η×0`` on ``eta``; ``q0``, ``q0 η×0.5``,
``q0 η×0.25``, ``q0 η×0`` on ``quality``, session 9's table); or with ``--grid`` every pair of a quality in
:data:`GRID_QUALITIES` and a factor on η in :data:`GRID_ETA_SCALES` — the measurement that chose the ``eta``
ladder (session 10), since rate control can only pick what its ladder offers.

For each SNR and rung: the GOP's exact channel uses with the side link's MCS at that SNR (and as CBR), and the
scores of the reception the transmitter simulates (:mod:`tokcom.schemes.pvsc.received`: AWGN at the SNR, the
receiver's decoder) — L1, LPIPS-alex, eq. (27)'s ``L1 + 0.8·LPIPS-alex`` (what ``rate_choice=received``
minimises), PSNR, and LPIPS-vgg on the first ``--vgg-frames`` frames (what points 5 and 6 of the issue
measure). Per SNR it marks the rungs on the lower hull (no cheaper rung scores better on eq. (27)). Prints one
line per (SNR, rung) and, last, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math

from tokcom.link.base import build_link
from tokcom.metrics.perceptual import get_net, weights_unavailable
from tokcom.schemes.base import build_scheme
from tokcom.schemes.pvsc import received
from tokcom.schemes.pvsc.config import LAMBDA_PER, LAMBDA_REC
from tokcom.schemes.pvsc.ratecontrol import Candidate, ladder
from tokcom.schemes.pvsc.scheme import _frames_tensor
from tokcom.types import Rate
from tokcom.video import read_video, samples

GRID_QUALITIES = (0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4)
GRID_ETA_SCALES = (1, 0.75, 0.5, 0.35, 0.25, 0.125)


def measure(clip: str, size: str, frames: int, snrs: list[float], rungs: int, vgg_frames: int,
            kind: str = "eta", grid: bool = False, weights: str = "shipped",
            qualities: tuple[float, ...] = GRID_QUALITIES, eta_scales: tuple[float, ...] = GRID_ETA_SCALES
            ) -> list[dict]:
    import torch

    video = read_video(clip, frames=frames, size=size)
    h, w = video.info.height, video.info.width
    scheme = build_scheme("pvsc", {"gop": frames, "weights": weights})
    model, _ = scheme.model()
    alex = get_net("lpips-alex", "cpu")
    vgg = get_net("lpips-vgg", "cpu") if vgg_frames > 0 and not weights_unavailable("lpips-vgg") else None
    x = _frames_tensor(video.frames, "cpu")
    if grid:
        top = model.arch.num_qualities - 1
        cands = [Candidate(q, e) for q in qualities if q <= top for e in eta_scales]
    else:
        cands = [c for c in ladder(model.arch.num_qualities, kind=kind) if c.p_frames][-rungs:]
    rows = []
    for snr in snrs:
        state = build_link("awgn", {"snr_db": snr}).state(video.info, Rate(cbr=1.0))
        for cand in cands:
            code = scheme._encode_gop(model, x, 0, cand, scheme.eta(model.arch), scheme.side_mcs(state), True, state,
                                      0, (h, w), False)
            with torch.no_grad():
                xr = received.simulated_reception(model, x, code, snr, scheme.config.symbol_clip, (h, w))
                tg = x[:, :, :h, :w]
                mse = float(((xr - tg) / 2).pow(2).mean())  # frames in [-1, 1]
                row = {"snr_db": snr, "rung": cand.label, "quality": cand.quality, "eta_scale": cand.eta_scale,
                       "channel_uses": code.channel_uses, "cbr": code.channel_uses / (frames * h * w * 3),
                       "l1": float((xr - tg).abs().mean()), "lpips_alex": float(alex(xr, tg).mean()),
                       "psnr": -10.0 * math.log10(max(mse, 1e-12))}
                row["eq27"] = LAMBDA_REC * row["l1"] + LAMBDA_PER * row["lpips_alex"]
                if vgg is not None:
                    row["lpips_vgg"] = float(vgg(xr[:vgg_frames], tg[:vgg_frames]).mean())
            rows.append(row)
            print(f"{snr:+g} dB {cand.label:>14}: {code.channel_uses:6d} uses  L1 {row['l1']:.4f}  "
                  f"LPIPS-alex {row['lpips_alex']:.4f}  eq27 {row['eq27']:.4f}  PSNR {row['psnr']:.2f}"
                  + (f"  LPIPS-vgg {row['lpips_vgg']:.4f}" if "lpips_vgg" in row else ""), flush=True)
    mark_hull(rows)
    return rows


def mark_hull(rows: list[dict], key: str = "eq27") -> None:
    """Per SNR, ``hull`` = True on the rows that no cheaper (or equally cheap) row beats on ``key``."""
    for snr in {r["snr_db"] for r in rows}:
        best = float("inf")
        for r in sorted((r for r in rows if r["snr_db"] == snr), key=lambda r: (r["channel_uses"], r[key])):
            r["hull"] = r[key] < best
            best = min(best, r[key])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clip", nargs="?", default=None, help="a video file (default: the bundled sample clip)")
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--snrs", default="-4,-2,0,2,6")
    ap.add_argument("--rungs", type=int, default=4)
    ap.add_argument("--ladder", default="eta", choices=["eta", "quality"])
    ap.add_argument("--grid", action="store_true", help="every (quality, η factor) of the grid instead")
    ap.add_argument("--qualities", default=None, help="the grid's qualities, comma-separated (default GRID_QUALITIES)")
    ap.add_argument("--eta-scales", default=None,
                    help="the grid's factors on η, comma-separated; > 1 sends more symbols than the model's η "
                         "(default GRID_ETA_SCALES)")
    ap.add_argument("--vgg-frames", type=int, default=4)
    ap.add_argument("--weights", default="shipped", help="the pvsc weights (an earlier export to re-measure it)")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    clip = a.clip or str(samples.path("bikes"))
    size, frames, snrs, vgg = ("64x64", 4, "-2,6", 0) if a.quick else (a.size, a.frames, a.snrs, a.vgg_frames)
    floats = lambda text, default: tuple(float(v) for v in text.split(",")) if text else default
    rows = measure(clip, size, frames, [float(v) for v in snrs.split(",")], a.rungs, vgg, a.ladder, a.grid,
                   a.weights, floats(a.qualities, GRID_QUALITIES), floats(a.eta_scales, GRID_ETA_SCALES))
    for snr in sorted({r["snr_db"] for r in rows}, reverse=True):
        hull = sorted((r for r in rows if r["snr_db"] == snr and r["hull"]), key=lambda r: r["channel_uses"])
        print(f"{snr:+g} dB, lower hull on eq. (27): " + ", ".join(f"{r['rung']} ({r['cbr']:.4f})" for r in hull))
    print(json.dumps({"clip": clip, "size": size, "frames": frames, "rows": rows}))


if __name__ == "__main__":
    main()
