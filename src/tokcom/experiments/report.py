"""A static, self-contained HTML report of stored results (tables + side-by-side playback)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokcom.errors import TokcomError, UnknownNameError
from tokcom.experiments.bdcbr import bd_cbr_table, bd_table_html, bd_table_markdown
from tokcom.experiments.quality import (
    primary_metric,
    quality_at_budget,
    quality_table_html,
    quality_table_markdown,
    winners_sentence,
)
from tokcom.experiments.records import (
    BASELINE,
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
from tokcom.experiments.runner import PREVIEW_DIR
from tokcom.experiments.store import ResultStore
from tokcom.plotting import line_plot
from tokcom.registry import SCHEMES
from tokcom.video.io import read_video, write_preview

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
    return html.escape(fmt_value(v))


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

def _mean_series(recs, x_fn, metric) -> dict[str, list[tuple[float, float, bool]]]:
    """One series per curve: ``(x, mean metric, filled)``; hollow markers for invalid or over-budget runs."""
    series: dict[str, list[tuple[float, float, bool]]] = {}
    for (label, x), grp in groups(recs, lambda r: (curve_label(r), x_fn(r))).items():
        vals = [r["metrics"][metric] for r in grp if metric in r.get("metrics", {})]
        if x is None or not vals:
            continue
        series.setdefault(label, []).append((float(x), float(sum(vals) / len(vals)), all(counts(r) for r in grp)))
    return series


# ---------------------------------------------------------------------------------------------------------
# Who wins: quality at the budget, per condition × target rate (read with the budget and decoded rules).

def describe_run(recs: Sequence[dict[str, Any]]) -> str:
    """What ran, from the records themselves (HTML): inputs, channel, conditions, rates, and each curve's
    configuration as its scheme reports it."""
    if not recs:
        return ""
    r0 = recs[0]
    clips = sorted({f"{Path(str(r.get('input', ''))).name} ({r.get('frames')} frames, {r.get('width')}×"
                    f"{r.get('height')}, from frame {axis(r, 'start') or 0})" for r in recs})
    chans = sorted({f"{axis(r, 'channel') or r.get('link', {}).get('channel')}"
                    + (f" ({r['link'].get('phy')} PHY)" if r.get("link", {}).get("phy") else "") for r in recs})
    conds = []
    for k in CONDITION_AXES + RATE_AXES:
        vals = sorted({axis(r, k) for r in recs if axis(r, k) is not None})
        if vals:
            conds.append(f"{k} ∈ {{{', '.join(f'{v:g}' for v in vals)}}}")
    overhead = sorted({r.get("link", {}).get("overhead") for r in recs if r.get("link", {}).get("overhead")})
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
    out = Path(directory)
    with ResultStore(out, create=False) as store:
        recs = [r for _, _, r in store.records()]
        meta_title = store.get_meta("title")
        meta_intro = store.get_meta("intro", "")
    plots_dir = out / "plots"
    plots_dir.mkdir(exist_ok=True)
    metrics = metrics_present(recs)
    cond = varying(recs, CONDITION_AXES)
    rate = varying(recs, RATE_AXES)
    figures: list[tuple[str, str]] = []
    for m in metrics:
        if cond:
            c = cond[0]
            for rv, grp in sorted(groups(recs, lambda r: tuple(axis(r, k) for k in RATE_AXES)).items(),
                                  key=lambda kv: numkey(kv[0])):
                tag = "_".join(f"{k}{v:g}" for k, v in zip(RATE_AXES, rv) if v is not None) or "all"
                label = ", ".join(f"target {k} {v:g}" for k, v in zip(RATE_AXES, rv) if v is not None) or "all rates"
                names = line_plot(plots_dir / f"{m}_vs_{c}_{tag}",
                                  _mean_series(grp, lambda r, c=c: axis(r, c), m),
                                  c, m, f"{m} vs {c} ({label}; hollow: invalid or over budget)")
                figures.append((f"{m} vs {c} ({label})", f"plots/{names[0]}"))
        if rate:
            for cv, grp in sorted(groups(recs, lambda r: tuple(axis(r, k) for k in CONDITION_AXES)).items(),
                                  key=lambda kv: numkey(kv[0])):
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
            if not t.rows:
                continue
            quality_md += f"{winners_sentence(t)}\n\n{quality_table_markdown(t)}\n"
            wins_html += f"<p><b>{html.escape(winners_sentence(t))}</b></p>" if m == pm else ""
            wins_html += quality_table_html(t)
        (out / "quality.md").write_text(quality_md)
    bd_md, bd_html = "", ""
    if rate and any(r["scheme"] == BASELINE for r in recs):
        tables = [t for t in (bd_cbr_table(recs, m) for m in metrics) if t.rows]
        if tables:
            bd_md = "".join(bd_table_markdown(t) + "\n" for t in tables)
            (out / "bdcbr.md").write_text(bd_md)
            bd_html = ("<h2>BD-CBR against h265</h2><p>n/a where a curve has fewer than four valid, in-budget "
                       "points at distinct rates (then read the quality-at-the-budget table above); "
                       "n/a (&gt; +X %) where the quality ranges do not overlap: at its best quality the scheme "
                       "needs more than (1 + X/100)× the baseline's CBR, which reaches better quality at its "
                       "cheapest point (&lt; −X %: the mirror case).</p>"
                       + "".join(bd_table_html(t) for t in tables))
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
    for inp, grp in groups(recs, lambda r: (r.get("input"), r.get("frames"), r.get("width"), r.get("height"),
                                             axis(r, "start") or 0)).items():
        orig = _original_preview(originals, *inp)
        if orig:
            videos.append((f"original: {Path(str(inp[0])).name}", f"{PREVIEW_DIR}/{orig}"))
        for r in grp:
            key = r.get("point_key")
            if key and (originals / f"{key}.mp4").is_file():
                cond_txt = ", ".join(f"{k} {axis(r, k):g}" for k in cond + rate if axis(r, k) is not None)
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
        except UnknownNameError:  # a record of a scheme this tokcom does not have
            continue
        sections += cls.report_sections([r for r in recs if r["scheme"] == name], out)
    mixed = store_mixed_note(out)
    return write_report(out, rows, title=title or meta_title or f"tokcom results: {out.name}",
                        intro=(intro or meta_intro or "") + describe_run(recs) + mixed, columns=columns,
                        videos=videos, command=f"tokcom report {out}", records_file=None, sections_html=sections)


def store_mixed_note(out: Path) -> str:
    """A warning paragraph when the store holds records of different code or weights (``--allow-mixed``)."""
    with ResultStore(out, create=False) as store:
        mixed = store.get_meta("mixed")
    if not mixed:
        return ""
    return ("<p class=\"bad\">These results mix records made by different code or weights (resumed with "
            f"--allow-mixed): {html.escape('; '.join(mixed))}.</p>")


def _original_preview(vdir: Path, path: Any, frames: Any, width: Any, height: Any, start: Any) -> str | None:
    """Write (once) the H.264 preview of the input exactly as the runs saw it; None if unreadable."""
    import hashlib

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
