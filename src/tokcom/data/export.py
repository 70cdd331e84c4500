"""Export the corpus (or a slice) as ``.npz`` shards of bounded size plus a JSON index.

Meant for a machine without PyAV/OpenCV (a GPU box): numpy alone reads the shards. Each array is one clip
``[T, h, w, 3]`` uint8 (shorter side ≤ ``size``; ``T = frames`` when given, else a whole stored chunk,
split so that it fits a shard) or one photo ``[h, w, 3]`` uint8. Pieces are shuffled with ``seed`` before
packing, so any single shard is a sample of the whole corpus. Shards are uncompressed ``np.savez`` files
(fast to load, size known before writing), each at most ``max_mib`` MiB::

    out/index.json          {"format", "size", "frames", "shards": [{"file", "bytes", "arrays": [...]}], ...}
    out/shard-00000.npz     keys a000000, a000001, ... (metadata of each key in the index)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tokcom.data.corpus import Corpus
from tokcom.data.media import target_size
from tokcom.data.store import Item, atomic_write, atomic_write_bytes
from tokcom.errors import InputError

__all__ = ["ExportReport", "export_corpus", "iter_export"]

INDEX = "index.json"
_ENTRY_OVERHEAD = 1024     # npy header + zip local header + central directory entry, generous
_SHARD_OVERHEAD = 4096


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote.

    Attributes:
        out: the folder.
        shards: number of ``.npz`` files; arrays: clips and photos in them.
        bytes: total size of the shards.
        largest_bytes: size of the largest shard (≤ the limit).
        index: path of ``index.json``.
    """

    out: Path
    shards: int
    arrays: int
    bytes: int
    largest_bytes: int
    index: Path


@dataclass(frozen=True)
class _Piece:
    item: Item
    chunk: int          # -1 for a photo
    start: int
    frames: int
    size: tuple[int, int]  # (w, h) after resizing

    @property
    def nbytes(self) -> int:
        return max(1, self.frames) * self.size[0] * self.size[1] * 3


def _pieces(corpus: Corpus, frames: int | None, size: int, limit: int, photos: bool) -> list[_Piece]:
    out: list[_Piece] = []
    for item in corpus.videos:
        wh = target_size(item.width, item.height, size)
        frame_bytes = wh[0] * wh[1] * 3
        cap = (limit - _SHARD_OVERHEAD - _ENTRY_OVERHEAD) // frame_bytes
        if cap < 1 or (frames is not None and frames > cap):
            need = (frames or 1) * frame_bytes / 2**20
            raise InputError(f"a clip of {frames or 1} frame(s) of {item.id} at --size {size} is {need:.1f} MiB, "
                             f"over --max-mib; lower --frames or --size")
        for k, n in enumerate(item.chunk_frames):
            if frames is not None:
                out.extend(_Piece(item, k, s, frames, wh) for s in range(0, n - frames + 1, frames))
            else:
                out.extend(_Piece(item, k, s, min(cap, n - s), wh) for s in range(0, n, cap))
    if photos:
        for item in corpus.photos:
            out.append(_Piece(item, -1, 0, 0, target_size(item.width, item.height, size)))
    return out


