"""The report's "quality at the budget" table and its "who wins" sentence.

    records ──► rows (clip, condition, target rate) × curves (scheme / configuration)
            ──► each cell: the metric @ the CBR actually used, valid?, over budget?
            ──► the row's winner: the best metric among the runs that count (valid and within the budget)
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcom.experiments.records import (
    CONDITION_AXES,
    RATE_AXES,
    axis,
    counts,
    curve_label,
    fmt_value,
    groups,
    metrics_present,
    numkey,
    varying,
)
from tokcom.metrics.base import higher_is_better

WHO_WINS_ORDER = ("lpips_vgg", "dists", "lpips_alex", "psnr", "ssim")
"""The metric who wins is stated on: the first of these that was measured (perceptual ones first)."""


@dataclass(frozen=True)
class QualityCell:
    """One run's entry: ``value`` the metric (None: not measured), ``cbr`` the CBR it used; ``counts``: the run
    competes (:func:`tokcom.experiments.records.counts`: valid and within its budget)."""

    value: float | None
    cbr: float | None
    valid: bool
    over_budget: bool
    counts: bool

    def value_text(self) -> str:
        return "–" if self.value is None else f"{self.value:.4g}"

    def cbr_text(self) -> str:
        return "–" if self.cbr is None else f"{self.cbr:.3g}"

    def marks(self) -> str:
        """`` ✗`` (invalid) and `` ⚠`` (over budget)."""
        return ("" if self.valid else " ✗") + (" ⚠" if self.over_budget else "")


@dataclass(frozen=True)
class QualityRow:
    """One setting: ``key`` maps ``input`` and each axis to its value; ``cells`` maps a curve to its run."""

    key: Mapping[str, Any]
    cells: Mapping[str, QualityCell]
    winner: str | None


@dataclass(frozen=True)
class QualityTable:
    """The table for one metric: ``axes`` (condition axes, then the rate axis), the curves, the rows."""

    metric: str
    axes: tuple[str, ...]
    curves: tuple[str, ...]
    rows: tuple[QualityRow, ...]

    def tally(self) -> dict[str, int]:
        """Settings won per curve."""
        out: dict[str, int] = {}
        for row in self.rows:
            if row.winner is not None:
                out[row.winner] = out.get(row.winner, 0) + 1
        return out


def primary_metric(recs: Sequence[dict[str, Any]]) -> str | None:
    """The metric the "who wins" summary is stated on: a perceptual one when measured, else PSNR."""
    have = metrics_present(recs)
    for m in WHO_WINS_ORDER:
        if m in have:
            return m
    return have[0] if have else None


def quality_at_budget(recs: Sequence[dict[str, Any]], metric: str) -> QualityTable:
    """The "quality at the budget" table of result records: one row per (input, condition, target rate), one
    cell per curve; the row's winner is the best metric among the runs that count (None when none does)."""
    cond = varying(recs, CONDITION_AXES) or [k for k in CONDITION_AXES if any(axis(r, k) is not None
                                                                               for r in recs)][:1]
    rate = [k for k in RATE_AXES if any(axis(r, k) is not None for r in recs)][:1]
    axes = tuple(cond + rate)
    pick = max if higher_is_better(metric) else min
    rows = []
    grouped = groups(recs, lambda r: (Path(str(r.get("input", ""))).name, *(axis(r, k) for k in axes)))
    for key, grp in sorted(grouped.items(), key=lambda kv: (kv[0][0], numkey(kv[0][1:]))):
        cells = {curve_label(r): QualityCell(value=r.get("metrics", {}).get(metric), cbr=r.get("cbr"),
                                             valid=bool(r.get("valid")),
                                             over_budget=bool(r.get("over_budget", False)), counts=counts(r))
                 for r in grp}
        ok = {c: d.value for c, d in cells.items() if d.counts and d.value is not None}
        winner = pick(ok, key=lambda c: ok[c]) if ok else None
        rows.append(QualityRow(key=dict(zip(["input", *axes], key)), cells=cells, winner=winner))
    return QualityTable(metric=metric, axes=axes, curves=tuple(sorted({curve_label(r) for r in recs})),
                        rows=tuple(rows))


def winners_sentence(t: QualityTable) -> str:
    """``On lpips_vgg (lower is better), h265 (best MCS) wins 10 of 16 settings, tokencom 4; no scheme is valid
    within the budget in 2.``"""
    n = len(t.rows)
    if not n:
        return ""
    tally = t.tally()
    parts = [f"{c} wins {k} of {n} settings" if i == 0 else f"{c} {k}"
             for i, (c, k) in enumerate(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))]
    none = n - sum(tally.values())
    direction = "higher" if higher_is_better(t.metric) else "lower"
    s = f"On {t.metric} ({direction} is better), " + (", ".join(parts) if parts else "no scheme wins any setting")
    if none:
        s += f"; no scheme is valid within the budget in {none}"
    return s + "."


def quality_table_html(t: QualityTable) -> str:
    """The table as HTML: value · CBR used, ✗ invalid, ⚠ over budget, bold winner."""
    if not t.rows:
        return ""
    head = "".join(f'<th class="l">{html.escape(a)}</th>' for a in ["input", *t.axes])
    head += "".join(f"<th>{html.escape(c)}</th>" for c in t.curves)
    body = ""
    for row in t.rows:
        cells = "".join(f'<td class="l">{html.escape(fmt_value(row.key[a]))}</td>' for a in ["input", *t.axes])
        for c in t.curves:
            d = row.cells.get(c)
            if d is None:
                cells += "<td>–</td>"
                continue
            txt = f"{d.value_text()} <small>@ {d.cbr_text()}</small>{d.marks()}"
            cells += f'<td class="{"bad" if d.marks() else ""}">' + (f"<b>{txt}</b>" if row.winner == c else txt) \
                + "</td>"
        body += f"<tr>{cells}</tr>"
    return (f"<p>Quality at the budget on <b>{html.escape(t.metric)}</b>: each cell is the metric @ the CBR "
            "actually used; ✗ invalid (fewer than 85 % of frames decoded), ⚠ over budget (data left unsent); "
            "bold: the best run that is valid and within its budget.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def quality_table_markdown(t: QualityTable) -> str:
    """The table as Markdown (the report's ``quality.md``)."""
    head = "| input | " + " | ".join(t.axes) + " | " + " | ".join(t.curves) + " |\n"
    head += "|---|" + "---|" * (len(t.axes) + len(t.curves)) + "\n"
    lines = []
    for row in t.rows:
        cells = [str(row.key["input"])] + [fmt_value(row.key[a]) for a in t.axes]
        for c in t.curves:
            d = row.cells.get(c)
            if d is None:
                cells.append("–")
                continue
            txt = f"{d.value_text()} @ {d.cbr_text()}{d.marks()}"
            cells.append(f"**{txt}**" if row.winner == c else txt)
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"
