"""The report's BD-CBR table (PVSC Table I style): every scheme against the baseline, per clip and condition.

    records ──► curves (scheme, clip @ condition) of (measured CBR, metric), valid in-budget points only
            ──► BD-CBR % against h265 (metrics.bdrate.bd_rate)      four or more points per curve
                or, where the quality ranges do not overlap, the bound the points imply (bd_rate_bound)
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcom.errors import TokcomError
from tokcom.experiments.records import BASELINE, CONDITION_AXES, axis, counts, varying
from tokcom.metrics.bdrate import BdBound, bd_rate, bd_rate_bound

MIN_POINTS = 4
"""Rate points per curve below which a cell is n/a (four, as in VCEG-M33)."""


@dataclass(frozen=True)
class BdCell:
    """One scheme's BD-CBR against the baseline on one clip and condition.

    Attributes:
        value: BD-CBR in percent (negative = fewer channel uses at equal quality); None = n/a.
        bound: where ``value`` is None because the curves' quality ranges do not overlap, what the points
            imply (``> +740 %``: the scheme needs more than 8.4× the baseline's CBR at its best quality).
        points: valid, in-budget rate points of the scheme's curve and of the baseline's.
    """

    value: float | None
    bound: BdBound | None = None
    points: tuple[int, int] = (0, 0)

    def __str__(self) -> str:
        if self.value is not None:
            return f"{self.value:.1f}"
        return f"n/a ({self.bound})" if self.bound is not None else "n/a"


@dataclass(frozen=True)
class BdCbrTable:
    """BD-CBR of every scheme against ``baseline`` (rows: scheme → column → cell; columns: clip @ condition)."""

    metric: str
    baseline: str
    columns: tuple[str, ...]
    rows: Mapping[str, Mapping[str, BdCell]]

    def average(self, scheme: str) -> float | None:
        """The mean of the scheme's BD-CBR values over the columns that have one (None: none has)."""
        vals = [c.value for c in self.rows[scheme].values() if c.value is not None]
        return sum(vals) / len(vals) if vals else None


def bd_cbr_table(recs: Sequence[dict[str, Any]], metric: str, baseline: str = BASELINE) -> BdCbrTable:
    """BD-CBR (%) of every scheme against ``baseline`` per input clip and condition.

    Curves are (measured cbr, metric) over the points that share scheme, input and condition; only valid
    points within their budget count. Where the two curves' quality ranges do not overlap, the cell is n/a with
    :func:`~tokcom.metrics.bdrate.bd_rate_bound`'s bound (any two points per curve imply it); otherwise it is
    n/a with fewer than :data:`MIN_POINTS` points on either curve or when the package cannot integrate them
    (non-monotone, duplicate qualities).
    """
    cond = varying(recs, CONDITION_AXES)
    ckey = cond[0] if cond else None

    def column(r: dict[str, Any]) -> str:
        name = Path(str(r.get("input", ""))).name
        return f"{name} @ {ckey}={axis(r, ckey):g}" if ckey else name

    curves: dict[tuple[str, str], list[tuple[float, float]]] = {}
    order: dict[str, tuple] = {}
    for r in recs:
        if counts(r) and metric in r.get("metrics", {}):
            curves.setdefault((r["scheme"], column(r)), []).append((r["cbr"], r["metrics"][metric]))
            order[column(r)] = (Path(str(r.get("input", ""))).name, axis(r, ckey) if ckey else 0)
    columns = tuple(sorted({c for _, c in curves}, key=lambda c: order[c]))
    rows: dict[str, dict[str, BdCell]] = {}
    for scheme in sorted({s for s, _ in curves} - {baseline}):
        rows[scheme] = {c: _cell(curves.get((baseline, c), []), curves.get((scheme, c), []), metric)
                        for c in columns}
    return BdCbrTable(metric, baseline, columns, rows)


def _cell(anchor: list[tuple[float, float]], test: list[tuple[float, float]], metric: str) -> BdCell:
    points = (len(test), len(anchor))
    if min(points) < 2:
        return BdCell(None, None, points)
    a = {"rate": [x for x, _ in anchor], "quality": [y for _, y in anchor]}
    t = {"rate": [x for x, _ in test], "quality": [y for _, y in test]}
    try:
        bound = bd_rate_bound(a, t, metric)  # a statement about points: it needs no four of them
        if bound is not None or min(points) < MIN_POINTS:
            return BdCell(None, bound, points)
        v = bd_rate(a, t, metric)
    except (ValueError, ArithmeticError, AssertionError, TokcomError):
        return BdCell(None, None, points)  # duplicate rates or a non-monotone curve: n/a
    return BdCell(None if math.isnan(v) else float(v), None, points)


def _average_text(t: BdCbrTable, scheme: str) -> str:
    avg = t.average(scheme)
    return "n/a" if avg is None else f"{avg:.1f}"


def bd_table_markdown(t: BdCbrTable) -> str:
    """The table as Markdown (the report's ``bdcbr.md``)."""
    head = "| scheme | " + " | ".join(t.columns) + " | average |\n|---|" + "---|" * (len(t.columns) + 1)
    title = (f"BD-CBR (%) on {t.metric} against {t.baseline} (negative = fewer channel uses); n/a (> +X %): the "
             "quality ranges do not overlap and the scheme needs more than (1 + X/100)× the baseline's CBR at its "
             "best quality")
    lines = [title, "", head]
    for s, row in t.rows.items():
        lines.append(f"| {s} | " + " | ".join(str(row[c]) for c in t.columns) + f" | {_average_text(t, s)} |")
    return "\n".join(lines) + "\n"


def bd_table_html(t: BdCbrTable) -> str:
    """The table as HTML (the report's BD-CBR section)."""
    if not t.rows:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = ""
    for s, row in t.rows.items():
        cells = "".join(f"<td>{html.escape(str(row[c]))}</td>" for c in t.columns)
        body += f'<tr><td class="l">{html.escape(s)}</td>{cells}<td>{_average_text(t, s)}</td></tr>'
    return (f"<p>BD-CBR (%) on <b>{html.escape(t.metric)}</b> against {html.escape(t.baseline)} "
            f"(negative = fewer channel uses for the same quality; valid, in-budget points only)</p>"
            f'<table><thead><tr><th class="l">scheme</th>{head}<th>average</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")
