"""TVC's typed reports and reporting hooks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokcom.reporting import Report
from tokcom.schemes.tvc.config import PAPER


@dataclass(frozen=True)
class GopTx(Report):
    """One GoP as sent: its token grids, both streams' sizes and the entropy models' estimates."""

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


@dataclass(frozen=True)
class TvcEncodeReport(Report):
    """The transmitter's view. ``trained`` is False for ``weights=random`` (an untrained model)."""

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
