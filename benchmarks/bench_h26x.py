"""x265 / x264 baseline speed: encode, decode and end-to-end frames per second, and the ratio to real time.

Usage::

    python benchmarks/bench_h26x.py [--presets veryslow,medium] [--frames 32] [--codecs h265,h264]
                                    [--sizes 256x256,native] [--bpp 0.1] [--clip PATH] [--repeat 3]
                                    [--budget-s 20] [--quick]

Runs the real scheme code: ``tokcom.schemes.h26x.H265Scheme`` / ``H264Scheme`` (``rate_iterations=1``, so
one encoder run per measurement) → ``ErasureLink(pdu_loss=0)`` → ``decode``. "encode" is
``Scheme.encode`` (RGB→YUV 4:2:0, x265/x264, packetisation into 1200-byte PDUs), "decode" is
``Scheme.decode`` (depacketisation, FFmpeg decoder, YUV→RGB); both are timed with ``time.perf_counter``.
The schemes run their encoders single-threaded (x265 ``frame-threads=1:pools=none``, x264 ``threads=1``)
and the decoder with one thread, so the numbers are per-core numbers.

The clip is ``../shared/data/bikes.mp4`` when present, else the bundled sample (the same clip, 25 fps),
read with ``tokcom.video.read_video(path, frames=N, size=...)``: once centre-cropped and area-resized to
256×256, once at its native size. The target bitrate is ``--bpp`` bits per pixel at the clip's frame rate
(0.1 bpp: 164 kbit/s at 256×256, 435 kbit/s at 640×272). ``--quick``: 8 frames, ``ultrafast`` only.

Each stage is timed up to ``--repeat`` times (default 3; no new run once ``--budget-s`` seconds are spent
on it) and the fastest run counts, the one least disturbed by other load on a shared machine; every run's
seconds are in the JSON. fps = frames / seconds; ``x_realtime`` = fps / clip fps (> 1: faster than real
time). Prints a table, then one JSON line (the last line) with every row and the ratios h265/h264 and
veryslow/medium.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

DEFAULT_PRESETS = ("veryslow", "medium")
QUICK_PRESETS = ("ultrafast",)


def _clip_path() -> tuple[Path, str]:
    shared = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bikes.mp4").resolve()
    if shared.is_file():
        return shared, "../shared/data/bikes.mp4"
    from tokcom.video import samples

    return samples.path(), "tokcom.video.samples:bikes"


def _psnr(a: np.ndarray, b: np.ndarray) -> float | None:
    """PSNR in dB (None when identical: JSON has no infinity)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return None if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _timed(fn, repeat: int, budget_s: float):
    """Run ``fn`` up to ``repeat`` times (at least once; no new run once ``budget_s`` is spent).
    Returns (last result, every run's seconds)."""
    times: list[float] = []
    out = None
    while len(times) < max(1, repeat) and (not times or sum(times) < budget_s):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def measure(codec: str, preset: str, video, bpp: float, repeat: int = 1, budget_s: float = 20.0) -> dict:
    """Encode → lossless link → decode of ``video``; seconds of each stage (the fastest of up to
    ``repeat`` runs: the least disturbed by other load) and the derived rates."""
    from tokcom.link.erasure import ErasureLink
    from tokcom.schemes.h26x import H264Scheme, H265Scheme
    from tokcom.types import LinkState

    cls = {"h265": H265Scheme, "h264": H264Scheme}[codec]
    bitrate = bpp * video.width * video.height * video.fps
    scheme = cls(preset=preset, bitrate_bps=bitrate, rate_iterations=1)
    state = LinkState()
    tx, enc_times = _timed(lambda: scheme.encode(video, state, np.random.default_rng(0)), repeat, budget_s)
    t1 = time.perf_counter()
    rx = ErasureLink(pdu_loss=0.0).carry(tx, np.random.default_rng(0))
    link_s = time.perf_counter() - t1
    dec, dec_times = _timed(lambda: scheme.decode(rx, np.random.default_rng(0)), repeat, budget_s)
    n = video.num_frames
    enc_s, dec_s = min(enc_times), min(dec_times)
    row = {
        "codec": codec, "encoder": scheme.encoder_name, "preset": preset,
        "size": f"{video.width}x{video.height}", "frames": n,
        "target_bitrate_bps": bitrate,
        "bitrate_bps": tx.source_bits / video.duration_s,
        "psnr_db": _psnr(dec.video.frames, video.frames),
        "frames_decoded": dec.frames_decoded,
        "encode_s": enc_s, "decode_s": dec_s, "link_s": link_s,
        "encode_s_runs": enc_times, "decode_s_runs": dec_times,
        "encode_fps": n / enc_s, "decode_fps": n / dec_s, "e2e_fps": n / (enc_s + dec_s),
    }
    for k in ("encode", "decode", "e2e"):
        row[f"{k}_x_realtime"] = row[f"{k}_fps"] / video.fps
    return row


