"""Provenance: which code and which weight files shaped a result.

Every :class:`~tokcom.types.Result` records ``provenance = {"code": ..., "weights": {name: sha256}}``:

* ``code``: ``git:<commit>`` when tokcom runs from a git checkout (``git:<commit>+dirty.<hash>`` when the
  package sources differ from the commit: the hash covers the diff and untracked source files), else
  ``tokcom <version>`` (an installed package).
* ``weights``: the sha256 of every weight file the scheme and the metrics use, known *before* the run from
  the configuration (so a sweep can key its points with it): the pinned digest of a cached weight set
  (:mod:`tokcom.models`; loading checks it), the digest recorded beside a shipped tokenizer, or the digest of
  a user's file or folder. ``absent`` when a weight set is not there (the run then falls back, e.g. RIFE →
  flow, or a metric is unavailable — which shapes the result as much as a file does).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from tokcom import __version__, models
from tokcom.errors import UnknownNameError
from tokcom.metrics import default_metrics
from tokcom.registry import METRICS, TOKENIZERS, WEIGHTS
from tokcom.tokenizers.weights_io import read_config

ABSENT = "absent"
_PACKAGE_DIR = Path(__file__).resolve().parent


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        r = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None


@lru_cache(maxsize=1)
def code_version() -> str:
    """``git:<commit>[+dirty.<hash>]`` from a checkout, else ``tokcom <version>`` (cached per process: the
    code a process runs does not change while it runs)."""
    top = _git(["rev-parse", "--show-toplevel"], _PACKAGE_DIR)
    head = _git(["rev-parse", "HEAD"], _PACKAGE_DIR) if top else None
    if not top or not head:
        return f"tokcom {__version__}"
    rel = str(_PACKAGE_DIR.relative_to(Path(top.strip()).resolve())) if _PACKAGE_DIR.is_relative_to(
        Path(top.strip()).resolve()) else "."
    diff = _git(["diff", "HEAD", "--binary", "--", rel], Path(top.strip())) or ""
    untracked = (_git(["ls-files", "--others", "--exclude-standard", "--", rel], Path(top.strip())) or "").split()
    h = hashlib.sha256(diff.encode())
    for name in sorted(untracked):
        if not name.endswith(".py"):
            continue
        h.update(name.encode())
        try:
            h.update((Path(top.strip()) / name).read_bytes())
        except OSError:
            pass
    dirty = bool(diff.strip()) or any(n.endswith(".py") for n in untracked)
    return f"git:{head.strip()}" + (f"+dirty.{h.hexdigest()[:12]}" if dirty else "")


_FILE_DIGESTS: dict[tuple[str, float, int], str] = {}


def file_digest(path: str | Path) -> str:
    """sha256 of a file, or of a folder's files (names and contents, sorted); cached by (path, mtime, size)."""
    p = Path(path).expanduser()
    if p.is_dir():
        h = hashlib.sha256()
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(str(f.relative_to(p)).encode())
            h.update(file_digest(f).encode())
        return h.hexdigest()
    st = p.stat()
    key = (str(p.resolve()), st.st_mtime, st.st_size)
    if key not in _FILE_DIGESTS:
        _FILE_DIGESTS[key] = models.sha256_file(p)
    return _FILE_DIGESTS[key]


def weight_set_digest(name: str) -> str:
    """The pinned sha256 of a catalog weight set (:mod:`tokcom.models`) when it is cached, else ``absent``."""
    ws = models.WEIGHTS.get(name)
    if not models.is_cached(name):
        return ABSENT
    return ws.sha256 or file_digest(models.weights_path(name))


def metric_weights(names: Iterable[str] | None) -> dict[str, str]:
    """``{weight set: sha256}`` of the metrics ``names`` (default metrics when None)."""
    out: dict[str, str] = {}
    for n in list(names) if names is not None else default_metrics():
        try:
            cls = METRICS.get(n)
        except UnknownNameError:  # unknown metric: the run reports it
            continue
        for w in _metric_weight_names(cls):
            out[w] = weight_set_digest(w)
    return out


def _metric_weight_names(cls: Any) -> tuple[str, ...]:
    """A metric's weight sets: its ``weight_sets`` class attribute, else its ``weights`` (one name)."""
    sets = getattr(cls, "weight_sets", None)
    if sets:
        return tuple(str(x) for x in sets)
    w = getattr(cls, "weights", None)
    return (w,) if isinstance(w, str) else ()


def provenance(scheme: Any, metrics: Iterable[str] | None) -> dict[str, Any]:
    """``{"code": code_version(), "weights": {...}}`` for ``scheme`` (a Scheme) and the metric names."""
    weights = dict(sorted({**scheme.weights(), **metric_weights(metrics)}.items()))
    return {"code": code_version(), "weights": weights}


def differs(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """What differs between two provenance records, in words (empty when they agree)."""
    out = []
    if a.get("code") != b.get("code"):
        out.append(f"code {a.get('code')} vs {b.get('code')}")
    wa, wb = dict(a.get("weights") or {}), dict(b.get("weights") or {})
    for k in sorted(set(wa) | set(wb)):
        if wa.get(k) != wb.get(k):
            out.append(f"weights {k} {str(wa.get(k))[:12]} vs {str(wb.get(k))[:12]}")
    return out


def tokenizer_digest(name: str) -> str:
    """sha256 of a registered tokenizer's weights: the digest recorded beside a shipped tokenizer, or of a
    Cosmos tokenizer's local folder; ``absent`` when there are none here."""
    entry = TOKENIZERS.get(name)
    if entry.source == "cosmos":
        from tokcom.tokenizers.cosmos import cosmos_dir

        tail = entry.spec.name.split("-", 1)[1]  # "dv4x8x8" → Cosmos id "DV4x8x8"
        d = cosmos_dir(tail[:2].upper() + tail[2:])
        files = [d / "encoder.jit", d / "decoder.jit"]
        return file_digest(d) if all(f.is_file() for f in files) else ABSENT
    try:
        return str(read_config(name)["sha256"])
    except Exception:  # noqa: BLE001 - no shipped weights (a user's build): they are absent
        return ABSENT


def clip_digests(model: str) -> dict[str, str]:
    """The CLIP weights a text intent uses: a catalog weight set (+ the BPE vocabulary) or a folder."""
    if model in WEIGHTS.list():
        return {model: weight_set_digest(model), "clip-bpe": weight_set_digest("clip-bpe")}
    p = Path(model).expanduser()
    return {str(p): file_digest(p) if p.exists() else ABSENT}
