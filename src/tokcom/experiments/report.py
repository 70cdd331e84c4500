"""A static, self-contained HTML report of stored results (tables + side-by-side playback)."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def _plot(path_stem: Path, series: dict[str, list[tuple[float, float, bool]]], xlabel: str, ylabel: str,
          title: str, logx: bool = False) -> list[str]:
    """Line plot, one line per scheme; invalid points hollow. Writes PNG and SVG, returns their names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=110)
    for i, (name, pts) in enumerate(sorted(series.items())):
        pts = sorted(pts)
        xs, ys, _ok = zip(*pts)
        color = f"C{i}"
        ax.plot(xs, ys, "-", color=color, label=name, lw=1.5)
        ax.scatter([x for x, _, v in pts if v], [y for _, y, v in pts if v], color=color, s=22, zorder=3)
        ax.scatter([x for x, _, v in pts if not v], [y for _, y, v in pts if not v], facecolors="white",
                   edgecolors=color, s=22, zorder=3)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    names = []
    safe = path_stem.name.replace(".", "p").replace("-", "m")  # "pdu_loss0.2" must not become a suffix
    for ext in ("png", "svg"):
        fig.savefig(path_stem.parent / f"{safe}.{ext}")
        names.append(f"{safe}.{ext}")
    plt.close(fig)
    return names


def _mean_series(recs, x_fn, metric) -> dict[str, list[tuple[float, float, bool]]]:
    series: dict[str, list[tuple[float, float, bool]]] = {}
    for (scheme, x), grp in _groups(recs, lambda r: (r["scheme"], x_fn(r))).items():
        vals = [r["metrics"][metric] for r in grp if metric in r.get("metrics", {})]
        if x is None or not vals:
            continue
        valid = all(r.get("valid") for r in grp)
        series.setdefault(scheme, []).append((float(x), float(sum(vals) / len(vals)), valid))
    return series


