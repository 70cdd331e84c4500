"""Reading stored ``result.json`` records for reports: their axes, their curves, which ones count.

A record is the dict of one run's ``result.json`` (docs/design/CLI.md); the report, the BD-CBR table and the
demo's summary group records by these helpers so that all of them agree on what a curve and a condition are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tokcom.registry import SCHEMES

PLOT_METRICS = ("psnr", "ssim", "ms_ssim", "lpips_alex", "lpips_vgg", "dists", "fvd", "clip_score")
CONDITION_AXES = ("snr_db", "pdu_loss", "csi_nmse_db")
RATE_AXES = ("cbr", "bitrate", "bandwidth_hz")
BASELINE = "h265"


def axis(rec: dict[str, Any], key: str) -> Any:
    """A record's value of a sweep axis (its run configuration's ``key``; None when absent)."""
    return rec.get("config", {}).get(key)


def varying(recs: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[str]:
    """The ``keys`` that take more than one value across ``recs``."""
    return [k for k in keys if len({axis(r, k) for r in recs if axis(r, k) is not None}) > 1]


def groups(recs: Sequence[dict[str, Any]], key_fn: Callable[[dict[str, Any]], Any]) -> dict[Any, list]:
    """``recs`` grouped by ``key_fn``, in first-seen order."""
    out: dict[Any, list] = {}
    for r in recs:
        out.setdefault(key_fn(r), []).append(r)
    return out


def metrics_present(recs: Sequence[dict[str, Any]]) -> list[str]:
    """The plotted metrics that some record measured, in :data:`PLOT_METRICS` order."""
    have = {m for r in recs for m in r.get("metrics", {})}
    return [m for m in PLOT_METRICS if m in have]


def counts(r: dict[str, Any]) -> bool:
    """A record that competes: valid (≥ 85 % of frames decoded) and within its channel-use budget."""
    return bool(r.get("valid")) and not r.get("over_budget", False)


def curve_label(r: dict[str, Any]) -> str:
    """The name of a record's curve: its scheme, plus what distinguishes its configuration (the scheme's
    :meth:`~tokcom.schemes.base.Scheme.curve_label`)."""
    try:
        return SCHEMES.get(r["scheme"]).curve_label(r)
    except Exception:  # noqa: BLE001 - a record of a scheme this tokcom does not have
        return str(r.get("scheme"))


def fmt_value(v: Any) -> str:
    """An axis value or metric as the report prints it (floats to 4 significant digits)."""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def numkey(values: tuple) -> tuple:
    """A sort key for tuples of axis values that may mix numbers, strings and None (None last)."""
    return tuple((v is None, v if isinstance(v, (int, float)) else 0, str(v)) for v in values)