def _render(corpus: Corpus, p: _Piece) -> np.ndarray:
    import cv2

    if p.chunk < 0:
        img = corpus.photo(p.item)
        if (img.shape[1], img.shape[0]) != p.size:
            img = cv2.resize(img, p.size, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(img)
    a = corpus.array(p.item, p.chunk)[p.start:p.start + p.frames]
    if (a.shape[2], a.shape[1]) == p.size:
        return np.ascontiguousarray(a)
    return np.stack([cv2.resize(np.asarray(f), p.size, interpolation=cv2.INTER_AREA) for f in a])


def export_corpus(
    corpus: Corpus,
    out: str | os.PathLike,
    *,
    max_mib: float = 60.0,
    frames: int | None = None,
    size: int = 128,
    photos: bool = True,
    seed: int = 0,
    max_shards: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExportReport:
    """Write ``corpus`` to ``out`` as shards of at most ``max_mib`` MiB each and an ``index.json``.

    Args:
        corpus: what to export (a :class:`Corpus`, possibly filtered by kind/source).
        out: output folder (created; existing shards of an earlier export are replaced).
        max_mib: size limit of one shard file in MiB.
        frames: clip length; videos are cut into non-overlapping clips of this many frames (the tail that
            does not fill a clip is dropped). None: whole stored chunks, split to fit a shard.
        size: the shorter side of exported frames and photos is at most this many pixels.
        photos: include the photos.
        seed: shuffles the pieces before packing.
        max_shards: stop after this many shards (a slice of the shuffled corpus).
        progress: called with one line per shard.

    Raises:
        InputError: bad limits, or one clip alone would exceed ``max_mib``.
    """
    if max_mib <= 0 or size < 8 or (frames is not None and frames < 1) or (max_shards is not None and max_shards < 1):
        raise InputError("export needs --max-mib > 0, --size ≥ 8, --frames ≥ 1 and --max-shards ≥ 1")
    limit = int(max_mib * 2**20)
    pieces = _pieces(corpus, frames, size, limit, photos)
    if not pieces:
        raise InputError("nothing to export: no clip is long enough for --frames and no photo is selected")
    order = np.random.default_rng(seed).permutation(len(pieces))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("shard-*.npz"):
        old.unlink()
    shards: list[dict[str, Any]] = []
    buf: dict[str, np.ndarray] = {}
    meta: list[dict[str, Any]] = []
    used = _SHARD_OVERHEAD
    report = progress or (lambda _m: None)

    def flush() -> None:
        nonlocal buf, meta, used
        if not buf:
            return
        name = f"shard-{len(shards):05d}.npz"
        p = atomic_write(out / name, lambda f: np.savez(f, **buf))
        nbytes = p.stat().st_size
        if nbytes > limit:  # the estimate is conservative; this would be a bug
            raise InputError(f"{name} is {nbytes} bytes, over the {limit}-byte limit")
        shards.append({"file": name, "bytes": nbytes, "arrays": meta})
        report(f"{name}: {len(buf)} arrays, {nbytes / 2**20:.1f} MiB")
        buf, meta, used = {}, [], _SHARD_OVERHEAD

    for n, j in enumerate(order):
        p = pieces[int(j)]
        need = p.nbytes + _ENTRY_OVERHEAD
        if used + need > limit:
            flush()
            if max_shards is not None and len(shards) >= max_shards:
                break
        arr = _render(corpus, p)
        key = f"a{n:06d}"
        buf[key] = arr
        it = p.item
        meta.append({"key": key, "id": it.id, "source": it.source, "kind": it.kind, "licence": it.licence,
                     "chunk": p.chunk, "start": p.start, "shape": list(arr.shape), "fps": it.fps})
        used += arr.nbytes + _ENTRY_OVERHEAD
    if max_shards is None or len(shards) < max_shards:
        flush()
    n_arrays = sum(len(s["arrays"]) for s in shards)
    index = {"format": 1, "size": size, "frames": frames, "max_mib": max_mib, "seed": seed,
             "corpus": str(corpus.root), "arrays": n_arrays, "shards": shards}
    ip = atomic_write_bytes(out / INDEX, json.dumps(index, indent=1).encode("utf-8"))
    total = sum(s["bytes"] for s in shards)
    return ExportReport(out, len(shards), n_arrays, total, max((s["bytes"] for s in shards), default=0), ip)


def iter_export(folder: str | os.PathLike) -> Iterator[tuple[dict[str, Any], np.ndarray]]:
    """``(metadata, array)`` for every array of an export, shard by shard (numpy only)."""
    folder = Path(folder)
    try:
        index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"no readable export index in {folder}: {e}") from None
    for shard in index.get("shards", []):
        with np.load(folder / shard["file"], allow_pickle=False) as z:
            for m in shard["arrays"]:
                yield m, z[m["key"]]
