"""Where PVSC's quality is lost: the source codec, the symbol coder, or the channel (point 5's "what would close
the gap").

Usage::

    python benchmarks/bench_pvsc_ceiling.py [CLIP] [--size 256x256] [--frames 24] [--gop 8]
                                            [--qualities 1,4] [--snrs 6,12] [--weights shipped|FILE] [--quick]

CLIP defaults to the bundled sample clip; ``--quick``: 64², 4 frames, q4 at 6 dB.

For each fixed quality preset (at the model's η, no budget) and AWGN SNR, every GOP of the clip goes through the
three reconstructions the model trains (``PvscModel.train_clip`` with rounding, the inference quantiser):

* ``ideal`` — x̂^ideal of eq. (26): G on the quantised latent ŷ itself, as if it reached the receiver
  losslessly (the transmitter's temporal contexts). Its quality is the source codec's ceiling: what analysis,
  hyperprior, quantisation and synthesis can do at this preset, whatever the channel.
* ``tx`` — x̂^tx of eqs. (22)–(24): the symbols s_t of eq. (15) decoded by F_rx over an ideal channel. The
  step ideal → tx is the symbol coder's loss (ȳ squeezed into k real dimensions per unit and back).
* ``rx`` — x̂ of eqs. (16)–(21): the same symbols through AWGN at the SNR (``channel_noise``, the training
  channel; the link adds clipping and its own draws, so ``rx`` is close to but not the same as ``tokcom run``).
  The step tx → rx is the channel's.

The channel uses are counted exactly, per GOP, as rate control counts them (``_encode_gop``: symbols plus the side
PDUs at the side link's MCS for that SNR), as CBR. Scores: PSNR and LPIPS-vgg (LPIPS-alex when VGG's weights are
not cached) over all frames. Prints one line per (quality, SNR) and, last, one JSON object.
"""

from __future__ import annotations

import argparse
import json

from tokcom.link.base import build_link
from tokcom.metrics.perceptual import get_net, weights_unavailable
from tokcom.schemes.base import build_scheme
from tokcom.schemes.pvsc.model import quality_tensor
from tokcom.schemes.pvsc.ratecontrol import Candidate
from tokcom.schemes.pvsc.scheme import _frames_tensor
from tokcom.train.losses import psnr_db
from tokcom.types import Rate
from tokcom.video import read_video, samples

BRANCHES = ("ideal", "tx", "rx")


def measure(clip: str, size: str, frames: int, gop: int, qualities: list[float], snrs: list[float],
            weights: str = "shipped") -> list[dict]:
    import torch

    video = read_video(clip, frames=frames, size=size)
    h, w = video.info.height, video.info.width
    scheme = build_scheme("pvsc", {"gop": gop, "weights": weights})
    model, _ = scheme.model()
    net_name = "lpips-vgg" if not weights_unavailable("lpips-vgg") else "lpips-alex"
    net = get_net(net_name, "cpu")
    x = _frames_tensor(video.frames, "cpu")  # (T, 3, Hp, Wp) in [-1, 1]
    eta = scheme.eta(model.arch)
    rows = []
    for q in qualities:
        for snr in snrs:
            state = build_link("awgn", {"snr_db": snr}).state(video.info, Rate(cbr=1.0))
            uses = 0
            recon: dict[str, list[torch.Tensor]] = {b: [] for b in BRANCHES}
            gen = torch.Generator().manual_seed(0)
            for start, n in scheme.gops(video.info.num_frames):
                xg = x[start:start + n]
                uses += scheme._encode_gop(model, xg, start, Candidate(q), eta, scheme.side_mcs(state), True, state,
                                           0, (h, w), False).channel_uses
                with torch.no_grad():
                    out = model.train_clip(xg[:, :, :h, :w].permute(1, 0, 2, 3)[None], quality_tensor(q, "cpu"),
                                           mode="round", branch="full", snr_db=snr, generator=gen)
                for b in BRANCHES:
                    recon[b].append(out[b][0].permute(1, 0, 2, 3).clamp(-1, 1))
            target = x[:, :, :h, :w]
            row = {"quality": q, "snr_db": snr, "cbr": uses / (video.info.num_frames * h * w * 3), "net": net_name}
            with torch.no_grad():
                for b in BRANCHES:
                    xr = torch.cat(recon[b])
                    row[f"{b}_psnr"] = psnr_db(xr, target)
                    row[f"{b}_lpips"] = float(torch.cat([net(xr[i:i + 4], target[i:i + 4]).reshape(-1)
                                                         for i in range(0, xr.shape[0], 4)]).mean())
            rows.append(row)
            print(f"q{q:g} {snr:+g} dB  CBR {row['cbr']:.4f}  " + "  ".join(
                f"{b} {row[f'{b}_psnr']:.2f} dB / {row[f'{b}_lpips']:.3f}" for b in BRANCHES), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clip", nargs="?", default=None, help="a video file (default: the bundled sample clip)")
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--gop", type=int, default=8)
    ap.add_argument("--qualities", default="1,4")
    ap.add_argument("--snrs", default="6,12")
    ap.add_argument("--weights", default="shipped")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.size, a.frames, a.gop, a.qualities, a.snrs = "64x64", 4, 4, "4", "6"
    clip = a.clip or str(samples.path("bikes"))
    rows = measure(clip, a.size, a.frames, a.gop, [float(v) for v in a.qualities.split(",")],
                   [float(v) for v in a.snrs.split(",")], a.weights)
    print(json.dumps({"clip": clip, "size": a.size, "frames": a.frames, "gop": a.gop, "rows": rows}))


if __name__ == "__main__":
    main()