def _warm_up(codecs: list[str]) -> None:
    """Load the codec libraries once (not timed)."""
    from tokcom.types import Video

    tiny = Video(np.full((2, 64, 64, 3), 100, np.uint8), 25.0)
    for c in codecs:
        measure(c, "ultrafast", tiny, 0.1)


def _ratios(rows: list[dict]) -> dict[str, float]:
    by = {(r["codec"], r["preset"], r["size"]): r for r in rows}
    out: dict[str, float] = {}
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    presets = list(dict.fromkeys(r["preset"] for r in rows))
    for size in sizes:
        for p in presets:
            a, b = by.get(("h265", p, size)), by.get(("h264", p, size))
            if a and b:
                out[f"h265/h264 encode time, {p}, {size}"] = a["encode_s"] / b["encode_s"]
                out[f"h265/h264 decode time, {p}, {size}"] = a["decode_s"] / b["decode_s"]
        for c in ("h265", "h264"):
            slow, fast = by.get((c, "veryslow", size)), by.get((c, "medium", size))
            if slow and fast:
                out[f"{c} veryslow/medium encode time, {size}"] = slow["encode_s"] / fast["encode_s"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=_csv, default=None,
                    help=f"comma-separated x264/x265 presets (default: {','.join(DEFAULT_PRESETS)})")
    ap.add_argument("--frames", type=int, default=None, help="frames per measurement (default 32)")
    ap.add_argument("--codecs", type=_csv, default=["h265", "h264"], help="h265,h264 (default both)")
    ap.add_argument("--sizes", type=_csv, default=["256x256", "native"],
                    help="WxH sizes and/or 'native' (default 256x256,native)")
    ap.add_argument("--bpp", type=float, default=0.1, help="target bits per pixel (default 0.1)")
    ap.add_argument("--clip", type=Path, default=None, help="video file (default bikes.mp4)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="time each stage up to N times and keep the fastest (default 3; quick: 1)")
    ap.add_argument("--budget-s", type=float, default=20.0,
                    help="no further repeat of a stage once its runs took this long (default 20)")
    ap.add_argument("--quick", action="store_true", help="8 frames, ultrafast only, one run")
    a = ap.parse_args()

    frames = a.frames or (8 if a.quick else 32)
    repeat = a.repeat or (1 if a.quick else 3)
    presets = a.presets or list(QUICK_PRESETS if a.quick else DEFAULT_PRESETS)
    from tokcom.schemes.h26x import PRESETS

    bad = [p for p in presets if p not in PRESETS] + [c for c in a.codecs if c not in ("h265", "h264")]
    if bad:
        ap.error(f"unknown preset/codec: {', '.join(bad)}")
    if frames < 1:
        ap.error("--frames must be ≥ 1")

    from tokcom.video import read_video

    if a.clip is not None:
        path, clip_name = a.clip, str(a.clip)
    else:
        path, clip_name = _clip_path()
    videos = [read_video(path, frames=frames, size=None if s == "native" else s) for s in a.sizes]
    clip_fps = videos[0].fps

    _warm_up(a.codecs)
    rows = []
    sizes = ", ".join(f"{v.width}x{v.height}" for v in videos)
    print(f"# clip {clip_name} at {sizes}, {clip_fps:g} fps, "
          f"{frames} frames, {a.bpp} bpp, single-threaded codecs, best of ≤{repeat} runs, "
          f"{platform.machine()}", flush=True)
    head = (f"{'codec':5s} {'preset':9s} {'size':>8s} {'enc fps':>8s} {'dec fps':>8s} {'e2e fps':>8s} "
            f"{'enc xRT':>8s} {'dec xRT':>8s} {'e2e xRT':>8s} {'kbit/s':>8s} {'PSNR dB':>8s}")
    print(head)
    print("-" * len(head), flush=True)
    for video in videos:
        for preset in presets:
            for codec in a.codecs:
                r = measure(codec, preset, video, a.bpp, repeat, a.budget_s)
                rows.append(r)
                psnr = "lossless" if r["psnr_db"] is None else format(r["psnr_db"], "8.2f")
                print(f"{codec:5s} {preset:9s} {r['size']:>8s} {r['encode_fps']:8.2f} {r['decode_fps']:8.1f} "
                      f"{r['e2e_fps']:8.2f} {r['encode_x_realtime']:8.3f} {r['decode_x_realtime']:8.2f} "
                      f"{r['e2e_x_realtime']:8.3f} {r['bitrate_bps'] / 1e3:8.1f} {psnr:>8s}", flush=True)
    ratios = _ratios(rows)
    if ratios:
        print()
        for k, v in ratios.items():
            print(f"{k:45s} {v:7.2f}")
    out = {"bench": "h26x", "clip": clip_name, "clip_fps": clip_fps, "frames": frames, "bpp": a.bpp,
           "repeat": repeat, "budget_s": a.budget_s, "timing": "fastest run of each stage",
           "presets": presets, "codecs": a.codecs, "sizes": [f"{v.width}x{v.height}" for v in videos],
           "threads": "single-threaded encoders and decoder", "rows": rows, "ratios": ratios}
    print(json.dumps(out, allow_nan=False, default=float))


if __name__ == "__main__":
    main()
