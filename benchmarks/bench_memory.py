"""Peak memory and seconds per frame per stage, for every registered scheme, at 256², 720p and 1080p.

Usage::

    python benchmarks/bench_memory.py [--clip PATH] [--sizes 256x256,1280x720,1920x1080]
                                      [--lengths 256x256=60:180,1280x720=20:60,1920x1080=10:30]
                                      [--schemes h265,resivid,tokencom,h264] [--phy abstract,bit-true]
                                      [--h26x-preset medium] [--cbr 0.01] [--snr-db 6] [--quick]

Every run is one ``tokcom run`` in its own process (default metrics, AWGN, ``--cbr``), its peak resident
memory read from the kernel (``wait4`` rusage of that process) and its per-stage seconds from ``result.json``
(``encode_s``, ``link_s``, ``decode_s``, ``metric_<name>_s``). At each size two clip lengths give the
**slope** — (peak(long) − peak(short)) / (extra frames × raw bytes per frame): how many bytes each extra
raw byte of video costs — and the **intercept** — peak(short) − slope × raw(short). The target of issue 14
is peak ≤ 2 GiB + 2.5 × raw (input and reconstruction held, no float copies of the whole video).

The clip defaults to ``../shared/data/cockatoo.mp4`` (1280×720, 280 frames; resized — up to 1080p — by
``--size``, which is honest for memory and speed), else the bundled bikes.mp4. ``--phy bit-true`` adds one
run per scheme and size with Sionna's LDPC chain (its link seconds per frame; memory of the short clip).
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_INTERCEPT = 2 << 30
TARGET_SLOPE = 2.5


def _run(args: list[str]) -> tuple[dict | None, float, float, str]:
    """Run ``tokcom ARGS`` → (result.json or None, peak RSS bytes, wall seconds, stderr tail)."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "run"
        cmd = [sys.executable, "-m", "tokcom", "run", *args, "--out", str(out)]
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO,
                             env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
        err = p.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        rss = usage.ru_maxrss * 1024  # kilobytes on Linux
        if status != 0 or not (out / "result.json").is_file():
            return None, rss, wall, err.strip().splitlines()[-1] if err.strip() else f"exit {status}"
        return json.loads((out / "result.json").read_text()), rss, wall, ""


def _scheme_args(scheme: str, w: int, h: int, preset: str) -> list[str]:
    if scheme in ("h264", "h265"):
        return ["--preset", preset]
    if scheme == "tokencom":
        return ["--intent-box", f"{w // 4},{h // 4},{3 * w // 4},{3 * h // 4}"]
    return _untrained_args(scheme)


