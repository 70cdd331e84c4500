"""What a run leaves besides weights: the JSONL log, the loss plot, the run record, live progress.

::

    RUN/train.log     one JSON object per line: loss records {"step", "stage", "loss", <terms>, "lr",
                      "s_per_step", "samples_per_s", "elapsed_s"} (only these carry "step"), and events
                      {"event": "start" | "stage" | "checkpoint" | "stop" | "done", ...}
    RUN/loss.png      the logged terms against the step (matplotlib Agg), at each checkpoint and at the end
    RUN/record.json   the raw material of a model card: model, architecture, recipe, data, steps, hours,
                      hardware, final losses, lineage (init_from), how the run ended

Only rank 0 writes any of them.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

LOG_FILE = "train.log"
PLOT_FILE = "loss.png"
RECORD_FILE = "record.json"


def hardware(device: torch.device | str, threads: int, world_size: int = 1) -> str:
    """One line naming the accelerator or CPU the run used."""
    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        name = torch.cuda.get_device_name(dev.index or 0)
        return f"{world_size} × {name}" if world_size > 1 else name
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    procs = f"{world_size} processes × " if world_size > 1 else ""
    return f"CPU {cpu}, {procs}{threads} torch thread(s), {os.cpu_count()} logical cores (shared)"


class RunLog:
    """Appends JSON lines to ``RUN/train.log`` (a no-op on ranks other than 0)."""

    def __init__(self, out: Path, enabled: bool = True) -> None:
        self.path = out / LOG_FILE
        self.enabled = enabled

    def write(self, rec: dict[str, Any]) -> None:
        if self.enabled:
            with open(self.path, "a") as f:
                f.write(json.dumps(rec, default=float) + "\n")

    def records(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out


_SKIP = {"step", "stage", "lr", "s_per_step", "samples_per_s", "elapsed_s", "psnr_train"}


def plot_losses(log: RunLog, png: Path, title: str = "") -> Path | None:
    """Plot every logged term (log scale where all positive) against the step; None without matplotlib
    or without loss records."""
    recs = [r for r in log.records() if "step" in r]
    if not recs:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = sorted({k for r in recs for k, v in r.items() if k not in _SKIP and isinstance(v, (int, float))})
    names = ["loss", *[n for n in names if n != "loss"]][:10]
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    positive = True
    for i, n in enumerate(names):
        pts = [(r["step"], r[n]) for r in recs if isinstance(r.get(n), (int, float))]
        if pts:
            xs, ys = zip(*pts)
            positive &= min(ys) > 0
            ax.plot(xs, ys, "-", lw=1.6 if n == "loss" else 1.0, color=f"C{i % 10}", label=n)
    if positive:
        ax.set_yscale("log")
    for r in log.records():
        if r.get("event") == "stage" and r.get("at", 0) > 0:
            ax.axvline(r["at"], color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("step")
    ax.set_ylabel("loss term")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    tmp = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, png)
    return png


def write_record(out: Path, record: dict[str, Any]) -> Path:
    p = out / RECORD_FILE
    tmp = out / (RECORD_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
    os.replace(tmp, p)
    return p


class Progress:
    """A rich progress bar on stderr: only on rank 0, and only when stderr is a terminal."""

    def __init__(self, total: int, start: int, enabled: bool, title: str = "train") -> None:
        self._bar = None
        self._last = 0.0
        if not enabled or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                                 console=Console(stderr=True), transient=False)
        self._task = self._bar.add_task(title, total=max(total, 1), completed=start, info="")
        self._bar.start()

    def update(self, step: int, info: str = "", description: str | None = None) -> None:
        if self._bar is None:
            return
        now = time.time()
        if now - self._last < 0.2 and not info:
            return
        self._last = now
        kw: dict[str, Any] = {"completed": step}
        if info:
            kw["info"] = info
        if description:
            kw["description"] = description
        self._bar.update(self._task, **kw)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
