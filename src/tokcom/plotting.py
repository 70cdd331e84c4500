"""Figures for reports: one line plot (matplotlib, Agg), written as PNG and SVG.

Used by the sweep report (:mod:`tokcom.experiments.report`) and by schemes' report sections; nothing here
knows about either.
"""

from __future__ import annotations

from pathlib import Path


def line_plot(path_stem: Path, series: dict[str, list[tuple[float, float, bool]]], xlabel: str, ylabel: str,
              title: str, logx: bool = False) -> list[str]:
    """One line per series of ``(x, y, filled)`` points (hollow markers where ``filled`` is False: invalid or
    over-budget runs, lost frames). Writes ``<stem>.png`` and ``<stem>.svg``; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=110)
    for i, (name, pts) in enumerate(sorted(series.items())):
        pts = sorted(pts)
        xs, ys, _ok = zip(*pts)
        color = f"C{i % 10}"
        ax.plot(xs, ys, "-", color=color, label=name, lw=1.5)
        ax.scatter([x for x, _, v in pts if v], [y for _, y, v in pts if v], color=color, s=22, zorder=3)
        ax.scatter([x for x, _, v in pts if not v], [y for _, y, v in pts if not v], facecolors="white",
                   edgecolors=color, s=22, zorder=3)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    names = []
    safe = path_stem.name.replace(".", "p").replace("-", "m")  # "pdu_loss0.2" must not become a suffix
    for ext in ("png", "svg"):
        fig.savefig(path_stem.parent / f"{safe}.{ext}", metadata={"Date": None} if ext == "svg" else {"Software": None})
        names.append(f"{safe}.{ext}")
    plt.close(fig)
    return names
