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
    from rich.console import Console
    from rich.table import Table

    from tokcom.cli.app import console_err, progress_status
    from tokcom.experiments.demo import DemoConfig, run_demo

    cfg = DemoConfig.quick() if quick else DemoConfig()
    with progress_status("tokcom demo") as say:
        records, index = run_demo(out, cfg, progress=say)
    t = Table(title=f"tokcom demo: {records[0]['input']}, {records[0]['frames']} frames "
                    f"{records[0]['width']}×{records[0]['height']}, erasure link")
    for h in ("scheme", "PDU loss", "kbit/s", "PDUs lost", "decoded", "valid", "PSNR dB", "SSIM"):
        t.add_column(h, justify="right")
    for r in records:
        t.add_row(r["scheme"], f"{r['pdu_loss']:g}", f"{r['kbps']:.1f}", r["lost"],
                  f"{r['frames_decoded']}/{r['frames']}", "yes" if r["valid"] else "no",
                  f"{r['metrics']['psnr']:.2f}", f"{r['metrics']['ssim']:.4f}")
    Console().print(t)
    console_err().print(f"report: {index.resolve()}")