def _untrained_args(scheme: str) -> list[str]:
    """A learned scheme without shipped weights runs with its example options (a random initialisation:
    the same memory and speed as trained weights)."""
    from tokcom.registry import SCHEMES
    from tokcom.schemes.base import build_scheme

    try:
        absent = any(v == "absent" for v in build_scheme(scheme).weights().values())
    except Exception:  # noqa: BLE001 - a scheme that cannot even be configured: run it as it is
        absent = False
    opts = SCHEMES.get(scheme).example_options if absent else {}
    return [x for k, v in opts.items() for x in ("--set", f"{k}={v}")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=None)
    ap.add_argument("--sizes", default="256x256,1280x720,1920x1080")
    ap.add_argument("--lengths", default="256x256=60:180,1280x720=20:60,1920x1080=10:30")
    ap.add_argument("--schemes", default=None, help="default: every registered scheme")
    ap.add_argument("--phy", default="abstract", help="abstract and/or bit-true (comma-separated)")
    ap.add_argument("--h26x-preset", default="medium")
    ap.add_argument("--cbr", type=float, default=0.01)
    ap.add_argument("--snr-db", type=float, default=6.0)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.sizes, a.lengths, a.phy = "128x128", "128x128=20:60", "abstract"

    sys.path.insert(0, str(REPO / "src"))
    from tokcom.registry import SCHEMES
    from tokcom.video import samples

    shared = REPO.parent / "shared" / "data" / "cockatoo.mp4"
    clip = Path(a.clip) if a.clip else (shared if shared.is_file() else samples.path("bikes"))
    schemes = a.schemes.split(",") if a.schemes else SCHEMES.list()
    lengths = {k: tuple(int(x) for x in v.split(":")) for k, v in (kv.split("=") for kv in a.lengths.split(","))}
    rows, fits = [], []
    print(f"# {clip.name}, AWGN {a.snr_db:g} dB, CBR {a.cbr:g}, default metrics, h26x preset {a.h26x_preset}")
    print("| scheme | size | frames | raw MB | peak RSS MB | target MB | within | wall s | enc s/f | link s/f | "
          "dec s/f | metrics s/f | slowest stage |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in a.sizes.split(","):
        w, h = (int(x) for x in size.split("x"))
        for scheme in schemes:
            per = []
            for n in lengths.get(size, (10, 30)):
                args = ["--scheme", scheme, "--input", str(clip), "--frames", str(n), "--size", size,
                        "--channel", "awgn", "--snr-db", str(a.snr_db), "--cbr", str(a.cbr),
                        *_scheme_args(scheme, w, h, a.h26x_preset)]
                res, rss, wall, err = _run(args)
                raw = n * w * h * 3
                target = TARGET_INTERCEPT + TARGET_SLOPE * raw
                row = {"scheme": scheme, "size": size, "frames": n, "raw_bytes": raw, "peak_rss_bytes": rss,
                       "target_bytes": target, "within_target": rss <= target, "wall_s": wall, "error": err,
                       "phy": "abstract"}
                if res is not None:
                    t = res["timing"]
                    stages = {"encode": t["encode_s"], "link": t["link_s"], "decode": t["decode_s"],
                              **{k[len("metric_"):-2]: v for k, v in t.items() if k.startswith("metric_")}}
                    row.update({"s_per_frame": {k: v / n for k, v in stages.items()},
                                "slowest_stage": max(stages, key=stages.get), "valid": res["valid"],
                                "cbr": res["cbr"]})
                rows.append(row)
                per.append(row)
                spf = row.get("s_per_frame", {})
                mets = sum(v for k, v in spf.items() if k not in ("encode", "link", "decode"))
                print(f"| {scheme} | {size} | {n} | {raw / 1e6:.1f} | {rss / 1e6:.0f} | {target / 1e6:.0f} | "
                      f"{'yes' if row['within_target'] else 'NO'} | {wall:.1f} | {spf.get('encode', 0):.3f} | "
                      f"{spf.get('link', 0):.4f} | {spf.get('decode', 0):.3f} | {mets:.3f} | "
                      f"{row.get('slowest_stage', err)} |", flush=True)
            if len(per) == 2:
                d_raw = per[1]["raw_bytes"] - per[0]["raw_bytes"]
                slope = (per[1]["peak_rss_bytes"] - per[0]["peak_rss_bytes"]) / d_raw
                intercept = per[0]["peak_rss_bytes"] - slope * per[0]["raw_bytes"]
                fits.append({"scheme": scheme, "size": size, "slope": slope, "intercept_bytes": intercept})
            if "bit-true" in a.phy.split(","):
                n = lengths.get(size, (10, 30))[0]
                res, rss, wall, err = _run(["--scheme", scheme, "--input", str(clip), "--frames", str(n),
                                            "--size", size, "--channel", "awgn", "--snr-db", str(a.snr_db),
                                            "--cbr", str(a.cbr), "--phy", "bit-true", "--metric", "psnr",
                                            *_scheme_args(scheme, w, h, a.h26x_preset)])
                rows.append({"scheme": scheme, "size": size, "frames": n, "phy": "bit-true", "peak_rss_bytes": rss,
                             "wall_s": wall, "error": err,
                             "link_s_per_frame": res["timing"]["link_s"] / n if res else None})
                print(f"| {scheme} | {size} | {n} bit-true | | {rss / 1e6:.0f} | | | {wall:.1f} | | "
                      f"{(res['timing']['link_s'] / n) if res else float('nan'):.4f} | | | {err} |", flush=True)
    print("\n| scheme | size | slope (bytes per raw byte) | intercept MB |")
    print("|---|---|---|---|")
    for f in fits:
        print(f"| {f['scheme']} | {f['size']} | {f['slope']:.2f} | {f['intercept_bytes'] / 1e6:.0f} |")
    print(json.dumps({"bench": "memory", "clip": str(clip), "cbr": a.cbr, "snr_db": a.snr_db,
                      "h26x_preset": a.h26x_preset, "rows": rows, "fits": fits,
                      "target": {"intercept_bytes": TARGET_INTERCEPT, "slope": TARGET_SLOPE}}))


if __name__ == "__main__":
    main()