def bd_cbr_table(recs: Sequence[dict[str, Any]], metric: str, baseline: str = BASELINE) -> dict[str, Any]:
    """BD-CBR (%) of every scheme against ``baseline`` per input clip and condition (PVSC Table I style).

    Curves are (measured cbr, metric) over the points that share scheme, input and condition; only valid
    points count. Returns ``{"metric", "baseline", "columns": [...], "rows": {scheme: {column: value}}}``.
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
        if r.get("valid") and metric in r.get("metrics", {}):
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


def build_report(directory: str | Path, *, title: str | None = None, intro: str = "") -> Path:
    """(Re)build ``DIR/index.html`` (+ ``plots/``, ``bdcbr.md``) from the result store in ``directory``."""
    from tokcom.experiments.runner import PREVIEW_DIR
    from tokcom.experiments.store import ResultStore

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
                label = ", ".join(f"{k} {v:g}" for k, v in zip(RATE_AXES, rv) if v is not None) or "all rates"
                names = _plot(plots_dir / f"{m}_vs_{c}_{tag}", _mean_series(grp, lambda r: _axis(r, c), m),
                              c, m, f"{m} vs {c} ({label})")
                figures.append((f"{m} vs {c} ({label})", f"plots/{names[0]}"))
        if rate:
            for cv, grp in sorted(_groups(recs, lambda r: tuple(_axis(r, k) for k in CONDITION_AXES)).items(),
                                  key=lambda kv: _numkey(kv[0])):
                tag = "_".join(f"{k}{v:g}" for k, v in zip(CONDITION_AXES, cv) if v is not None) or "all"
                label = ", ".join(f"{k} {v:g}" for k, v in zip(CONDITION_AXES, cv) if v is not None) or "all"
                names = _plot(plots_dir / f"{m}_vs_cbr_{tag}", _mean_series(grp, lambda r: r["cbr"], m),
                              "CBR (channel uses / sample)", m, f"{m} vs CBR ({label})", logx=True)
                figures.append((f"{m} vs CBR ({label})", f"plots/{names[0]}"))
    bd_md, bd_html = "", ""
    if rate and any(r["scheme"] == BASELINE for r in recs):
        for m in metrics:
            t = bd_cbr_table(recs, m)
            if t["rows"]:
                bd_md += bd_table_markdown(t) + "\n"
        if bd_md:
            (out / "bdcbr.md").write_text(bd_md)
            bd_html = "<h2>BD-CBR against h265</h2>" + "".join(
                _bd_table_html(bd_cbr_table(recs, m)) for m in metrics)
    columns = [("scheme", "scheme"), ("input", "input_name"), ("channel", "config.channel")]
    columns += [(k, f"config.{k}") for k in cond] + [(f"target {k}", f"config.{k}") for k in rate]
    columns += [("cbr", "cbr"), ("kbit/s", "kbps"), ("PDUs lost", "lost"), ("decoded", "decoded"),
                ("valid", "valid")]
    columns += [(m, f"metrics.{m}") for m in metrics]
    rows = []
    videos: list[tuple[str, str]] = []
    originals = out / PREVIEW_DIR
    for r in recs:
        row = dict(r)
        row["input_name"] = Path(str(r.get("input", ""))).name
        row["kbps"] = r["bitrate_bps"] / 1e3
        row["lost"] = f"{r['packets']['lost']}/{r['packets']['sent']}"
        row["decoded"] = f"{r['frames_decoded']}/{r['frames']}"
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
                videos.append((f"{r['scheme']} {cond_txt}" + (f": PSNR {psnr:.2f} dB" if psnr else "")
                               + ("" if r.get("valid") else " (invalid)"), f"{PREVIEW_DIR}/{key}.mp4"))
    figs_html = "".join(f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}" width="520">'
                        f"<figcaption>{html.escape(cap)}</figcaption></figure>" for cap, src in figures)
    sections = (f'<h2>Plots</h2><div class="videos">{figs_html}</div>' if figs_html else "") + bd_html
    sections += token_scheme_sections(recs, out)
    return write_report(out, rows, title=title or meta_title or f"tokcom results: {out.name}",
                        intro=intro or meta_intro or "", columns=columns, videos=videos,
                        command=f"tokcom report {out}", records_file=None, sections_html=sections)


def uep_table(recs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """TokenCom's per-SNR choices (000_cfad1eb21f67e2e2.txt Table III): one row per tokencom record."""
    rows = []
    for r in recs:
        if r.get("scheme") != "tokencom":
            continue
        sr = r.get("scheme_report", {})
        cc = sr.get("class_config", {})
        i, n = cc.get("intended", {}), cc.get("non_intended", {})
        rows.append({
            "input": Path(str(r.get("input", ""))).name, "snr_db": _axis(r, "snr_db"),
            "bandwidth_hz": _axis(r, "bandwidth_hz"), "cbr_target": _axis(r, "cbr"),
            "mod_int": i.get("modulation"), "r_int": i.get("coderate"), "mod_non": n.get("modulation"),
            "r_non": n.get("coderate"), "b_delta": sr.get("b_delta"), "rho_s": sr.get("rho_s"),
            "source_kbps": (sr.get("source_bitrate_bps") or 0) / 1e3, "psnr": r.get("metrics", {}).get("psnr"),
            "psnr_roi_in": r.get("metrics", {}).get("psnr_roi_in"), "uep": sr.get("uep", {}).get("status"),
            "valid": r.get("valid"),
        })
    return sorted(rows, key=lambda d: (d["input"], str(d["bandwidth_hz"]), str(d["cbr_target"]),
                                       d["snr_db"] if d["snr_db"] is not None else 0))


UEP_COLUMNS = (("clip", "input"), ("SNR", "snr_db"), ("bandwidth Hz", "bandwidth_hz"), ("target CBR", "cbr_target"),
               ("Mod int", "mod_int"), ("R int", "r_int"), ("Mod non", "mod_non"), ("R non", "r_non"),
               ("B_Δ", "b_delta"), ("ρ_s", "rho_s"), ("source kbit/s", "source_kbps"), ("PSNR", "psnr"),
               ("PSNR ROI", "psnr_roi_in"), ("UEP", "uep"), ("valid", "valid"))


