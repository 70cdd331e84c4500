"""TokenCom's typed reports and its sections of a sweep report (intent pictures, Table III-style UEP table)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokcom.reporting import Report
from tokcom.types import Mcs


@dataclass(frozen=True)
class CandidateReport(Report):
    bits: int
    modulation: str
    coderate: float
    bler: float
    resource_per_token: float


@dataclass(frozen=True)
class ClassTx(Report):
    """One token class as sent: its MCS, bit precision, tokens and PDUs."""

    modulation: str
    coderate: float
    num_bits_per_symbol: int
    bits_per_token: int
    tokens: int
    pdus_sent: int
    predicted_bler: float
    resource_per_token: float


@dataclass(frozen=True)
class ClassRx(Report):
    pdus_received: int
    pdus_lost: int | None


@dataclass(frozen=True)
class SideInfoReport(Report):
    bits: int
    pdus: int
    mcs: Mcs
    overhead_ratio: float
    eq33_ratio: float
    eq33_bits: int


@dataclass(frozen=True)
class UepReport(Report):
    """Alg. 3's problem and choice: budget, resources, the MILP's status and the candidates per class."""

    status: str
    objective: float | None
    solve_ms: float
    resource_budget: float | None  # None: no rate target (R_max = ∞)
    resource_side: float
    resource_tokens: float
    delay_s: float | None
    distortion: float
    bandwidth_hz: float | None
    bler_limits: tuple[float, float]
    candidates_extended: dict[str, bool]
    candidates: dict[str, tuple[CandidateReport, ...]]
    overhead: float
    eta: float
    tokens_per_pdu: int
    resource_exact: bool = True


@dataclass(frozen=True)
class TokenComEncodeReport(Report):
    tokenizer: str
    tokenizer_factors: tuple[int, int]
    tokenizer_switching: tuple[dict[str, str], ...] | None
    latent_shape: tuple[int, int, int]
    intent: Mapping[str, Any]
    intent_mode: str
    rho: float
    rho_s: float
    rho_s_intent: float
    mask_agreement: float
    b_full: int
    b_delta: int
    n_tokens: dict[str, int]
    bpp_tokencom: float
    bpp_tokens: float
    class_config: dict[str, ClassTx]
    source_bitrate_bps: float
    side_info: SideInfoReport
    uep: UepReport


@dataclass(frozen=True)
class TokenComDecodeReport(Report):
    """The receiver's view; ``frame_decoded`` is TokenCom's own notion (a token frame with ≥
    ``decoded_fraction`` of its tokens), ``result.json`` ``frames_decoded`` follows tokcom's one rule."""

    class_config: dict[str, ClassRx]
    side_info_received: bool
    side_fragments_failed: int
    pdus_crc_failed: int
    tokens_delivered_fraction: float
    token_frames_delivered: tuple[float, ...]
    ref_tokens_lost: int
    frame_decoded: tuple[bool, ...] = field(default=())


# ------------------------------------------------------------------------------------------- sweep report
def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "–" if v is None else html.escape(str(v))


def summary(record: Mapping[str, Any]) -> str:
    """``int QPSK 0.5 / non 16QAM 0.5`` from a stored record."""
    cc = record.get("scheme_report", {}).get("class_config", {})
    i, n = cc.get("intended", {}), cc.get("non_intended", {})
    if "modulation" not in i:
        return "–"
    return (f"int {i['modulation']} {float(i.get('coderate', 0)):.2g} / "
            f"non {n.get('modulation', '')} {float(n.get('coderate', 0)):.2g}")


def describe(record: Mapping[str, Any]) -> str:
    """How a stored TokenCom record was configured (tokenizers, intent, UEP sets)."""
    c = record.get("config", {}).get("scheme", {})
    sr = record.get("scheme_report", {})
    intent = sr.get("intent", {})
    what = intent.get("text") or intent.get("box") or intent.get("path") or ""
    tok = str(c.get("tokenizer", "?")) + (f" (falls back to {c.get('fallback_tokenizers')} when the budget cannot carry "
                                f"it, §III-B)" if c.get("fallback_tokenizers") else "")
    return (f"{tok}; intent: {intent.get('source', '?')} {what} ({c.get('intent_mode')}); UEP MILP over "
            f"{c.get('mcs_intended')} × {c.get('mcs_non_intended')} and B_Δ ∈ {c.get('b_delta_set')}; when even "
            f"the cheapest plan exceeds the budget, non-intended PDUs stay unsent first, then intended ones")


