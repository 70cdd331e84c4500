"""Reading the corpus: items, memory-mapped arrays, random training crops, totals.

::

    corpus = tokcom.data.Corpus()                       # $TOKCOM_HOME/corpus
    clip = corpus.sample_clip(np.random.default_rng(0), frames=16, crop=128)   # [16, 128, 128, 3] uint8
    a = corpus.array(corpus.videos[0])                  # np.memmap [t, h, w, 3] uint8 (first chunk)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tokcom.data.store import Item, Manifest, corpus_root, load_manifest
from tokcom.errors import InputError

__all__ = ["Corpus", "CorpusTotals"]


@dataclass(frozen=True)
class CorpusTotals:
    """What the corpus holds.

    Attributes:
        video_minutes: minutes of stored video (natural + animation).
        natural_minutes, animation_minutes: the two parts.
        clips: number of video items; video_frames: their stored frames.
        photos: number of photos.
        sources: distinct sources with at least one item; video_sources / photo_sources likewise.
        bytes_on_disk: size of the stored files (manifest and licences excluded).
        incomplete_sources: sources recorded as missing or partial by the last fetch.
    """

    video_minutes: float
    natural_minutes: float
    animation_minutes: float
    clips: int
    video_frames: int
    photos: int
    sources: int
    video_sources: int
    photo_sources: int
    bytes_on_disk: int
    incomplete_sources: tuple[str, ...] = ()


class Corpus:
    """The stored corpus under ``root`` (default ``$TOKCOM_HOME/corpus``).

    Args:
        root: corpus folder.
        kinds: keep only these kinds (``video``, ``animation``, ``photo``).
        sources: keep only these sources.

    Raises:
        InputError: no manifest under ``root`` (the message names the fetch command).
    """

    def __init__(self, root: str | os.PathLike | None = None, *, kinds: tuple[str, ...] | None = None,
                 sources: tuple[str, ...] | None = None) -> None:
        self.root = corpus_root(root)
        if not (self.root / "manifest.json").is_file():
            raise InputError(f"no corpus at {self.root}; run: tokcom data fetch")
        self.manifest: Manifest = load_manifest(self.root)
        items = list(self.manifest.items.values())
        if kinds:
            items = [i for i in items if i.kind in kinds]
        if sources:
            items = [i for i in items if i.source in sources]
        self.items: tuple[Item, ...] = tuple(items)
        self._maps: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"Corpus({str(self.root)!r}, {len(self.videos)} clips, {len(self.photos)} photos)"

    @property
    def videos(self) -> tuple[Item, ...]:
        """Video items (natural and animation)."""
        return tuple(i for i in self.items if i.is_video)

    @property
    def photos(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.kind == "photo")

    def get(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise InputError(f"no corpus item {item_id!r} (tokcom data list --json lists them)")

    # ------------------------------------------------------------------ arrays
    def path(self, item: Item, chunk: int = 0) -> Path:
        if not 0 <= chunk < len(item.files):
            raise InputError(f"{item.id} has {len(item.files)} chunk(s); asked for chunk {chunk}")
        return self.root / item.files[chunk]

    def array(self, item: Item, chunk: int = 0) -> np.ndarray:
        """Chunk ``chunk`` of a video item, memory-mapped read-only: ``[t, h, w, 3]`` uint8 RGB."""
        if not item.is_video:
            raise InputError(f"{item.id} is a photo; use Corpus.photo")
        p = self.path(item, chunk)
        key = str(p)
        if key not in self._maps:
            try:
                self._maps[key] = np.load(p, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as e:
                raise InputError(f"cannot read {p}: {e}; re-run tokcom data fetch") from None
        return self._maps[key]

    def frames(self, item: Item) -> np.ndarray:
        """All frames of a video item in memory: ``[T, h, w, 3]`` uint8 RGB."""
        return np.concatenate([np.asarray(self.array(item, k)) for k in range(len(item.files))])

    def photo(self, item: Item) -> np.ndarray:
        """A photo item: ``[h, w, 3]`` uint8 RGB."""
        import cv2

        if item.kind != "photo":
            raise InputError(f"{item.id} is a video; use Corpus.array")
        p = self.path(item)
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is None:
            raise InputError(f"cannot read {p}; re-run tokcom data fetch")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    # ------------------------------------------------------------------ sampling
    def sample_clip(self, rng: np.random.Generator, frames: int, crop: int) -> np.ndarray:
        """A random ``[frames, crop, crop, 3]`` uint8 crop of a random video.

        Every valid (chunk, start) pair is equally likely, so a video is drawn with probability proportional
        to its length; the spatial offset is uniform. A clip lies inside one stored chunk.

        Raises:
            InputError: no stored chunk has ≥ ``frames`` frames and a shorter side ≥ ``crop``.
        """
        segs, cum = self._segments(int(frames), int(crop))
        k = int(np.searchsorted(cum, rng.integers(cum[-1]), side="right"))
        item, chunk, n = segs[k]
        a = self.array(item, chunk)
        t0 = int(rng.integers(n - frames + 1))
        y = int(rng.integers(a.shape[1] - crop + 1))
        x = int(rng.integers(a.shape[2] - crop + 1))
        return np.ascontiguousarray(a[t0:t0 + frames, y:y + crop, x:x + crop])

    def _segments(self, frames: int, crop: int) -> tuple[list[tuple[Item, int, int]], np.ndarray]:
        if frames < 1 or crop < 1:
            raise InputError(f"frames and crop must be ≥ 1; got frames={frames}, crop={crop}")
        key = (frames, crop)
        cache = self._segment_cache
        if key not in cache:
            segs = [(i, k, n) for i in self.videos if min(i.width, i.height) >= crop
                    for k, n in enumerate(i.chunk_frames) if n >= frames]
            if not segs:
                raise InputError(f"no stored video chunk has ≥ {frames} frames and a shorter side ≥ {crop} px")
            cache[key] = (segs, np.cumsum([n - frames + 1 for _, _, n in segs]))
        return cache[key]

    @cached_property
    def _segment_cache(self) -> dict:
        return {}

    # ------------------------------------------------------------------ totals
    def totals(self) -> CorpusTotals:
        vids = self.videos
        nat = sum(i.seconds for i in vids if i.kind == "video") / 60
        ani = sum(i.seconds for i in vids if i.kind == "animation") / 60
        size = 0
        for i in self.items:
            for f in i.files:
                try:
                    size += (self.root / f).stat().st_size
                except OSError:
                    pass
        bad = tuple(n for n, r in self.manifest.sources.items() if r.status in ("missing", "partial", "failed"))
        return CorpusTotals(
            video_minutes=nat + ani, natural_minutes=nat, animation_minutes=ani, clips=len(vids),
            video_frames=sum(i.frames for i in vids), photos=len(self.photos),
            sources=len({i.source for i in self.items}), video_sources=len({i.source for i in vids}),
            photo_sources=len({i.source for i in self.photos}), bytes_on_disk=size, incomplete_sources=bad)