def uep_table_markdown(rows: Sequence[dict[str, Any]]) -> str:
    head = "| " + " | ".join(c for c, _ in UEP_COLUMNS) + " |\n|" + "---|" * len(UEP_COLUMNS) + "\n"
    return head + "".join("| " + " | ".join(_fmt(row[k]) for _, k in UEP_COLUMNS) + " |\n" for row in rows)


def token_scheme_sections(recs: Sequence[dict[str, Any]], out: Path) -> str:
    """Report sections of the token schemes: TokenCom's intent pictures and per-SNR UEP table, Resi-VidTok's
    per-frame prefix depth K."""
    parts = []
    tc = [r for r in recs if r.get("scheme") == "tokencom"]
    shown: set = set()
    figs = []
    for r in tc:
        arts = r.get("artifacts") or {}
        key = (r.get("input"), json.dumps(r.get("scheme_report", {}).get("intent", {}), sort_keys=True),
               r.get("scheme_report", {}).get("intent_mode"))
        if not arts or key in shown or not all((out / a).is_file() for a in arts.values()):
            continue
        shown.add(key)
        intent = r["scheme_report"].get("intent", {})
        what = intent.get("text") or intent.get("box") or intent.get("path") or ""
        for name, src in sorted(arts.items()):
            cap = f"{Path(str(r.get('input', ''))).name} · intent {intent.get('source', '')} {what} · {name}"
            figs.append(f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}" style="max-width:100%">'
                        f"<figcaption>{html.escape(cap)}</figcaption></figure>")
    if figs:
        parts.append("<h2>TokenCom intent</h2><p>First-frame intent, the mask carried by optical flow (eq. 6), "
                     "and the intended token classes S<sub>τ</sub> the receiver rebuilds from the side "
                     "information (§II-E).</p>" + "".join(figs))
    rows = uep_table(recs)
    if rows:
        (out / "tokencom_uep.md").write_text(uep_table_markdown(rows))
        head = "".join(f"<th>{html.escape(c)}</th>" for c, _ in UEP_COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{_fmt(row[k])}</td>" for _, k in UEP_COLUMNS)
                       + "</tr>" for row in rows)
        parts.append("<h2>TokenCom UEP choices per SNR (Table III style)</h2>"
                     f"<table><tr>{head}</tr>{body}</table>")
    rv = [r for r in recs if r.get("scheme") == "resivid" and r.get("scheme_report", {}).get("frames")]
    if rv:
        series: dict[str, list[tuple[float, float, bool]]] = {}
        for r in rv:
            cond = ", ".join(f"{k} {_axis(r, k):g}" for k in ("snr_db", "cbr") if _axis(r, k) is not None)
            label = f"{Path(str(r.get('input', ''))).name} {cond}"
            pts = [(float(f["frame"]), float(f["k"]), bool(f.get("crc_ok", True)))
                   for f in r["scheme_report"]["frames"] if f.get("key") and f.get("k") is not None]
            if pts:
                series[label] = pts
        if series:
            plots = out / "plots"
            plots.mkdir(exist_ok=True)
            if len(series) > 8:  # keep the figure readable: the first 8 conditions
                series = dict(sorted(series.items())[:8])
            names = _plot(plots / "resivid_k_per_frame", series, "frame", "K* (tokens in the prefix)",
                          "Resi-VidTok prefix depth per key frame (hollow: CRC failed / lost)")
            parts.append("<h2>Resi-VidTok prefix depth per frame</h2>"
                         f'<figure><img src="plots/{names[0]}" alt="K per frame" width="620"></figure>')
    return "".join(parts)


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
            f"(negative = fewer channel uses for the same quality; valid points only)</p>"
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