def uep_table(recs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """TokenCom's per-SNR choices (000_cfad1eb21f67e2e2.txt Table III): one row per tokencom record."""
    rows = []
    for r in recs:
        if r.get("scheme") != "tokencom":
            continue
        sr = r.get("scheme_report", {})
        cc = sr.get("class_config", {})
        i, n = cc.get("intended", {}), cc.get("non_intended", {})
        cfg = r.get("config", {})
        rows.append({
            "input": Path(str(r.get("input", ""))).name, "snr_db": cfg.get("snr_db"),
            "bandwidth_hz": cfg.get("bandwidth_hz"), "cbr_target": cfg.get("cbr"), "cbr": r.get("cbr"),
            "mod_int": i.get("modulation"), "r_int": i.get("coderate"), "mod_non": n.get("modulation"),
            "r_non": n.get("coderate"), "b_delta": sr.get("b_delta"), "rho_s": sr.get("rho_s"),
            "source_kbps": (sr.get("source_bitrate_bps") or 0) / 1e3, "psnr": r.get("metrics", {}).get("psnr"),
            "psnr_roi_in": r.get("metrics", {}).get("psnr_roi_in"), "uep": sr.get("uep", {}).get("status"),
            "valid": r.get("valid"), "over_budget": r.get("over_budget"),
        })
    return sorted(rows, key=lambda d: (d["input"], str(d["bandwidth_hz"]), str(d["cbr_target"]),
                                       d["snr_db"] if d["snr_db"] is not None else 0))


UEP_COLUMNS = (("clip", "input"), ("SNR", "snr_db"), ("bandwidth Hz", "bandwidth_hz"), ("target CBR", "cbr_target"),
               ("CBR used", "cbr"), ("Mod int", "mod_int"), ("R int", "r_int"), ("Mod non", "mod_non"),
               ("R non", "r_non"), ("B_Δ", "b_delta"), ("ρ_s", "rho_s"), ("source kbit/s", "source_kbps"),
               ("PSNR", "psnr"), ("PSNR ROI", "psnr_roi_in"), ("UEP", "uep"), ("over budget", "over_budget"),
               ("valid", "valid"))


def uep_table_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    head = "| " + " | ".join(c for c, _ in UEP_COLUMNS) + " |\n|" + "---|" * len(UEP_COLUMNS) + "\n"
    return head + "".join("| " + " | ".join(_fmt(row[k]) for _, k in UEP_COLUMNS) + " |\n" for row in rows)


def report_sections(records: Sequence[Mapping[str, Any]], out: Path) -> str:
    """TokenCom's intent pictures and its per-SNR UEP table (also written to ``out/tokencom_uep.md``)."""
    parts = []
    shown: set = set()
    figs = []
    for r in records:
        arts = r.get("artifacts") or {}
        sr = r.get("scheme_report", {})
        key = (r.get("input"), json.dumps(sr.get("intent", {}), sort_keys=True), sr.get("intent_mode"))
        if not arts or key in shown or not all((out / a).is_file() for a in arts.values()):
            continue
        shown.add(key)
        intent = sr.get("intent", {})
        what = intent.get("text") or intent.get("box") or intent.get("path") or ""
        for name, src in sorted(arts.items()):
            cap = f"{Path(str(r.get('input', ''))).name} · intent {intent.get('source', '')} {what} · {name}"
            figs.append(f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}" style="max-width:100%">'
                        f"<figcaption>{html.escape(cap)}</figcaption></figure>")
    if figs:
        parts.append("<h2>TokenCom intent</h2><p>First-frame intent, the mask carried by optical flow (eq. 6), "
                     "and the intended token classes S<sub>τ</sub> the receiver rebuilds from the side "
                     "information (§II-E).</p>" + "".join(figs))
    rows = uep_table(records)
    if rows:
        (out / "tokencom_uep.md").write_text(uep_table_markdown(rows))
        head = "".join(f"<th>{html.escape(c)}</th>" for c, _ in UEP_COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{_fmt(row[k])}</td>" for _, k in UEP_COLUMNS)
                       + "</tr>" for row in rows)
        parts.append("<h2>TokenCom UEP choices per SNR (Table III style)</h2>"
                     f"<table><tr>{head}</tr>{body}</table>")
    return "".join(parts)
