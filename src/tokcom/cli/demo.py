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
    from tokcom.experiments.quality import primary_metric, quality_at_budget, winners_sentence
    from tokcom.experiments.records import curve_label
    from tokcom.registry import SCHEMES

    cfg = DemoConfig.quick() if quick else DemoConfig()
    con = console_err()
    with con.status("tokcom demo") as status:
        records, index = run_demo(out, cfg, progress=lambda d, t, m: status.update(f"tokcom demo {d}/{t}: {m}"))
    first = records[0]
    t = Table(title=f"tokcom demo: {Path(first['input']).name}, {first['frames']} frames "
                    f"{first['width']}×{first['height']}, {cfg.channel}")
    metric_names = [m for m in cfg.metrics if any(m in r["metrics"] for r in records)]
    for h in ("scheme", "SNR dB", "target CBR", "CBR used", "over budget", "transmission", "kbit/s", "PDUs lost",
              "decoded", "valid", *metric_names):
        t.add_column(h, justify="right")
    for r in records:
        c = r["config"]
        t.add_row(curve_label(r), f"{c['snr_db']:g}", f"{c['cbr']:g}", f"{r['cbr']:.4g}",
                  "yes" if r.get("over_budget") else "no", SCHEMES.get(r["scheme"]).summary(r),
                  f"{r['bitrate_bps'] / 1e3:.1f}",
                  f"{r['packets']['lost']}/{r['packets']['sent']}", f"{r['frames_decoded']}/{r['frames']}",
                  "yes" if r["valid"] else "no",
                  *[(f"{r['metrics'][m]:.2f}" if m.startswith("psnr") else f"{r['metrics'][m]:.4f}")
                    if m in r["metrics"] else "–" for m in metric_names])
    console_out().print(t)
    pm = primary_metric(records)
    if pm is not None:
        console_out().print(winners_sentence(quality_at_budget(records, pm)))
    con.print(f"report: {index.resolve()}")
