"""``fetch_corpus``: fetch the catalog's packages, pick their members, store them downscaled, keep a manifest.

::

    catalog Source ──► Fetcher.fetch ──► extracted package ──► members matching each Pick
        ──► held-out / --exclude / duplicate (sha256) checks ──► decode (PyAV / OpenCV), INTER_AREA resize
        ──► videos/<source>/<slug>.<k>.npy  |  photos/<source>/<slug>.png  ──► manifest.json (atomic)

Idempotent and resumable: a source whose record says ``ok`` with the same storage parameters and whose
files are all present is skipped without downloading; inside a source, an item already stored with the
same sha256 and size limit is kept. A source that cannot be fetched is recorded as ``missing`` and the
others go on; the report says which (the CLI turns that into a one-line error and exit code 2).
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tokcom.data.fetch import (
    FetchedPackage,
    Fetcher,
    RegistryFetcher,
    SourceSkipped,
    SourceUnavailable,
    default_local_dir,
)
from tokcom.data.media import SEP, Member, decode_image, decode_sequence, decode_video, list_members
from tokcom.data.sources import HELD_OUT, SOURCES, Pick, Source, get_source
from tokcom.data.store import (
    Item,
    Manifest,
    SourceRecord,
    atomic_write,
    atomic_write_bytes,
    corpus_root,
    load_manifest,
    save_manifest,
    sha256_bytes,
    sha256_file,
)
from tokcom.errors import InputError

__all__ = ["FetchOptions", "FetchReport", "fetch_corpus"]

_LICENCE_NAME = re.compile(r"^(licen[cs]e|copying|copyright|notice|authors)([._-].*)?$", re.IGNORECASE)
_LICENCE_MAX_BYTES = 512 << 10
_LICENCE_MAX_FILES = 60


@dataclass(frozen=True)
class FetchOptions:
    """How the corpus is stored.

    Attributes:
        max_side: videos: the shorter side of stored frames is at most this many pixels.
        photo_max_side: photos: the shorter side is at most this many pixels.
        chunk_frames: videos are stored in ``.npy`` chunks of at most this many frames.
        exclude: file-name globs (case-insensitive) never admitted, besides :data:`HELD_OUT`.
        threads: decoder threads per video (1: stay polite on a shared machine).
    """

    max_side: int = 256
    photo_max_side: int = 512
    chunk_frames: int = 600
    exclude: tuple[str, ...] = ()
    threads: int = 1

    def __post_init__(self) -> None:
        if self.max_side < 8 or self.photo_max_side < 8:
            raise InputError(f"--max-side must be ≥ 8; got {min(self.max_side, self.photo_max_side)}")
        if self.chunk_frames < 1:
            raise InputError(f"--chunk-frames must be ≥ 1; got {self.chunk_frames}")
        object.__setattr__(self, "exclude", tuple(str(e) for e in self.exclude if str(e).strip()))

    def side_for(self, kind: str) -> int:
        return self.photo_max_side if kind == "photo" else self.max_side


@dataclass(frozen=True)
class FetchReport:
    """What a fetch did.

    Attributes:
        root: the corpus folder.
        added: items stored by this run.
        cached: items found already stored.
        removed: items dropped (excluded now, or gone from their package).
        problems: ``(source, one-line error)`` for sources ``missing`` or ``partial``.
        skipped: ``(source, reason)`` for optional sources absent here.
        elapsed_s: wall time.
    """

    root: Path
    added: int
    cached: int
    removed: int
    problems: tuple[tuple[str, str], ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def error_line(self) -> str:
        """One line naming what is missing (empty when nothing is)."""
        if not self.problems:
            return ""
        what = "; ".join(f"{n}: {e}" for n, e in self.problems)
        return (f"{len(self.problems)} corpus source(s) incomplete: {what} — kept the rest in {self.root}; "
                f"re-run tokcom data fetch to resume")


@dataclass
class _Run:
    root: Path
    opts: FetchOptions
    manifest: Manifest
    progress: Callable[[str], None]
    held_out_sha: dict[str, str] = field(default_factory=dict)
    added: int = 0
    cached: int = 0
    removed: int = 0
    last_save: float = 0.0

    def save(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_save > 5.0:
            save_manifest(self.root, self.manifest)
            self.last_save = now


def fetch_corpus(
    root: str | Path | None = None,
    *,
    only: tuple[str, ...] | list[str] = (),
    options: FetchOptions | None = None,
    fetcher: Fetcher | None = None,
    local_dir: str | Path | None = None,
    downloads: str | Path | None = None,
    keep_downloads: bool = False,
    sources: tuple[Source, ...] = SOURCES,
    progress: Callable[[str], None] | None = None,
) -> FetchReport:
    """Fetch the corpus (or the sources in ``only``) into ``root`` (default ``$TOKCOM_HOME/corpus``).

    Args:
        root: corpus folder.
        only: source names to fetch (default: all).
        options: storage parameters and exclusions.
        fetcher: registry client (default :class:`RegistryFetcher`); tests pass a fake one.
        local_dir: folder of the ``local`` source (default ``../shared/data``).
        downloads: folder for downloaded archives, reused when present (default ``root/downloads``,
            emptied per source after it is stored unless ``keep_downloads``; a given folder is kept).
        keep_downloads: keep the archives in the default downloads folder.
        sources: the catalog (tests pass their own).
        progress: called with one line per step.

    Returns:
        FetchReport; ``report.ok`` is False when a source could not be fetched (the rest is kept).

    Raises:
        InputError: an unknown source name, bad options, or an unreadable manifest.
        UnknownNameError: a name in ``only`` is not in the catalog.
    """
    t0 = time.monotonic()
    opts = options or FetchOptions()
    root = corpus_root(root)
    selected = [get_source(n, sources) for n in dict.fromkeys(only)] if only else list(sources)
    root.mkdir(parents=True, exist_ok=True)
    local = Path(local_dir) if local_dir is not None else default_local_dir()
    own_downloads = downloads is None
    dl = Path(downloads) if downloads is not None else root / "downloads"
    fetcher = fetcher or RegistryFetcher(dl, local)
    run = _Run(root, opts, load_manifest(root), progress or (lambda _m: None))
    run.manifest.params = {"max_side": opts.max_side, "photo_max_side": opts.photo_max_side,
                           "chunk_frames": opts.chunk_frames}
    for name in HELD_OUT:
        p = local / name
        if p.is_file():
            run.held_out_sha[sha256_file(p)] = name
    _drop_excluded(run)
    problems: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for src in selected:
        if _source_done(run, src):
            n = sum(1 for i in run.manifest.items.values() if i.source == src.name)
            run.cached += n
            run.progress(f"{src.name}: cached ({n} items)")
            continue
        work = root / ".work" / src.name
        rec_pkg = src.package.describe()
        try:
            run.progress(f"{src.name}: fetching {rec_pkg}")
            work.mkdir(parents=True, exist_ok=True)
            pkg = fetcher.fetch(src.package, work)
        except SourceSkipped as e:
            run.manifest.sources[src.name] = SourceRecord(src.name, rec_pkg, "skipped", error=str(e))
            skipped.append((src.name, str(e)))
            run.progress(f"{src.name}: skipped ({e})")
            shutil.rmtree(work, ignore_errors=True)
            continue
        except SourceUnavailable as e:
            msg = " ".join(str(e).split())
            old = run.manifest.sources.get(src.name)
            run.manifest.sources[src.name] = SourceRecord(
                src.name, rec_pkg, "missing", old.version if old else "", msg,
                sum(1 for i in run.manifest.items.values() if i.source == src.name),
                old.licence_files if old else ())
            problems.append((src.name, msg))
            run.progress(f"{src.name}: MISSING ({msg})")
            run.save(force=True)
            shutil.rmtree(work, ignore_errors=True)
            continue
        try:
            rec = _process_source(run, src, pkg)
        finally:
            run.save(force=True)
            if pkg.owned:
                shutil.rmtree(work, ignore_errors=True)
        if rec.status != "ok":
            problems.append((src.name, rec.error))
        elif own_downloads and not keep_downloads and pkg.archive is not None:
            pkg.archive.unlink(missing_ok=True)
    shutil.rmtree(root / ".work", ignore_errors=True)
    if own_downloads and not keep_downloads and dl.is_dir() and not any(p.is_file() for p in dl.rglob("*")):
        shutil.rmtree(dl, ignore_errors=True)
    run.save(force=True)
    return FetchReport(root, run.added, run.cached, run.removed, tuple(problems), tuple(skipped),
                       time.monotonic() - t0)


# --------------------------------------------------------------------------------------------- exclusion
def _match_exclude(names: list[str], opts: FetchOptions) -> str | None:
    """The held-out name or ``--exclude`` glob that one of ``names`` matches, else None. Case-insensitive;
    a pattern also matches a name without its suffix (``bikes`` matches ``bikes.mp4``)."""
    for pat in (*HELD_OUT, *opts.exclude):
        p = pat.lower()
        for n in names:
            n = n.lower()
            if fnmatch.fnmatchcase(n, p) or fnmatch.fnmatchcase(n.rsplit(".", 1)[0], p):
                return pat
    return None


def _names_of_member(member: str) -> list[str]:
    inner = member.rsplit(SEP, 1)[-1]
    parts = [p for p in inner.split("/") if p and p != "*"]
    return [parts[-1]] if parts else [inner]


def _drop_excluded(run: _Run) -> None:
    """Remove stored items that an exclusion now covers (their files too)."""
    for item in list(run.manifest.items.values()):
        names = _names_of_member(item.member) + [Path(f).name for f in item.files]
        pat = _match_exclude(names, run.opts)
        if pat is None and item.sha256 in run.held_out_sha:
            pat = run.held_out_sha[item.sha256]
        if pat is not None:
            _remove_item(run, item)
            _note_excluded(run, item.source, item.member, f"excluded ({pat})", pat)


def _note_excluded(run: _Run, source: str, member: str, reason: str, pattern: str = "") -> None:
    ex = [e for e in run.manifest.excluded if not (e.get("source") == source and e.get("member") == member)]
    ex.append({"source": source, "member": member, "reason": reason, "pattern": pattern})
    run.manifest.excluded = ex


def _remove_item(run: _Run, item: Item) -> None:
    for f in item.files:
        (run.root / f).unlink(missing_ok=True)
    run.manifest.items.pop(item.id, None)
    run.removed += 1


def _source_done(run: _Run, src: Source) -> bool:
    rec = run.manifest.sources.get(src.name)
    if rec is None or rec.status not in ("ok", "skipped"):
        return False
    if rec.status == "skipped":
        return False  # the local folder may exist now
    lifted = [e for e in run.manifest.excluded if e.get("source") == src.name and e.get("pattern")
              and e["pattern"] not in (*HELD_OUT, *run.opts.exclude)]
    if lifted:
        return False
    for item in run.manifest.items.values():
        if item.source != src.name:
            continue
        if item.max_side != run.opts.side_for(item.kind) or (
                item.is_video and max(item.chunk_frames) > run.opts.chunk_frames):
            return False
        if not all((run.root / f).is_file() for f in item.files):
            return False
    return True


# --------------------------------------------------------------------------------------------- one source
@dataclass(frozen=True)
class _Unit:
    """One future item: a file, or an image sequence (a folder of frames)."""

    pick: Pick
    path: str               # member path, or "<folder>/*<suffix>" for a sequence
    members: tuple[Member, ...]


def _units(src: Source, members: list[Member]) -> tuple[list[_Unit], list[str]]:
    units: list[_Unit] = []
    unmatched: list[str] = []
    for pick in src.picks:
        for pat in pick.patterns:
            if not any(fnmatch.fnmatchcase(m.path, pat) for m in members):
                unmatched.append(pat)
        hits = [m for m in members if pick.matches(m.path)]
        if pick.sequence:
            groups: dict[str, list[Member]] = {}
            for m in hits:
                groups.setdefault(m.path.rsplit("/", 1)[0], []).append(m)
            for folder, ms in groups.items():
                ms.sort(key=lambda m: m.path)
                suffix = Path(ms[0].name).suffix
                units.append(_Unit(pick, f"{folder}/*{suffix}", tuple(ms)))
        else:
            units.extend(_Unit(pick, m.path, (m,)) for m in hits)
    return units, unmatched


def _slugs(paths: list[str]) -> dict[str, str]:
    """Deterministic short unique names: the last path component(s) without suffix."""
    def comps(p: str) -> list[str]:
        cs = [c for c in re.split(r"[/!]", p) if c and c != "*" and not c.startswith("*.")]
        return cs or ["item"]

    def name(p: str, k: int) -> str:
        cs = comps(p)[-k:]
        last = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", cs[-1]) or cs[-1]
        s = "_".join([*cs[:-1], last])
        return re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("._")[-80:] or "item"

    out: dict[str, str] = {}
    left = sorted(set(paths))
    k = 1
    while left:
        if k > 12:
            for p in left:
                out[p] = re.sub(r"[^A-Za-z0-9._-]+", "_", p).strip("._")[-120:]
            break
        cand = {p: name(p, k) for p in left}
        counts: dict[str, int] = {}
        for v in cand.values():
            counts[v] = counts.get(v, 0) + 1
        taken = set(out.values())
        nxt = []
        for p in left:
            if counts[cand[p]] == 1 and cand[p] not in taken:
                out[p] = cand[p]
            else:
                nxt.append(p)
        left, k = nxt, k + 1
    return out


def _process_source(run: _Run, src: Source, pkg: FetchedPackage) -> SourceRecord:
    opts = run.opts
    m = run.manifest
    m.excluded = [e for e in m.excluded if e.get("source") != src.name]  # re-noted below
    m.duplicates = [d for d in m.duplicates if d.get("source") != src.name]
    patterns = tuple(p for pick in src.picks for p in pick.patterns) + src.licence_files
    members = list_members(pkg.root, patterns)
    units, unmatched = _units(src, members)
    slugs = _slugs([u.path for u in units])
    errors: list[str] = [f"nothing matches {p}" for p in unmatched]
    seen_ids: set[str] = set()
    by_sha = run.manifest.by_sha256()
    n_new = 0
    for u in units:
        names = [m.name for m in u.members]
        if u.pick.sequence:
            names.append(u.path.rsplit("/", 2)[-2] if "/" in u.path else u.path)
        pat = _match_exclude(names, opts)
        if pat is not None:
            _note_excluded(run, src.name, u.path, f"excluded ({pat})", pat)
            continue
        item_id = f"{src.name}/{slugs[u.path]}"
        try:
            sha, nbytes = _digest(u)
        except (OSError, InputError) as e:
            errors.append(f"{u.path}: {e}")
            continue
        if sha in run.held_out_sha:
            _note_excluded(run, src.name, u.path, f"held out (same content as {run.held_out_sha[sha]})",
                           run.held_out_sha[sha])
            continue
        other = by_sha.get(sha)
        if other is not None and other != item_id and other in run.manifest.items:
            run.manifest.duplicates = [d for d in run.manifest.duplicates
                                       if not (d["source"] == src.name and d["member"] == u.path)]
            run.manifest.duplicates.append({"source": src.name, "member": u.path, "same_as": other})
            continue
        old = run.manifest.items.get(item_id)
        if old is not None and old.sha256 == sha and old.max_side == opts.side_for(u.pick.kind) and (
                not old.is_video or max(old.chunk_frames) <= opts.chunk_frames) and all(
                (run.root / f).is_file() for f in old.files):
            run.cached += 1
            seen_ids.add(item_id)
            continue
        try:
            item = _store(run, src, pkg, u, item_id, sha, nbytes)
        except InputError as e:
            errors.append(f"{u.path}: {e}")
            continue
        if item is None:
            continue
        if old is not None:
            for f in set(old.files) - set(item.files):
                (run.root / f).unlink(missing_ok=True)
        run.manifest.items[item_id] = item
        by_sha[sha] = item_id
        seen_ids.add(item_id)
        run.added += 1
        n_new += 1
        if item.is_video:
            run.progress(f"{src.name}: {item.id} {item.frames} frames {item.width}x{item.height}"
                         + (f" ({item.note})" if item.note else ""))
        run.save()
    for item in [i for i in run.manifest.items.values() if i.source == src.name and i.id not in seen_ids]:
        _remove_item(run, item)  # no longer produced by this package (catalog or package changed)
    lic = _keep_licences(run, src, members, pkg)
    ours = [i for i in run.manifest.items.values() if i.source == src.name]
    status = "ok" if not errors else "partial"
    error = "; ".join(errors)[:600]
    rec = SourceRecord(src.name, src.package.describe(), status, pkg.version, error, len(ours), lic)
    run.manifest.sources[src.name] = rec
    vids = [i for i in ours if i.is_video]
    run.progress(f"{src.name}: {status}: {len(vids)} clips ({sum(i.seconds for i in vids) / 60:.2f} min), "
                 f"{len(ours) - len(vids)} photos, {n_new} new" + (f" — {error}" if error else ""))
    return rec


def _digest(u: _Unit) -> tuple[str, int]:
    if not u.pick.sequence:
        m = u.members[0]
        if m.file is not None:
            return sha256_file(m.file), m.file.stat().st_size
        data = m.read()
        return sha256_bytes(data), len(data)
    lines, total = [], 0
    for m in u.members:
        if m.file is not None:
            lines.append(f"{sha256_file(m.file)}  {m.name}")
            total += m.file.stat().st_size
        else:
            data = m.read()
            lines.append(f"{sha256_bytes(data)}  {m.name}")
            total += len(data)
    return sha256_bytes("\n".join(sorted(lines, key=lambda s: s.split("  ", 1)[1])).encode()), total


def _store(run: _Run, src: Source, pkg: FetchedPackage, u: _Unit, item_id: str, sha: str,
           nbytes: int) -> Item | None:
    opts = run.opts
    slug = item_id.split("/", 1)[1]
    kind = u.pick.kind
    side = opts.side_for(kind)
    common = {"id": item_id, "source": src.name, "kind": kind, "package": src.package.name,
              "registry": src.package.registry, "version": pkg.version, "member": u.path,
              "licence": u.pick.licence, "sha256": sha, "original_bytes": nbytes, "max_side": side}
    if kind == "photo":
        info = decode_image(u.members[0].read(), max_side=side)
        if min(info.original_width, info.original_height) < u.pick.min_short_side_px:
            _note_excluded(run, src.name, u.path,
                           f"too small ({info.original_width}x{info.original_height} < "
                           f"{u.pick.min_short_side_px} px shorter side)")
            return None
        import cv2

        ok, png = cv2.imencode(".png", cv2.cvtColor(info.rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise InputError("cannot encode PNG")
        rel = f"photos/{src.name}/{slug}.png"
        atomic_write_bytes(run.root / rel, png.tobytes())
        h, w = info.rgb.shape[:2]
        return Item(**common, original_width=info.original_width, original_height=info.original_height,
                    original_frames=1, fps=None, files=(rel,), chunk_frames=(1,), width=w, height=h,
                    colour=info.colour)
    files: list[str] = []
    counts: list[int] = []
    shape: list[tuple[int, int]] = []

    def emit(chunk: np.ndarray) -> None:
        rel = f"videos/{src.name}/{slug}.{len(files):03d}.npy"
        atomic_write(run.root / rel, lambda f: np.save(f, chunk, allow_pickle=False))
        files.append(rel)
        counts.append(int(chunk.shape[0]))
        shape.append((int(chunk.shape[1]), int(chunk.shape[2])))

    if u.pick.sequence:
        info = decode_sequence(list(u.members), side, opts.chunk_frames, u.pick.fps or 25.0, emit)
    else:
        m = u.members[0]
        info = decode_video(m.file if m.file is not None else m.read(), side, opts.chunk_frames, emit,
                            threads=opts.threads)
    h, w = shape[0]
    return Item(**common, original_width=info.original_width, original_height=info.original_height,
                original_frames=info.original_frames, fps=info.fps, files=tuple(files),
                chunk_frames=tuple(counts), width=w, height=h, colour=info.colour, note=info.note)


def _keep_licences(run: _Run, src: Source, members: list[Member], pkg: FetchedPackage) -> tuple[str, ...]:
    """Copy the package's licence files (and the source's extra ones) to ``licences/<source>/``."""
    chosen: list[Member] = []
    for m in members:
        extra = any(fnmatch.fnmatchcase(m.path, p) for p in src.licence_files)
        own = SEP not in m.path and _LICENCE_NAME.match(m.name) is not None and src.package.registry != "local"
        if (extra or own) and m.size_bytes <= _LICENCE_MAX_BYTES:
            chosen.append(m)
    out: list[str] = []
    dest = run.root / "licences" / src.name
    for m in chosen[:_LICENCE_MAX_FILES]:
        rel = re.sub(r"[^A-Za-z0-9._-]+", "_", m.path.replace(SEP, "__").replace("/", "__")).strip("._")
        try:
            atomic_write_bytes(dest / rel, m.read())
        except (OSError, InputError):
            continue
        out.append(f"licences/{src.name}/{rel}")
    return tuple(out)
