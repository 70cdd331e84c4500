"""Typed reports: what the stages say about a run, as frozen dataclasses with ``to_dict()``.

Reports cross stage boundaries (``Transmission.report``, ``Reception.report``, ``Decoded.report``) and end up
in ``result.json`` as plain JSON. Each stage declares its own report dataclass (subclassing :class:`Report`);
the JSON shape is whatever ``to_dict()`` gives, so the ``result.json`` contract is the dataclass' fields.

``to_dict()`` converts recursively: nested reports and anything with a ``to_dict()`` (e.g. ``Mcs``), numpy
scalars and arrays, tuples and mappings. Fields whose value is :data:`OMIT` are left out (a section a scheme
did not fill). Non-finite floats become ``None`` (JSON has no NaN).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np


class _Omit:
    """Marker for a report field that is left out of ``to_dict()``."""

    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"

    def __bool__(self) -> bool:
        return False


OMIT: Any = _Omit()


def jsonable(x: Any) -> Any:
    """Plain JSON types: reports, dataclasses and objects with ``to_dict()`` expand; numpy becomes Python;
    non-finite floats become None."""
    if isinstance(x, Report):
        return x.to_dict()
    if hasattr(x, "to_dict") and callable(x.to_dict) and not isinstance(x, type):
        return jsonable(x.to_dict())
    if is_dataclass(x) and not isinstance(x, type):
        return {f.name: jsonable(getattr(x, f.name)) for f in fields(x) if getattr(x, f.name) is not OMIT}
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items() if v is not OMIT}
    if isinstance(x, (list, tuple, set, frozenset)):
        vals = sorted(x) if isinstance(x, (set, frozenset)) else x
        return [jsonable(v) for v in vals]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


@dataclass(frozen=True)
class Report:
    """Base of every stage report (frozen dataclass; subclasses add fields)."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not OMIT}


def as_dict(report: Report | Mapping[str, Any] | None) -> dict[str, Any]:
    """A report as a plain dict (a typed :class:`Report`, or a mapping from a user's scheme)."""
    if report is None:
        return {}
    if isinstance(report, Report):
        return report.to_dict()
    if isinstance(report, Mapping):
        return jsonable(report)
    raise TypeError(f"a report must be a tokcom.reporting.Report or a mapping; got {type(report).__name__}")


def merge_dicts(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """``a`` updated by ``b``; nested mappings merge key-wise (the encoder's report, then the decoder's)."""
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge_dicts(out[k], v)
        else:
            out[k] = v
    return out


def per_run_table(records: Sequence[Mapping[str, Any]], heading: str, columns: Sequence[tuple[str, Any]],
                  intro: str = "", limit: int = 200) -> str:
    """An HTML table with one row per run that has a per-GOP plan (``scheme_report.gops``): the clip, the
    condition (SNR, CBR), one cell per ``(header, cell(scheme_report) → str)`` column and whether the model
    was trained. "" when no run has a plan. Used by the learned schemes' report hooks."""
    rows = []
    for r in records:
        sr = r.get("scheme_report", {})
        if "gops" not in sr:
            continue
        cfg = r.get("config", {})
        cond = ", ".join(f"{k} {cfg[k]:g}" for k in ("snr_db", "cbr") if isinstance(cfg.get(k), (int, float)))
        cells = [Path(str(r.get("input", ""))).name, cond, *(str(cell(sr)) for _, cell in columns)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                    + f"<td>{'yes' if sr.get('trained') else 'no'}</td></tr>")
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("clip", "condition", *(h for h, _ in columns), "trained"))
    return f"<h2>{heading}</h2>{intro}<table><tr>{head}</tr>" + "".join(rows[:limit]) + "</table>"
