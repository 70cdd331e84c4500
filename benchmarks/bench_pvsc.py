"""PVSC (``pvsc``) speed and size, the columns of Table IV of 002_165f6aebfafa3581.txt, on this CPU; and the
transmitter/receiver reconstruction gap over a GOP at 6 dB.

Usage::

    python benchmarks/bench_pvsc.py [--configs small,paper] [--sizes 256x256,1280x720] [--frames 4]
                                    [--threads 1] [--gap-frames 8] [--gap-snr 6] [--quick]

Per architecture (``small``, ``paper``) and frame size:

* **Tx / Rx ms per frame**: ``Scheme.encode`` / ``Scheme.decode`` of the pvsc scheme over ``--frames`` frames
  (one GOP: an I-frame, then P-frames) with a fixed preset (q = 4) and no rate target — the whole pipeline of
  Fig. 5 (feature coding, the transmitter's buffer update of eqs. 22–24, b_z range coding, b_k, PDUs; the
  receiver's parsing, range decoding and reconstruction), the link excluded; fastest of 2 runs after an
  untimed warm-up. ``tx_rc_ms``: the same with rate control searching the presets under a CBR of 0.02
  (each candidate tried is a full GOP encode).
* **MACs per pixel**: ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2) over one I-frame and one
  P-frame of the transmitter (``encode_frame``, buffer update included) and of the receiver
  (``decode_frame``), divided by the frame's pixels (padded frames count their padding as work).
* **Parameters**: the shipped model (distilled rate set, intra + P-frame codecs) and the training model
  (overcomplete heads).

The gap: ``tokcom.schemes.pvsc.scheme.tx_rx_gap`` — PSNR of the receiver's frames against the transmitter's
own buffer reconstructions, over AWGN at ``--gap-snr`` dB, ``--gap-frames`` frames of bikes at 256², GOP 8.
Weights: ``pvsc-small`` shipped weights when present, else a random initialisation (reported).

Prints a table and, as the last line, one JSON object. ``--quick``: the small model, 256² only, 2 frames.

**On a GPU** (``--device cuda``; the model runs there, entropy coding and PDUs stay on the CPU as in the scheme):
a lent GPU machine has no PyAV, so carry the frames as ``.npz`` (``--save-npz FRAMES.npz`` here writes the clip's
first ``--frames``/``--gap-frames`` frames at 256²; ``--npz FRAMES.npz`` there reads them) and the ``constriction``
wheel for its Python (docs/pvsc.md, "Speed", has the device command). MACs are counted on the CPU either way.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict

import numpy as np

# --device (where the model runs) and --npz (a frames file in place of the bundled clip: no PyAV on a GPU machine)
_OPTS: dict[str, str] = {"device": "cpu", "npz": ""}


def _source(frames: int):
    """``frames`` frames of bikes at 256² (the bundled clip, or the ``--npz`` export of it)."""
    from tokcom.types import Video
    from tokcom.video import read_video, samples

    if not _OPTS["npz"]:
        return read_video(samples.path("bikes"), frames=frames, size="256x256")
    with np.load(_OPTS["npz"], allow_pickle=False) as z:
        arr, fps = np.asarray(z["frames"][:frames], np.uint8), float(z["fps"])
    if len(arr) < frames:
        raise SystemExit(f"{_OPTS['npz']} holds {len(arr)} frames; {frames} needed")
    return Video(arr, fps, source=_OPTS["npz"])


def _video(frames: int, size: str):
    w, h = (int(v) for v in size.split("x"))
    v = _source(frames)
    if (w, h) == (256, 256):
        return v
    import cv2

    return v.with_frames(np.stack([cv2.resize(np.asarray(f), (w, h), interpolation=cv2.INTER_LINEAR)
                                   for f in v.frames]))


def _scheme(model: str, **opts):
    from tokcom.schemes.base import build_scheme
    from tokcom.schemes.pvsc.scheme import weight_files

    cfg = {"model": model, "gop": 64, **opts}
    st = weight_files(build_scheme("pvsc", {"model": model}).config)[0]
    cfg.setdefault("weights", "shipped" if st.is_file() else "random")
    return build_scheme("pvsc", cfg, device=_OPTS["device"])


def _sync() -> None:
    import torch

    if _OPTS["device"].startswith("cuda"):
        torch.cuda.synchronize()


def _best(fn, runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        _sync()
        t0 = time.perf_counter()
        fn()
        _sync()
        best = min(best, time.perf_counter() - t0)
    return best


def speed(model: str, size: str, frames: int) -> dict:
    from tokcom.link.base import build_link
    from tokcom.types import Rate, Reception

    v = _video(frames, size)
    s = _scheme(model, quality=4)
    link = build_link("awgn", {"snr_db": 6.0})
    state = link.state(v.info, Rate())
    rng = np.random.default_rng(0)
    tx = s.encode(v, state, rng)  # warm-up (model load, entropy tables)
    rx = Reception(tx.info, tx.packets, tx.symbols)
    s.decode(rx, rng)
    tx_s = _best(lambda: s.encode(v, state, rng))
    rx_s = _best(lambda: s.decode(rx, rng))
    rc = _scheme(model)
    st_rc = link.state(v.info, Rate(cbr=0.02))
    rc.encode(v, st_rc, rng)
    _sync()
    t0 = time.perf_counter()
    tx_rc = rc.encode(v, st_rc, rng)
    _sync()
    rc_s = time.perf_counter() - t0
    return {"model": model, "size": size, "frames": frames, "weights": tx.report.weights, "device": _OPTS["device"],
            "tx_ms": 1e3 * tx_s / frames, "rx_ms": 1e3 * rx_s / frames, "tx_rc_ms": 1e3 * rc_s / frames,
            "rc_candidates_tried": [g.candidates_tried for g in tx_rc.report.gops],
            "symbols_per_frame": tx.report.symbols / frames, "side_bits_per_frame": tx.report.side_bits / frames}


def macs(model: str, size: str) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tokcom.schemes.pvsc.config import ARCHS
    from tokcom.schemes.pvsc.model import PvscModel, pad_frames

    w, h = (int(v) for v in size.split("x"))
    arch = ARCHS[model]
    torch.manual_seed(0)
    m = PvscModel(arch).eval()
    x = pad_frames(torch.rand(1, 3, h, w) * 2 - 1)
    px = h * w
    out: dict = {"model": model, "size": size, "padded": f"{x.shape[-1]}x{x.shape[-2]}"}

    def count(fn) -> tuple[float, dict]:
        with FlopCounterMode(display=False) as fc:
            fn()
        per = {str(k): v for k, v in fc.get_flop_counts().items()}
        names = {"Conv2d": "E_s context (5×5)", "Sequential": "E_s fuse"}  # the checkerboard's nets, called directly
        top = {names.get(k, k): round(sum(v.values()) / 2 / px, 1) for k, v in per.items()
               if "." not in k and k != "Global"}
        return fc.get_total_flops() / 2 / px, top

    code_i, _, ref = m.encode_frame(x, None, 4, arch.eta)
    code_p, _, _ = m.encode_frame(x, ref, 4, arch.eta)
    z_i = torch.zeros(code_i.z_hat.shape)
    out["tx_i_macs_per_px"], _ = count(lambda: m.encode_frame(x, None, 4, arch.eta))
    out["tx_p_macs_per_px"], out["tx_p_breakdown"] = count(lambda: m.encode_frame(x, ref, 4, arch.eta))
    out["rx_i_macs_per_px"], _ = count(lambda: m.decode_frame(z_i, code_i.symbols, code_i.kidx, None, 4))
    out["rx_p_macs_per_px"], _ = count(lambda: m.decode_frame(z_i, code_p.symbols, code_p.kidx, ref, 4, intra=False))
    out["params_shipped"] = int(sum(p.numel() for p in m.parameters()))
    out["params_intra"] = int(sum(p.numel() for p in m.intra.parameters()))
    out["params_p"] = int(sum(p.numel() for p in m.inter.parameters()))
    out["params_training"] = int(sum(p.numel() for p in PvscModel(arch, arch.overcomplete).parameters()))
    return out


def gap(frames: int, snr_db: float) -> dict:
    from tokcom.link.base import build_link
    from tokcom.schemes.pvsc.scheme import tx_rx_gap

    v = _video(frames, "256x256")
    s = _scheme("small", gop=8)
    g = asdict(tx_rx_gap(s, v, build_link("awgn", {"snr_db": snr_db})))
    g["weights"] = s.config.weights
    g["snr_db"] = snr_db
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="small,paper")
    ap.add_argument("--sizes", default="256x256,1280x720")
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--gap-frames", type=int, default=8)
    ap.add_argument("--gap-snr", type=float, default=6.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu | cuda (the model; MACs are counted on the CPU)")
    ap.add_argument("--npz", default="", help="frames from this file instead of the bundled clip (GPU machines)")
    ap.add_argument("--save-npz", default="", help="write the frames the benchmark uses to this file, then exit")
    a = ap.parse_args()
    if a.quick:
        a.configs, a.sizes, a.frames, a.gap_frames = "small", "256x256", 2, 4
    if a.save_npz:
        v = _source(max(a.frames, a.gap_frames))
        np.savez_compressed(a.save_npz, frames=np.asarray(v.frames, np.uint8), fps=np.float64(v.fps))
        print(f"wrote {a.save_npz}: {v.num_frames} frames {v.width}x{v.height}")
        return
    _OPTS.update(device=a.device, npz=a.npz)
    import torch

    torch.set_num_threads(a.threads)
    if a.device.startswith("cuda"):
        print(f"device {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    rows, mac_rows = [], []
    for model in a.configs.split(","):
        for size in a.sizes.split(","):
            mac_rows.append(macs(model, size))
            r = speed(model, size, a.frames)
            rows.append(r)
            mr = mac_rows[-1]
            print(f"{model:6s} {size:>9s}  Tx {r['tx_ms']:9.1f} ms  Rx {r['rx_ms']:9.1f} ms  Tx+RC {r['tx_rc_ms']:9.1f} ms"
                  f"  MACs/px Tx I {mr['tx_i_macs_per_px'] / 1e3:7.1f} k  P {mr['tx_p_macs_per_px'] / 1e3:7.1f} k"
                  f"  Rx I {mr['rx_i_macs_per_px'] / 1e3:7.1f} k  P {mr['rx_p_macs_per_px'] / 1e3:7.1f} k"
                  f"  params {mr['params_shipped'] / 1e6:.3f} M", flush=True)
    g = gap(a.gap_frames, a.gap_snr)
    print(f"tx/rx gap at {a.gap_snr:g} dB over {a.gap_frames} frames ({g['weights']}): mean "
          f"{g['mean_db']:.2f} dB PSNR(x̂^tx, x̂^rx), per frame {[round(v, 1) for v in g['psnr_tx_vs_rx_db']]}")
    print(json.dumps({"threads": a.threads, "device": a.device, "speed": rows, "macs": mac_rows, "gap": g}))


if __name__ == "__main__":
    main()
