"""A static, self-contained HTML report of stored results (tables + side-by-side playback)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Sequence

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.bad{color:#b00}.ok{color:#070}
.videos{display:flex;flex-wrap:wrap;gap:1rem}.videos figure{margin:0}.videos video{width:256px;background:#000}
figcaption{font-size:.8rem;color:#555;max-width:256px}code{background:#f3f3f3;padding:0 .2rem}
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
) -> Path:
    """Write ``out_dir/index.html``.

    Args:
        records: result dicts (``result.json`` content, plus any extra keys named in ``columns``).
        columns: ``(header, key)``; a key ``metrics.psnr`` reads nested values.
        videos: ``(caption, relative path)`` of MP4 files to show side by side.
        command: the command that produced the results (shown for reproducibility).
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
{'<h2>Playback</h2><div class="videos">' + vids + '</div>' if vids else ''}
{'<h2>Reproduce</h2><p><code>' + html.escape(command) + '</code></p>' if command else ''}
<p style="font-size:.8rem;color:#777">Every number above is in <code>results.json</code> beside this page.</p>
</body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(list(records), indent=2, allow_nan=False) + "\n")
    path = out_dir / "index.html"
    path.write_text(doc)
    return path
