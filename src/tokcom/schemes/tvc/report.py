"""TVC's typed reports and reporting hooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcom.reporting import Report, per_run_table
from tokcom.schemes.tvc.config import PAPER


@dataclass(frozen=True)
class GopTx(Report):
    """One GoP as sent: its operating point, token grids, both streams' sizes and the entropy models'
    estimates. ``sent`` False: nothing of the ladder fit ``budget_share`` (the GoP was not sent)."""

    gop: int
    first_frame: int
    frames: int
    grid: tuple[int, int, int]
    c_grid: tuple[int, int]
    visible_tokens: int
    c_bits: int
    c_bits_estimate: float
    d_bits: int
    d_bits_estimate: float | None
    quant_step: float | None = None
    mask_rate: float | None = None
    channel_uses: int = 0
    budget_share: int | None = None
    candidates_tried: int = 1
    sent: bool = True


@dataclass(frozen=True)
class TvcEncodeReport(Report):
    """The transmitter's view. ``trained`` is False for ``weights=random`` (an untrained model).
    ``mask_rate`` / ``n_visible`` / ``quant_step`` are the configured point; with ``rate_control = ladder`` each
    GoP's own is in ``gops``."""

    model: str
    weights: str
    weights_sha256: str
    trained: bool
    params: int
    gop: int
    mask_rate: float  # eq. (1): the effective rate 1 − n_visible / interval
    n_visible: int
    mask_interval: int
    quant_step: float
    code_map: bool
    source_bits: int
    c_bits: int
    d_bits: int
    bits_estimate: float
    gops: tuple[GopTx, ...]
    rate_control: str = "fixed"
    channel_use_budget: int | None = None
    paper: str = PAPER


@dataclass(frozen=True)
class GopRx(Report):
    """What the receiver made of one GoP. ``status``: ``ok`` (both streams); ``continuous_only`` (the discrete
    PDU lost or damaged: every token predicted from ŷ^C); ``lost`` (no valid continuous PDU: the last frame
    repeated)."""

    gop: int
    status: str
    visible_tokens: int = 0


@dataclass(frozen=True)
class TvcDecodeReport(Report):
    pdus_unparsed: int
    pdus_foreign: int
    gops_rx: tuple[GopRx, ...]
    frame_decoded: tuple[bool, ...]


def summary(record: Mapping[str, Any]) -> str:
    sr = record.get("scheme_report", {})
    if "mask_rate" not in sr:
        return "–"
    if sr.get("rate_control") == "ladder":
        pts = sorted({(g.get("quant_step"), g.get("mask_rate")) for g in sr.get("gops", ()) if g.get("sent", True)})
        pts_s = ", ".join(f"Δ {q:g}/mask {r:.2f}" for q, r in pts if q is not None and r is not None) or "none sent"
        return f"ladder: {pts_s} · GoP {sr.get('gop')}"
    return f"mask {sr['mask_rate']:.2f} · Δ {sr.get('quant_step')} · GoP {sr.get('gop')}"


def curve_label(record: Mapping[str, Any]) -> str:
    cfg = record.get("config", {}).get("scheme", {})
    sr = record.get("scheme_report", {})
    label = f"tvc ({cfg.get('model', 'small')}"
    for k, word in (("code_map", "raw indices"), ("cross_attention", "no cross-attn"),
                    ("spatiotemporal", "no s-t"), ("fusion", "no fusion")):
        if cfg.get(k) is False:
            label += f", {word}"
    if sr.get("trained") is False:
        label += ", untrained"
    return label + ")"


def describe(record: Mapping[str, Any]) -> str:
    cfg = record.get("config", {}).get("scheme", {})
    sr = record.get("scheme_report", {})
    w = sr.get("weights") or cfg.get("weights")
    trained = "" if sr.get("trained", True) else " (untrained: random initialisation)"
    rc = ("rate control per GoP (the best (Δ, mask rate) of the ladder that fits the budget)"
          if sr.get("rate_control") == "ladder" else
          f"fixed point Δ {sr.get('quant_step', cfg.get('quant_step'))}, mask rate {sr.get('mask_rate', '?')}")
    abl = [word for k, word in (("code_map", "raw indices"), ("cross_attention", "no cross-attention"),
                                ("spatiotemporal", "no spatio-temporal modelling"), ("fusion", "no fusion"))
           if cfg.get(k) is False]
    return (f"TVC {cfg.get('model', 'small')} model, weights {w}{trained}; GoP {cfg.get('gop')} frames; {rc}; "
            f"{cfg.get('predict_steps')} prediction rounds; both streams as PDUs with the link's MCS"
            + (f"; ablation: {', '.join(abl)}" if abl else ""))


def _point(g: Mapping[str, Any]) -> str:
    if not g.get("sent", True):
        return "✗"
    q, r = g.get("quant_step"), g.get("mask_rate")
    return "?" if q is None or r is None else f"Δ{q:g}/m{r:.2f}"


def report_sections(records: Sequence[Mapping[str, Any]], out_dir: Path) -> str:
    """A table of the operating point rate control chose per GoP and what the receiver made of it."""
    return per_run_table(records, "TVC operating point per GoP", (
        ("point per GoP", lambda sr: " ".join(_point(g) for g in sr.get("gops", []))),
        ("receiver per GoP", lambda sr: " ".join(str(g.get("status", "?")) for g in sr.get("gops_rx", [])))),
        intro="<p>Δ: the continuous stream's quantisation step; m: the discrete stream's mask rate (eq. 1; 1.00 = "
              "no discrete PDU, every token predicted); ✗: nothing fit, not sent. Receiver: ok (both streams), "
              "continuous_only (every token predicted from ŷ^C), lost (last frame repeated).</p>")
