"""PVSC's typed reports and its reporting hooks (summary, curve label, description, report section)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcom.reporting import Report, per_run_table
from tokcom.types import Mcs

PAPER = "002_165f6aebfafa3581.txt"


@dataclass(frozen=True)
class GopPlan(Report):
    """Rate control's choice for one GOP (``candidate`` None: nothing fitted, the GOP was not sent)."""

    gop: int
    first_frame: int
    frames: int
    sent: bool
    candidate: str | None
    quality: float | None  # a preset (int) or a quality between two
    eta_scale: float | None
    p_frames_sent: bool | None
    channel_uses: int
    budget_share: int | None
    candidates_tried: int
    highest_fitting: str | None = None  # the highest rung that fitted (≠ candidate: rate_choice=received went lower)
    expected_loss: float | None = None  # the chosen rung's simulated received eq. (27) loss (rate_choice=received)


@dataclass(frozen=True)
class FrameTx(Report):
    """One frame as sent: its streams' sizes and the rate map's statistics."""

    frame: int
    kind: str  # "I" or "P"
    gop: int
    sent: bool
    quality: float | None = None
    symbols: int = 0
    side_bits: int = 0
    z_bits: int = 0
    k_bits: int = 0
    k_mean: float | None = None
    ktilde_mean: float | None = None
    channel_uses: int = 0


@dataclass(frozen=True)
class PvscEncodeReport(Report):
    """The transmitter's view. ``trained`` is False for ``weights=random`` (an untrained model: its numbers
    say nothing about PVSC's quality)."""

    model: str
    weights: str
    weights_sha256: str
    trained: bool
    params: int
    rate_set: tuple[int, ...]
    eta: float
    gop: int
    carriage: str  # "analog" (symbols over the channel) | "digital" (quantised symbols in PDUs: erasure link)
    rate_control: str  # "budget" | "fixed" | "highest"
    side_mcs: Mcs | None
    rate_map_codec: str
    channel_use_budget: int | None
    channel_uses_planned: int
    symbols: int
    side_bits: int
    source_bits: int
    qualities: tuple[float | None, ...]
    gops: tuple[GopPlan, ...]
    frames_tx: tuple[FrameTx, ...]
    rate_choice: str = "fit"  # "fit" (the highest rung that fits) | "received" (by simulated reception)
    ladder: str = "eta"  # rate control's candidates: "eta" | "quality" (ratecontrol.ladder) | "fixed" (a quality)
    choice_loss: str | None = None  # the loss rate_choice=received minimises, e.g. "l1+0.8·lpips-alex"
    paper: str = PAPER


@dataclass(frozen=True)
class FrameRx(Report):
    """What the receiver made of one frame. ``status``: ``ok``; ``symbols_missing`` (decoded, but some or all
    of its symbols were not received: zeros); ``side_lost`` (no valid side PDU: the last frame repeated);
    ``side_invalid`` (a side PDU with a good CRC that does not describe this frame: repeated);
    ``frozen`` (the reference buffer was lost earlier in the GOP: repeated)."""

    frame: int
    status: str
    quality: float | None = None
    symbols: int | None = None
    symbols_missing: int | None = None


@dataclass(frozen=True)
class PvscDecodeReport(Report):
    side_pdus_ok: int
    pdus_unparsed: int
    side_invalid: int
    symbols_received: int
    symbols_sanitized: int
    buffer_resets: int
    frames_rx: tuple[FrameRx, ...]
    frame_decoded: tuple[bool, ...]


# --------------------------------------------------------------------------------------------- hooks
def summary(record: Mapping[str, Any]) -> str:
    sr = record.get("scheme_report", {})
    qs = [q for q in sr.get("qualities") or [] if q is not None]
    if not qs:
        return "nothing sent" if sr.get("gops") else "–"
    qtxt = ",".join(f"{q:g}" for q in sorted(set(qs), reverse=True))
    carriage = "" if sr.get("carriage", "analog") == "analog" else f", {sr.get('carriage')}"
    return f"quality {qtxt} · GOP {sr.get('gop')}{carriage}"


