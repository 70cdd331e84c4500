"""``tokcom sweep`` (run a grid, resumable), ``tokcom results`` (print records), ``tokcom report`` (HTML)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def sweep_cmd(
    spec: Annotated[Path, typer.Argument(help="sweep spec (YAML)")],
    backend: Annotated[str, typer.Option(help="local | ray")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray address: auto | HOST:PORT (default: a new local head)")] = None,
    workers: Annotated[int | None, typer.Option(help="parallel points (default: CPU count)")] = None,
    out: Annotated[Path | None, typer.Option(help="output directory (default: sweeps/SPEC-STEM)")] = None,
    preview: Annotated[bool, typer.Option(help="write an H.264 preview of every reconstruction")] = True,
    report: Annotated[bool, typer.Option(help="(re)build DIR/index.html at the end")] = True,
    allow_mixed: Annotated[bool, typer.Option("--allow-mixed", help="keep stored records made by other code or "
                                              "weights and run only the missing points (recorded; the report "
                                              "says so)")] = False,
    rerun_stale: Annotated[bool, typer.Option("--rerun-stale", help="replace stored records made by other code "
                                              "or weights")] = False,
) -> None:
    """Run every point of a sweep spec that is not stored yet (resumes by default)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tokcom.cli.app import console_err
    from tokcom.errors import InputError
    from tokcom.experiments.runner import run_sweep, validate
    from tokcom.experiments.spec import load_spec

    if workers is not None and workers < 1:
        raise InputError(f"--workers must be ≥ 1; got {workers}")
    if allow_mixed and rerun_stale:
        raise InputError("give --allow-mixed or --rerun-stale, not both")
    sp = load_spec(spec)
    validate(sp.points())  # every point can run, before anything is shown or created
    out_dir = out or Path("sweeps") / spec.stem
    con = console_err()
    with Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=con, transient=False) as prog:
        task = prog.add_task("", total=len(sp.points()))

        def say(done: int, total: int, msg: str) -> None:
            prog.update(task, completed=done, total=total, description=msg[:60])

        summary = run_sweep(sp, out_dir, backend=backend, workers=workers, address=address, preview=preview,
                            on_stale="mix" if allow_mixed else "rerun" if rerun_stale else "error", progress=say)
    if report:
        from tokcom.experiments.report import build_report

        index = build_report(out_dir)
        con.print(f"report: {index.resolve()}")
    con.print(f"{summary['points']} points: {summary['done_before']} stored before, {summary['ran']} run, "
              f"{len(summary['errors'])} failed → {out_dir}")
    for key, err in summary["errors"].items():
        con.print(f"[red]point {key}: {err}[/red]")
    if summary["errors"]:
        raise typer.Exit(1)


FLAT = ["point_key", "scheme", "input", "frames", "width", "height", "seed", "channel", "snr_db", "pdu_loss",
        "cbr_target", "bitrate_target", "bandwidth_hz", "source_bits", "channel_uses", "cbr", "bpp",
        "bitrate_bps", "frames_decoded", "valid", "packets_sent", "packets_lost", "packets_not_sent",
        "channel_use_budget", "channel_uses_requested", "over_budget", "code"]


def flat_record(rec: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: identity, axis values, accounting and every metric."""
    cfg = rec.get("config", {})
    row = {
        "point_key": rec.get("point_key"), "scheme": rec.get("scheme"), "input": rec.get("input"),
        "frames": rec.get("frames"), "width": rec.get("width"), "height": rec.get("height"),
        "seed": rec.get("seed"), "channel": cfg.get("channel", rec.get("link", {}).get("channel")),
        "snr_db": cfg.get("snr_db"), "pdu_loss": cfg.get("pdu_loss"), "cbr_target": cfg.get("cbr"),
        "bitrate_target": cfg.get("bitrate"), "bandwidth_hz": cfg.get("bandwidth_hz"),
        "source_bits": rec.get("source_bits"), "channel_uses": rec.get("channel_uses"), "cbr": rec.get("cbr"),
        "bpp": rec.get("bpp"), "bitrate_bps": rec.get("bitrate_bps"), "frames_decoded": rec.get("frames_decoded"),
        "valid": rec.get("valid"), "packets_sent": rec.get("packets", {}).get("sent"),
        "packets_lost": rec.get("packets", {}).get("lost"),
        "packets_not_sent": rec.get("packets", {}).get("not_sent", 0),
        "channel_use_budget": rec.get("channel_use_budget"), "channel_uses_requested": rec.get("channel_uses_requested"),
        "over_budget": rec.get("over_budget"), "code": rec.get("provenance", {}).get("code"),
    }
    for k, v in sorted(rec.get("metrics", {}).items()):
        row[f"metric_{k}"] = v
    return row


def results_cmd(
    directory: Annotated[Path, typer.Argument(help="a sweep or demo output directory")],
    json_out: Annotated[bool, typer.Option("--json", help="a JSON list of result.json records")] = False,
    csv_out: Annotated[bool, typer.Option("--csv", help="one CSV row per record")] = False,
) -> None:
    """Print every stored result record of a sweep/demo directory."""
    from tokcom.errors import InputError
    from tokcom.experiments.store import ResultStore

    if json_out and csv_out:
        raise InputError("give --json or --csv, not both")
    with ResultStore(directory, create=False) as store:
        recs = [r for _, _, r in store.records()]
    if csv_out:
        rows = [flat_record(r) for r in recs]
        cols = FLAT + sorted({k for r in rows for k in r if k.startswith("metric_")})
        w = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    elif json_out:
        sys.stdout.write(json.dumps(recs, indent=2, allow_nan=False) + "\n")
    else:
        from rich.table import Table

        from tokcom.cli.app import console_out

        t = Table("scheme", "input", "channel", "snr dB", "cbr", "valid", "psnr", "lpips_alex")
        for r in recs:
            f = flat_record(r)
            t.add_row(str(f["scheme"]), Path(str(f["input"])).name, str(f["channel"]), _s(f["snr_db"]),
                      _s(f["cbr"]), str(f["valid"]), _s(f.get("metric_psnr")), _s(f.get("metric_lpips_alex")))
        console_out().print(t)


def _s(v: Any) -> str:
    return "–" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))


def report_cmd(directory: Annotated[Path, typer.Argument(help="a sweep or demo output directory")]) -> None:
    """(Re)build DIR/index.html from the stored results."""
    from tokcom.cli.app import console_err
    from tokcom.experiments.report import build_report

    index = build_report(directory)
    console_err().print(f"report: {index.resolve()}")
