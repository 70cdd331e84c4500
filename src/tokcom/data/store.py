"""The corpus cache on disk: layout, manifest records, atomic writes.

Layout (``root`` defaults to ``$TOKCOM_HOME/corpus``, see :func:`tokcom.models.cache_dir`)::

    root/manifest.json                          what is here, where it came from (Manifest)
    root/videos/<source>/<slug>.<k>.npy         uint8 [T, H, W, 3] RGB, T ≤ chunk frames, memory-mappable
    root/photos/<source>/<slug>.png             RGB photo, shorter side ≤ photo max side
    root/licences/<source>/...                  the packages' copyright / LICENSE files, kept as shipped

Every file is written to a temporary name in the same folder and renamed into place, so an interrupted
fetch never leaves a half-written file under a final name; the manifest is rewritten the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tokcom import models
from tokcom.errors import InputError

__all__ = [
    "MANIFEST",
    "Item",
    "Manifest",
    "SourceRecord",
    "atomic_write_bytes",
    "corpus_root",
    "load_manifest",
    "save_manifest",
    "sha256_bytes",
    "sha256_file",
    "slug",
]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def corpus_root(root: str | os.PathLike | None = None) -> Path:
    """``root`` when given, else ``$TOKCOM_HOME/corpus`` (``~/.cache/tokcom/corpus``)."""
    if root is not None:
        return Path(root).expanduser()
    return models.cache_dir() / "corpus"


@dataclass(frozen=True)
class Item:
    """One clip or photo of the corpus (one manifest record).

    Attributes:
        id: unique ``<source>/<slug>``.
        source: catalog source name.
        kind: ``video`` | ``animation`` | ``photo``.
        package, registry, version: where the original came from (version as fetched).
        member: path of the original inside the package (``OUTER!INNER`` inside a .zip/.rcc; for an image
            sequence the folder, with ``/*`` and the first frame's suffix).
        licence: licence of the original.
        sha256: sha256 of the original file (of an image sequence: of the newline-joined
            ``<sha256>  <name>`` lines of its frames, sorted by name).
        original_bytes: size of the original file(s).
        original_width, original_height: pixels of the original.
        original_frames: decoded frames of the original (1 for a photo).
        fps: frames per second of the original (None for a photo; nominal for a sequence).
        files: stored files, relative to the corpus root (video chunks in order).
        chunk_frames: frames in each stored file (``(1,)`` for a photo).
        width, height: stored pixels.
        max_side: the shorter-side limit the item was stored with.
        colour: False when the original is grey (stored as three equal channels).
        note: what went wrong but was tolerated (e.g. a stream that stops decoding early), else "".
    """

    id: str
    source: str
    kind: str
    package: str
    registry: str
    version: str
    member: str
    licence: str
    sha256: str
    original_bytes: int
    original_width: int
    original_height: int
    original_frames: int
    fps: float | None
    files: tuple[str, ...]
    chunk_frames: tuple[int, ...]
    width: int
    height: int
    max_side: int
    colour: bool = True
    note: str = ""

    @property
    def frames(self) -> int:
        """Stored frames (sum over chunks)."""
        return int(sum(self.chunk_frames))

    @property
    def seconds(self) -> float:
        """Duration of the stored clip in seconds (0 for a photo)."""
        return self.frames / self.fps if self.fps else 0.0

    @property
    def is_video(self) -> bool:
        return self.kind in ("video", "animation")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["files"] = list(self.files)
        d["chunk_frames"] = list(self.chunk_frames)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Item:
        names = {f.name for f in fields(cls)}
        try:
            kw = {k: v for k, v in d.items() if k in names}
            kw["files"] = tuple(kw["files"])
            kw["chunk_frames"] = tuple(int(x) for x in kw["chunk_frames"])
            return cls(**kw)
        except (KeyError, TypeError) as e:
            raise InputError(f"corrupt corpus manifest: item {d.get('id', '?')!r} lacks a field ({e})") from None


@dataclass(frozen=True)
class SourceRecord:
    """Fetch status of one source.

    Attributes:
        name: catalog source name.
        package: ``registry:name@version`` as declared.
        status: ``ok`` (every pick done), ``missing`` (the package could not be fetched), ``failed``
            (fetched, but processing stopped with ``error``) or ``skipped`` (local folder absent).
        version: the version actually fetched ("" when none).
        error: one line, "" when ok.
        items: number of items stored from this source.
        licence_files: kept licence files, relative to the corpus root.
    """

    name: str
    package: str
    status: str
    version: str = ""
    error: str = ""
    items: int = 0
    licence_files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["licence_files"] = list(self.licence_files)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SourceRecord:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["licence_files"] = tuple(kw.get("licence_files", ()))
        return cls(**kw)


@dataclass
class Manifest:
    """The whole manifest (mutable while a fetch runs; written atomically).

    Attributes:
        items: stored items by id, in fetch order.
        sources: fetch status by source name.
        excluded: members left out on purpose: ``{"source", "member", "reason"}``.
        duplicates: members whose content is already stored: ``{"source", "member", "same_as"}``.
        params: the storage parameters of the last fetch (max_side, photo_max_side, chunk_frames).
    """

    items: dict[str, Item] = field(default_factory=dict)
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    excluded: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "params": self.params,
            "sources": {k: v.to_json() for k, v in self.sources.items()},
            "items": [i.to_json() for i in self.items.values()],
            "excluded": self.excluded,
            "duplicates": self.duplicates,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Manifest:
        if not isinstance(d, dict) or d.get("format") != FORMAT_VERSION:
            raise InputError(f"corpus manifest has an unknown format (expected format {FORMAT_VERSION})")
        items = [Item.from_json(x) for x in d.get("items", [])]
        return cls(
            items={i.id: i for i in items},
            sources={k: SourceRecord.from_json(v) for k, v in d.get("sources", {}).items()},
            excluded=list(d.get("excluded", [])),
            duplicates=list(d.get("duplicates", [])),
            params=dict(d.get("params", {})),
        )

    def by_sha256(self) -> dict[str, str]:
        return {i.sha256: i.id for i in self.items.values()}


def load_manifest(root: str | os.PathLike) -> Manifest:
    """The manifest under ``root``; an empty one when there is none yet.

    Raises:
        InputError: the file exists but is not a readable manifest.
    """
    p = Path(root) / MANIFEST
    if not p.is_file():
        return Manifest()
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read corpus manifest {p}: {e}; delete it to start over") from None
    return Manifest.from_json(d)


def save_manifest(root: str | os.PathLike, manifest: Manifest) -> Path:
    p = Path(root) / MANIFEST
    atomic_write_bytes(p, json.dumps(manifest.to_json(), indent=1, ensure_ascii=False).encode("utf-8"))
    return p


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write(path: str | os.PathLike, writer) -> Path:
    """Call ``writer(binary file)`` on a temporary file next to ``path``, then rename it into place."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a cache file should look like any other
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def sha256_file(p: str | os.PathLike) -> str:
    return models.sha256_file(p)


def slug(text: str, taken: Iterable[str] = ()) -> str:
    """A file-name-safe slug of ``text`` (``[A-Za-z0-9._-]``), made unique against ``taken``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "item"
    s = s[:80]
    taken = set(taken)
    out, k = s, 2
    while out in taken:
        out, k = f"{s}_{k}", k + 1
    return out
