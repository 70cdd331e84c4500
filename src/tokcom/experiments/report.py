"""A static, self-contained HTML report of stored results (tables + side-by-side playback)."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokcom.plotting import line_plot

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.bad{color:#b00}.ok{color:#070}
.videos{display:flex;flex-wrap:wrap;gap:1rem}.videos figure{margin:0}.videos video{width:256px;background:#000}.videos img{max-width:100%}
figcaption{font-size:.8rem;color:#555;max-width:256px}code{background:#f3f3f3;padding:0 .2rem}
"""


# Counts the images and videos that loaded (shown at the foot of the page; the browser test reads it).
_SELF_CHECK = """
(function () {
  var vids = Array.prototype.slice.call(document.querySelectorAll('video'));
  var loaded = 0, failed = 0;
  function show() {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
    var s = 'images ' + ok + '/' + imgs.length + ', videos ' + loaded + '/' + vids.length;
    document.body.setAttribute('data-media', s);
    document.getElementById('media-status').textContent = 'media loaded: ' + s + (failed ? ', ' + failed + ' failed' : '');
  }
  vids.forEach(function (v) {
    if (v.readyState >= 1) { loaded++; } else {
      v.addEventListener('loadedmetadata', function () { loaded++; show(); });
      v.addEventListener('error', function () { failed++; show(); });
    }
  });
  window.addEventListener('load', show);
  show();
})();
"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def write_report(
    out_dir: Path,
    records: Sequence[dict[str, Any]],
    *,
    title: str,
    intro: str = "",
    columns: Sequence[tuple[str, str]],
    videos: Sequence[tuple[str, str]] = (),
    command: str = "",
    records_file: str | None = "results.json",
    sections_html: str = "",
) -> Path:
    """Write ``out_dir/index.html``.

    Args:
        records: result dicts (``result.json`` content, plus any extra keys named in ``columns``).
        columns: ``(header, key)``; a key ``metrics.psnr`` reads nested values.
        videos: ``(caption, relative path)`` of MP4 files to show side by side.
        command: the command that produced the results (shown for reproducibility).
        records_file: also write the records as JSON under this name beside the page (None: don't).
        sections_html: HTML placed after the results table (plots, tables).
    """
    rows = []
    for r in records:
        cells = []
        for _, key in columns:
            v: Any = r
            for part in key.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            cls = ""
            if key == "valid":
                cls = "ok" if v else "bad"
            cells.append(f'<td class="{cls}">{_fmt(v) if v is not None else "–"}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h, _ in columns)
    vids = "".join(
        f'<figure><video src="{html.escape(src)}" controls muted loop playsinline preload="metadata"></video>'
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for cap, src in videos
    )
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_CSS}</style></head>
<body><h1>{html.escape(title)}</h1><p>{intro}</p>
<h2>Results</h2><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
{sections_html}
{'<h2>Playback</h2><div class="videos">' + vids + '</div>' if vids else ''}
{'<h2>Reproduce</h2><p><code>' + html.escape(command) + '</code></p>' if command else ''}
<p style="font-size:.8rem;color:#777">Every number above is stored beside this page
(<code>tokcom results DIR --json</code>).</p>
<p id="media-status" style="font-size:.8rem;color:#777"></p>
<script>{_SELF_CHECK}</script>
</body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    if records_file:
        (out_dir / records_file).write_text(json.dumps(list(records), indent=2, allow_nan=False) + "\n")
    path = out_dir / "index.html"
    path.write_text(doc)
    return path


# ---------------------------------------------------------------------------------------------------------
# Sweep reports: plots, BD-CBR table and playback, built from a result store.

PLOT_METRICS = ("psnr", "ssim", "ms_ssim", "lpips_alex", "lpips_vgg", "dists", "fvd", "clip_score")
CONDITION_AXES = ("snr_db", "pdu_loss", "csi_nmse_db")
RATE_AXES = ("cbr", "bitrate", "bandwidth_hz")
BASELINE = "h265"


def _axis(rec: dict[str, Any], key: str) -> Any:
    return rec.get("config", {}).get(key)


def _varying(recs: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[str]:
    return [k for k in keys if len({_axis(r, k) for r in recs if _axis(r, k) is not None}) > 1]


def _groups(recs, key_fn):
    out: dict[Any, list] = {}
    for r in recs:
        out.setdefault(key_fn(r), []).append(r)
    return out


def _metrics_present(recs) -> list[str]:
    have = {m for r in recs for m in r.get("metrics", {})}
    return [m for m in PLOT_METRICS if m in have]


def counts(r: dict[str, Any]) -> bool:
    """A record that competes: valid (≥ 85 % of frames decoded) and within its channel-use budget."""
    return bool(r.get("valid")) and not r.get("over_budget", False)


def curve_label(r: dict[str, Any]) -> str:
    """The name of a record's curve: its scheme, plus what distinguishes its configuration (the scheme's
    :meth:`~tokcom.schemes.base.Scheme.curve_label`)."""
    from tokcom.registry import SCHEMES

    try:
        return SCHEMES.get(r["scheme"]).curve_label(r)
    except Exception:  # noqa: BLE001 - a record of a scheme this tokcom does not have
        return str(r.get("scheme"))


def _mean_series(recs, x_fn, metric) -> dict[str, list[tuple[float, float, bool]]]:
    """One series per curve: ``(x, mean metric, filled)``; hollow markers for invalid or over-budget runs."""
    series: dict[str, list[tuple[float, float, bool]]] = {}
    for (label, x), grp in _groups(recs, lambda r: (curve_label(r), x_fn(r))).items():
        vals = [r["metrics"][metric] for r in grp if metric in r.get("metrics", {})]
        if x is None or not vals:
            continue
        series.setdefault(label, []).append((float(x), float(sum(vals) / len(vals)), all(counts(r) for r in grp)))
    return series


def bd_cbr_table(recs: Sequence[dict[str, Any]], metric: str, baseline: str = BASELINE) -> dict[str, Any]:
    """BD-CBR (%) of every scheme against ``baseline`` per input clip and condition (PVSC Table I style).

    Curves are (measured cbr, metric) over the points that share scheme, input and condition; only valid
    points within their budget count. Returns ``{"metric", "baseline", "columns": [...], "rows": {scheme: {column: value}}}``.
    """
    from tokcom.errors import TokcomError
    from tokcom.metrics.bdrate import bd_rate

    cond = _varying(recs, CONDITION_AXES)
    ckey = cond[0] if cond else None

    def column(r):
        name = Path(str(r.get("input", ""))).name
        return f"{name} @ {ckey}={_axis(r, ckey):g}" if ckey else name

    curves: dict[tuple[str, str], list[tuple[float, float]]] = {}
    order: dict[str, tuple] = {}
    for r in recs:
        if counts(r) and metric in r.get("metrics", {}):
            curves.setdefault((r["scheme"], column(r)), []).append((r["cbr"], r["metrics"][metric]))
            order[column(r)] = (Path(str(r.get("input", ""))).name, _axis(r, ckey) if ckey else 0)
    columns = sorted({c for _, c in curves}, key=lambda c: order[c])
    rows: dict[str, dict[str, float | None]] = {}
    for scheme in sorted({s for s, _ in curves} - {baseline}):
        rows[scheme] = {}
        for c in columns:
            a, t = curves.get((baseline, c)), curves.get((scheme, c))
            val = None
            if a and t and len(a) >= 4 and len(t) >= 4:  # four rate points per curve, as in VCEG-M33
                try:
                    v = bd_rate({"rate": [x for x, _ in a], "quality": [y for _, y in a]},
                                {"rate": [x for x, _ in t], "quality": [y for _, y in t]}, metric)
                    val = None if math.isnan(v) else float(v)
                except (ValueError, ArithmeticError, AssertionError, TokcomError):
                    val = None  # too few distinct points or a non-monotone curve: reported as n/a
            rows[scheme][c] = val
    return {"metric": metric, "baseline": baseline, "columns": columns, "rows": rows}


def bd_table_markdown(t: dict[str, Any]) -> str:
    head = "| scheme | " + " | ".join(t["columns"]) + " | average |\n|---|" + "---|" * (len(t["columns"]) + 1)
    lines = [f"BD-CBR (%) on {t['metric']} against {t['baseline']} (negative = fewer channel uses)", "", head]
    for s, row in t["rows"].items():
        vals = [row[c] for c in t["columns"]]
        good = [v for v in vals if v is not None]
        avg = f"{sum(good) / len(good):.1f}" if good else "n/a"
        lines.append(f"| {s} | " + " | ".join("n/a" if v is None else f"{v:.1f}" for v in vals) + f" | {avg} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------
# Who wins: quality at the budget, per condition × target rate (read with the budget and decoded rules).

LOWER_IS_BETTER = {"lpips_alex", "lpips_vgg", "dists", "fvd"}


def primary_metric(recs: Sequence[dict[str, Any]]) -> str | None:
    """The metric the "who wins" summary is stated on: a perceptual one when measured, else PSNR."""
    have = _metrics_present(recs)
    for m in ("lpips_vgg", "dists", "lpips_alex", "psnr", "ssim"):
        if m in have:
            return m
    return have[0] if have else None


def quality_at_budget(recs: Sequence[dict[str, Any]], metric: str) -> dict[str, Any]:
    """The "quality at the budget" table: one row per (input, condition, target rate), one cell per curve.

    Each cell holds the metric, the CBR actually used, and whether the run counts (valid and within its
    budget); the row's winner is the best metric among the runs that count (None when none does).

    Returns:
        ``{"metric", "axes": [condition axes..., rate axis], "curves": [...], "rows": [{"key": {...},
        "cells": {curve: {"value", "cbr", "valid", "over_budget"}}, "winner": curve | None}]}``.
    """
    cond = _varying(recs, CONDITION_AXES) or [k for k in CONDITION_AXES if any(_axis(r, k) is not None
                                                                               for r in recs)][:1]
    rate = [k for k in RATE_AXES if any(_axis(r, k) is not None for r in recs)][:1]
    axes = cond + rate
    lower = metric in LOWER_IS_BETTER
    curves = sorted({curve_label(r) for r in recs})
    rows = []
    grouped = _groups(recs, lambda r: (Path(str(r.get("input", ""))).name, *(_axis(r, k) for k in axes)))
    for key, grp in sorted(grouped.items(), key=lambda kv: (kv[0][0], _numkey(kv[0][1:]))):
        cells: dict[str, dict[str, Any]] = {}
        for r in grp:
            v = r.get("metrics", {}).get(metric)
            cells[curve_label(r)] = {"value": v, "cbr": r.get("cbr"), "valid": bool(r.get("valid")),
                                     "over_budget": bool(r.get("over_budget", False))}
        ok = {c: d for c, d in cells.items() if d["valid"] and not d["over_budget"] and d["value"] is not None}
        winner = (min if lower else max)(ok, key=lambda c: ok[c]["value"]) if ok else None
        rows.append({"key": dict(zip(["input", *axes], key)), "cells": cells, "winner": winner})
    return {"metric": metric, "axes": axes, "curves": curves, "rows": rows}


def winners_sentence(t: dict[str, Any]) -> str:
    """``On lpips_vgg, h265 (best MCS) wins 10 of 16 settings, tokencom 4; none is valid in 2.``"""
    n = len(t["rows"])
    tally: dict[str, int] = {}
    for row in t["rows"]:
        if row["winner"] is not None:
            tally[row["winner"]] = tally.get(row["winner"], 0) + 1
    if not n:
        return ""
    parts = [f"{c} wins {k} of {n} settings" if i == 0 else f"{c} {k}"
             for i, (c, k) in enumerate(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))]
    none = n - sum(tally.values())
    direction = "lower" if t["metric"] in LOWER_IS_BETTER else "higher"
    s = f"On {t['metric']} ({direction} is better), " + (", ".join(parts) if parts else "no scheme wins any setting")
    if none:
        s += f"; no scheme is valid within the budget in {none}"
    return s + "."


def quality_table_html(t: dict[str, Any]) -> str:
    """The table of :func:`quality_at_budget`: value · CBR used, ✗ invalid, ⚠ over budget, bold winner."""
    if not t["rows"]:
        return ""
    head = "".join(f'<th class="l">{html.escape(a)}</th>' for a in ["input", *t["axes"]])
    head += "".join(f"<th>{html.escape(c)}</th>" for c in t["curves"])
    body = ""
    for row in t["rows"]:
        cells = "".join(f'<td class="l">{_fmt(row["key"][a])}</td>' for a in ["input", *t["axes"]])
        for c in t["curves"]:
            d = row["cells"].get(c)
            if d is None:
                cells += "<td>–</td>"
                continue
            val = "–" if d["value"] is None else f"{d['value']:.4g}"
            marks = ("" if d["valid"] else " ✗") + (" ⚠" if d["over_budget"] else "")
            txt = f"{val} <small>@ {d['cbr']:.3g}</small>{marks}"
            cls = "bad" if marks else ""
            cells += f'<td class="{cls}">' + (f"<b>{txt}</b>" if row["winner"] == c else txt) + "</td>"
        body += f"<tr>{cells}</tr>"
    return (f"<p>Quality at the budget on <b>{html.escape(t['metric'])}</b>: each cell is the metric @ the CBR "
            "actually used; ✗ invalid (fewer than 85 % of frames decoded), ⚠ over budget (data left unsent); "
            "bold: the best run that is valid and within its budget.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def describe_run(recs: Sequence[dict[str, Any]]) -> str:
    """What ran, from the records themselves (HTML): inputs, channel, conditions, rates, and each curve's
    configuration as its scheme reports it."""
    if not recs:
        return ""
    r0 = recs[0]
    clips = sorted({f"{Path(str(r.get('input', ''))).name} ({r.get('frames')} frames, {r.get('width')}×"
                    f"{r.get('height')}, from frame {_axis(r, 'start') or 0})" for r in recs})
    chans = sorted({f"{_axis(r, 'channel') or r.get('link', {}).get('channel')}"
                    + (f" ({r['link'].get('phy')} PHY)" if r.get("link", {}).get("phy") else "") for r in recs})
    conds = []
    for k in CONDITION_AXES + RATE_AXES:
        vals = sorted({_axis(r, k) for r in recs if _axis(r, k) is not None})
        if vals:
            conds.append(f"{k} ∈ {{{', '.join(f'{v:g}' for v in vals)}}}")
    overhead = sorted({r.get("link", {}).get("overhead") for r in recs if r.get("link", {}).get("overhead")})
    from tokcom.registry import SCHEMES

    per_curve = {}
    for r in recs:
        label = curve_label(r)
        if label not in per_curve:
            try:
                per_curve[label] = SCHEMES.get(r["scheme"]).describe_record(r)
            except Exception:  # noqa: BLE001
                per_curve[label] = ""
    items = "".join(f"<li><b>{html.escape(c)}</b>: {html.escape(d)}</li>" for c, d in sorted(per_curve.items()))
    return (f"<p>Input: {html.escape('; '.join(clips))}. Channel: {html.escape(', '.join(chans))}"
            + (f", ρ<sub>oh</sub> = {', '.join(f'{o:g}' for o in overhead)}" if overhead else "")
            + f". Grid: {html.escape('; '.join(conds))}; seed {r0.get('seed')}.</p><ul>{items}</ul>"
            "<p>Every scheme is held to the same channel-use budget (CBR = channel uses / (T·H·W·3)): what does "
            "not fit is not sent. A frame counts as decoded when at least half of the data sent for it arrived "
            "intact (for an interpolated frame: the data of the frames it is built from); a run is "
            "<em>valid</em> when ≥ 85 % of its frames are decoded (TokenCom §III-C). A frame the receiver "
            "cannot produce repeats the last one it could.</p>")


def build_report(directory: str | Path, *, title: str | None = None, intro: str = "") -> Path:
    """(Re)build ``DIR/index.html`` (+ ``plots/``, ``bdcbr.md``, ``quality.md``) from the result store."""
    from tokcom.experiments.runner import PREVIEW_DIR
    from tokcom.experiments.store import ResultStore
    from tokcom.registry import SCHEMES

    out = Path(directory)
    with ResultStore(out, create=False) as store:
        recs = [r for _, _, r in store.records()]
        meta_title = store.get_meta("title")
        meta_intro = store.get_meta("intro", "")
    plots_dir = out / "plots"
    plots_dir.mkdir(exist_ok=True)
    metrics = _metrics_present(recs)
    cond = _varying(recs, CONDITION_AXES)
    rate = _varying(recs, RATE_AXES)
    figures: list[tuple[str, str]] = []
    for m in metrics:
        if cond:
            c = cond[0]
            for rv, grp in sorted(_groups(recs, lambda r: tuple(_axis(r, k) for k in RATE_AXES)).items(),
                                  key=lambda kv: _numkey(kv[0])):
                tag = "_".join(f"{k}{v:g}" for k, v in zip(RATE_AXES, rv) if v is not None) or "all"
                label = ", ".join(f"target {k} {v:g}" for k, v in zip(RATE_AXES, rv) if v is not None) or "all rates"
                names = line_plot(plots_dir / f"{m}_vs_{c}_{tag}",
                                  _mean_series(grp, lambda r, c=c: _axis(r, c), m),
                                  c, m, f"{m} vs {c} ({label}; hollow: invalid or over budget)")
                figures.append((f"{m} vs {c} ({label})", f"plots/{names[0]}"))
        if rate:
            for cv, grp in sorted(_groups(recs, lambda r: tuple(_axis(r, k) for k in CONDITION_AXES)).items(),
                                  key=lambda kv: _numkey(kv[0])):
                tag = "_".join(f"{k}{v:g}" for k, v in zip(CONDITION_AXES, cv) if v is not None) or "all"
                label = ", ".join(f"{k} {v:g}" for k, v in zip(CONDITION_AXES, cv) if v is not None) or "all"
                names = line_plot(plots_dir / f"{m}_vs_cbr_{tag}", _mean_series(grp, lambda r: r["cbr"], m),
                                  "CBR actually used (channel uses / sample)", m, f"{m} vs CBR ({label})",
                                  logx=True)
                figures.append((f"{m} vs CBR used ({label})", f"plots/{names[0]}"))
    # who wins: quality at the budget (always), BD-CBR where four distinct rates per curve allow it
    wins_html, quality_md = "", ""
    pm = primary_metric(recs)
    if pm is not None:
        for m in [pm] + [x for x in metrics if x != pm]:
            t = quality_at_budget(recs, m)
            if not t["rows"]:
                continue
            quality_md += f"{winners_sentence(t)}\n\n{quality_table_markdown(t)}\n"
            wins_html += f"<p><b>{html.escape(winners_sentence(t))}</b></p>" if m == pm else ""
            wins_html += quality_table_html(t)
        (out / "quality.md").write_text(quality_md)
    bd_md, bd_html = "", ""
    if rate and any(r["scheme"] == BASELINE for r in recs):
        for m in metrics:
            t = bd_cbr_table(recs, m)
            if t["rows"]:
                bd_md += bd_table_markdown(t) + "\n"
        if bd_md:
            (out / "bdcbr.md").write_text(bd_md)
            tables = "".join(_bd_table_html(bd_cbr_table(recs, m)) for m in metrics)
            bd_html = ("<h2>BD-CBR against h265</h2><p>n/a where a curve has fewer than four valid, in-budget "
                       "points at distinct rates (then read the quality-at-the-budget table above).</p>" + tables)
    columns = [("scheme", "label"), ("input", "input_name"), ("channel", "config.channel")]
    columns += [(k, f"config.{k}") for k in cond] + [(f"target {k}", f"config.{k}") for k in rate]
    columns += [("cbr used", "cbr"), ("over budget", "over_budget"), ("kbit/s", "kbps"), ("PDUs lost", "lost"),
                ("decoded", "decoded"), ("valid", "valid"), ("transmission", "summary")]
    columns += [(m, f"metrics.{m}") for m in metrics]
    rows = []
    videos: list[tuple[str, str]] = []
    originals = out / PREVIEW_DIR
    for r in recs:
        row = dict(r)
        row["label"] = curve_label(r)
        row["input_name"] = Path(str(r.get("input", ""))).name
        row["kbps"] = r["bitrate_bps"] / 1e3
        unsent = r["packets"].get("not_sent", 0)
        row["lost"] = f"{r['packets']['lost']}/{r['packets']['sent']}" + (f" (+{unsent} unsent)" if unsent else "")
        row["decoded"] = f"{r['frames_decoded']}/{r['frames']}"
        row["over_budget"] = "yes" if r.get("over_budget") else "no"
        try:
            row["summary"] = SCHEMES.get(r["scheme"]).summary(r)
        except Exception:  # noqa: BLE001 - a scheme this tokcom does not have
            row["summary"] = "–"
        rows.append(row)
    for inp, grp in _groups(recs, lambda r: (r.get("input"), r.get("frames"), r.get("width"), r.get("height"),
                                             _axis(r, "start") or 0)).items():
        orig = _original_preview(originals, *inp)
        if orig:
            videos.append((f"original: {Path(str(inp[0])).name}", f"{PREVIEW_DIR}/{orig}"))
        for r in grp:
            key = r.get("point_key")
            if key and (originals / f"{key}.mp4").is_file():
                cond_txt = ", ".join(f"{k} {_axis(r, k):g}" for k in cond + rate if _axis(r, k) is not None)
                psnr = r.get("metrics", {}).get("psnr")
                videos.append((f"{curve_label(r)} {cond_txt}" + (f": PSNR {psnr:.2f} dB" if psnr else "")
                               + ("" if counts(r) else " (invalid or over budget)"), f"{PREVIEW_DIR}/{key}.mp4"))
    figs_html = "".join(f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}" width="520">'
                        f"<figcaption>{html.escape(cap)}</figcaption></figure>" for cap, src in figures)
    sections = (f"<h2>Who wins</h2>{wins_html}" if wins_html else "")
    sections += (f'<h2>Plots</h2><div class="videos">{figs_html}</div>' if figs_html else "") + bd_html
    for name in sorted({r["scheme"] for r in recs}):
        try:
            cls = SCHEMES.get(name)
        except Exception:  # noqa: BLE001
            continue
        sections += cls.report_sections([r for r in recs if r["scheme"] == name], out)
    mixed = store_mixed_note(out)
    return write_report(out, rows, title=title or meta_title or f"tokcom results: {out.name}",
                        intro=(intro or meta_intro or "") + describe_run(recs) + mixed, columns=columns,
                        videos=videos, command=f"tokcom report {out}", records_file=None, sections_html=sections)


def quality_table_markdown(t: dict[str, Any]) -> str:
    head = "| input | " + " | ".join(t["axes"]) + " | " + " | ".join(t["curves"]) + " |\n"
    head += "|---|" + "---|" * (len(t["axes"]) + len(t["curves"])) + "\n"
    lines = []
    for row in t["rows"]:
        cells = [str(row["key"]["input"])] + [_fmt(row["key"][a]) for a in t["axes"]]
        for c in t["curves"]:
            d = row["cells"].get(c)
            if d is None:
                cells.append("–")
                continue
            val = "–" if d["value"] is None else f"{d['value']:.4g}"
            txt = f"{val} @ {d['cbr']:.3g}" + ("" if d["valid"] else " ✗") + (" ⚠" if d["over_budget"] else "")
            cells.append(f"**{txt}**" if row["winner"] == c else txt)
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def store_mixed_note(out: Path) -> str:
    """A warning paragraph when the store holds records of different code or weights (``--allow-mixed``)."""
    from tokcom.experiments.store import ResultStore

    with ResultStore(out, create=False) as store:
        mixed = store.get_meta("mixed")
    if not mixed:
        return ""
    return ("<p class=\"bad\">These results mix records made by different code or weights (resumed with "
            f"--allow-mixed): {html.escape('; '.join(mixed))}.</p>")


def _numkey(values: tuple) -> tuple:
    return tuple((v is None, v if isinstance(v, (int, float)) else 0, str(v)) for v in values)


def _bd_table_html(t: dict[str, Any]) -> str:
    if not t["rows"]:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t["columns"])
    body = ""
    for s, row in t["rows"].items():
        vals = [row[c] for c in t["columns"]]
        good = [v for v in vals if v is not None]
        cells = "".join(f"<td>{'n/a' if v is None else f'{v:.1f}'}</td>" for v in vals)
        avg = f"{sum(good) / len(good):.1f}" if good else "n/a"
        body += f'<tr><td class="l">{html.escape(s)}</td>{cells}<td>{avg}</td></tr>'
    return (f"<p>BD-CBR (%) on <b>{html.escape(t['metric'])}</b> against {html.escape(t['baseline'])} "
            f"(negative = fewer channel uses for the same quality; valid, in-budget points only)</p>"
            f'<table><thead><tr><th class="l">scheme</th>{head}<th>average</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _original_preview(vdir: Path, path: Any, frames: Any, width: Any, height: Any, start: Any) -> str | None:
    """Write (once) the H.264 preview of the input exactly as the runs saw it; None if unreadable."""
    import hashlib

    from tokcom.errors import TokcomError
    from tokcom.video.io import read_video, write_preview

    name = "orig-" + hashlib.sha256(f"{path}|{frames}|{width}|{height}|{start}".encode()).hexdigest()[:12] + ".mp4"
    if (vdir / name).is_file():
        return name
    try:
        v = read_video(str(path), frames=frames, start=int(start or 0), size=(int(width), int(height)))
    except (TokcomError, TypeError, ValueError):
        return None
    vdir.mkdir(parents=True, exist_ok=True)
    write_preview(vdir / name, v)
    return name