def curve_label(record: Mapping[str, Any]) -> str:
    cfg = record.get("config", {}).get("scheme", {})
    sr = record.get("scheme_report", {})
    label = f"pvsc ({cfg.get('model', 'small')}"
    if sr.get("trained") is False or cfg.get("weights") == "random":
        label += ", untrained"
    if cfg.get("quality") is not None:
        label += f", q{cfg.get('quality')}"
    if cfg.get("gop") not in (None, 8):
        label += f", GOP {cfg.get('gop')}"
    return label + ")"


def describe(record: Mapping[str, Any]) -> str:
    cfg = record.get("config", {}).get("scheme", {})
    sr = record.get("scheme_report", {})
    w = sr.get("weights") or cfg.get("weights")
    trained = "" if sr.get("trained", True) else " (untrained: random initialisation)"
    rc = {"budget": f"rate control per GOP (highest rung that fits the budget on the {sr.get('ladder', 'quality')} "
                    "ladder)",
          "fixed": f"fixed quality {cfg.get('quality')}", "highest": "highest preset (no budget)"}.get(
        sr.get("rate_control", ""), "rate control")
    if sr.get("rate_choice") == "received" and sr.get("rate_control") != "fixed":
        rc += (f", lowered where the transmitter's simulated reception at the link SNR ({sr.get('choice_loss')}) "
               "is better on a cheaper rung")
    return (f"PVSC {cfg.get('model', 'small')} model, weights {w}{trained}; GOP {cfg.get('gop')} (I-frame intra "
            f"codec, P-frames with temporal contexts); {rc}; η {sr.get('eta', cfg.get('eta'))}; rate map "
            f"{cfg.get('rate_map_codec')}; side information with the {cfg.get('side_mcs')} MCS; "
            f"{sr.get('carriage', 'analog')} symbols")


MAX_FIGURES = 8


def rate_map_figures(records: Sequence[Mapping[str, Any]], out_dir: Path) -> str:
    """The rate maps k_t (eq. 14) of up to :data:`MAX_FIGURES` runs — per clip, each rate target at the SNR
    nearest 6 dB — as HTML figures (the PNGs the runner wrote as the record's ``rate_maps`` artifact)."""
    best: dict[tuple, Mapping[str, Any]] = {}
    for r in records:
        src = (r.get("artifacts") or {}).get("rate_maps")
        if not src or not (out_dir / src).is_file():
            continue
        cfg = r.get("config", {})
        key = (str(r.get("input", "")), cfg.get("cbr"), cfg.get("bandwidth_hz"))
        snr = cfg.get("snr_db")
        dist = abs(float(snr) - 6.0) if isinstance(snr, (int, float)) else 1e9
        old = best.get(key)
        if old is None or dist < old["_dist"]:
            best[key] = {**r, "_dist": dist}
    figs = []
    for (clip, cbr, bw), r in sorted(best.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), str(kv[0][2])))[:MAX_FIGURES]:
        cfg = r.get("config", {})
        cond = ", ".join(f"{k} {cfg[k]:g}" for k in ("snr_db", "cbr", "bandwidth_hz")
                         if isinstance(cfg.get(k), (int, float)))
        cap = f"{Path(clip).name} · {cond} · {summary(r)}"
        src = r["artifacts"]["rate_maps"]
        figs.append(f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}" style="max-width:100%">'
                    f"<figcaption>{html.escape(cap)}</figcaption></figure>")
    if not figs:
        return ""
    return ("<h2>PVSC rate maps</h2><p>Symbols per spatial unit k<sub>t</sub> (eq. 14, 16 × 16 pixels per unit; "
            "blue 0 … red the rate set's maximum) of the frames that were sent, at the quality rate control "
            "chose.</p>" + "".join(figs))


def report_sections(records: Sequence[Mapping[str, Any]], out_dir: Path) -> str:
    """The rate-map pictures and a table of the presets rate control chose per GOP, one row per run."""
    return rate_map_figures(records, out_dir) + per_run_table(records, "PVSC rate control per GOP (quality q, a preset or between two)", (
        ("candidate per GOP (✗: not sent)", lambda sr: " ".join(g.get("candidate") or "✗" for g in sr.get("gops", []))),))
