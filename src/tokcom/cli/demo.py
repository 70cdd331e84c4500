"""``tokcom demo``: the main job on the bundled clip; writes DIR/index.html and prints the table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo_cmd(
    out: Annotated[Path, typer.Option(help="output directory")] = Path("demo-output"),
    quick: Annotated[bool, typer.Option(help="a small, fast configuration (for smoke tests)")] = False,
) -> None:
    """Run the main job on the bundled real clip, offline; write DIR/index.html."""
    from rich.table import Table

    from tokcom.cli.app import console_err, console_out
    from tokcom.experiments.demo import DemoConfig, run_demo

    cfg = DemoConfig.quick() if quick else DemoConfig()
    con = console_err()
    with con.status("tokcom demo") as status:
        records, index = run_demo(out, cfg, progress=lambda d, t, m: status.update(f"tokcom demo {d}/{t}: {m}"))
    first = records[0]
    t = Table(title=f"tokcom demo: {Path(first['input']).name}, {first['frames']} frames "
                    f"{first['width']}×{first['height']}, {cfg.channel}")
    metric_names = [m for m in cfg.metrics if any(m in r["metrics"] for r in records)]
    for h in ("scheme", "SNR dB", "target CBR", "CBR", "MCS", "kbit/s", "PDUs lost", "decoded", "valid",
              *metric_names):
        t.add_column(h, justify="right")
    for r in records:
        c = r["config"]
        t.add_row(r["scheme"], f"{c['snr_db']:g}", f"{c['cbr']:g}", f"{r['cbr']:.4g}", mcs_summary(r),
                  f"{r['bitrate_bps'] / 1e3:.1f}",
                  f"{r['packets']['lost']}/{r['packets']['sent']}", f"{r['frames_decoded']}/{r['frames']}",
                  "yes" if r["valid"] else "no",
                  *[(f"{r['metrics'][m]:.2f}" if m.startswith("psnr") else f"{r['metrics'][m]:.4f}")
                    if m in r["metrics"] else "–" for m in metric_names])
    console_out().print(t)
    con.print(f"report: {index.resolve()}")


def mcs_summary(record: dict) -> str:
    """A short MCS description: one MCS (h26x), per class (TokenCom), per key frame range (Resi-VidTok)."""

    def short(m: dict) -> str:
        return f"{m.get('modulation', '')} {m.get('coderate', 0):.2g}"

    sr = record.get("scheme_report", {})
    cc = sr.get("class_config")
    if isinstance(cc, dict) and "intended" in cc and "modulation" in cc["intended"]:
        return f"int {short(cc['intended'])} / non {short(cc['non_intended'])}"
    frames = sr.get("frames")
    if isinstance(frames, list):
        seen = sorted({(f.get("mcs_index")) for f in frames if f.get("key") and f.get("mcs_index") is not None})
        return "key frames: MCS " + ",".join(map(str, seen)) if seen else "–"
    mcs = sr.get("mcs")
    if isinstance(mcs, dict):
        return short(mcs)
    return str(mcs) if mcs is not None else "–"

