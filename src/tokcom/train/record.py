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


def _smooth(ys: list[float], n: int) -> list[float]:
    """Trailing moving average over ``n`` records (``n`` ≤ 1: unchanged)."""
    if n <= 1:
        return list(ys)
    out, acc = [], 0.0
    for i, y in enumerate(ys):
        acc += y
        if i >= n:
            acc -= ys[i - n]
        out.append(acc / min(i + 1, n))
    return out


def plot_losses(log: RunLog, png: Path, title: str = "") -> Path | None:
    """The run's curves against the step, in up to three panels: the total loss and the weighted terms of
    the stages (log scale), the PSNR logs (dB), and the other logged quantities (rates, bits, the
    discriminator; log scale where positive). Raw records are drawn faintly, a moving average over them
    boldly; dashed lines mark stage changes. None without matplotlib or without loss records."""
    recs = [r for r in log.records() if "step" in r]
    if not recs:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    events = [r for r in log.records() if r.get("event") == "stage"]
    weighted = {"loss"} | {k for r in events for k in (r.get("losses") or {})}
    names = sorted({k for r in recs for k, v in r.items() if k not in _SKIP and isinstance(v, (int, float))})
    groups = [("loss terms", [n for n in names if n in weighted]),
              ("PSNR dB", [n for n in names if n.startswith("psnr")]),
              ("other logs", [n for n in names if n not in weighted and not n.startswith("psnr")])]
    groups = [(t, ns[:10]) for t, ns in groups if ns]
    window = max(1, len(recs) // 60)
    fig, axes = plt.subplots(len(groups), 1, figsize=(6.4, 2.6 * len(groups) + 0.4), dpi=100, sharex=True,
                             squeeze=False)
    for ax, (label, ns) in zip(axes[:, 0], groups):
        positive = label != "PSNR dB"
        for i, n in enumerate(sorted(ns, key=lambda x: (x != "loss", x))):
            pts = [(r["step"], float(r[n])) for r in recs if isinstance(r.get(n), (int, float))]
            if not pts:
                continue
            xs, ys = zip(*pts)
            positive &= min(ys) > 0
            ax.plot(xs, ys, "-", lw=0.5, alpha=0.25, color=f"C{i % 10}")
            ax.plot(xs, _smooth(list(ys), window), "-", lw=1.8 if n == "loss" else 1.1, color=f"C{i % 10}", label=n)
        if positive:
            ax.set_yscale("log")
        for r in events:
            if r.get("at", 0) > 0:
                ax.axvline(r["at"], color="0.6", lw=0.8, ls="--")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, ncol=3, loc="upper right")
    axes[-1, 0].set_xlabel("step")
    axes[0, 0].set_title(title + (f" (bold: mean of {window} records)" if window > 1 else ""), fontsize=9)
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
