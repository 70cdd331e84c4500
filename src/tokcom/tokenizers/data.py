"""Training data for the built-in tokenizers: folders of videos and still images, held in memory.

Clips are sampled with random crops, horizontal flips and random temporal stride from videos, and from
stills by synthetic camera motion (a random per-frame pan, zoom and slight rotation applied by affine
warps); a fraction of the clips contain a scene cut. Everything random comes from an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tokcom.errors import InputError

log = logging.getLogger(__name__)

VIDEO_EXT = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".y4m", ".m4v"}
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


@dataclass(frozen=True)
class DataConfig:
    """Attributes:
    roots: folders (searched recursively) or files.
    max_side: sources are downscaled so that their shorter side is at most this (speed, scale match).
    max_video_frames: frames kept per video (from the start).
    video_prob: probability of drawing a clip from a video (else from a still with synthetic motion).
    exclude: file names never used (the evaluation clip).
    cut_prob: probability that a clip of ≥ 2 frames contains a scene cut (the frames after a random
        position come from another random clip), so that causal groups spanning a cut are seen in training.
    """

    roots: tuple[str, ...]
    max_side: int = 320
    max_video_frames: int = 300
    video_prob: float = 0.5
    exclude: tuple[str, ...] = ("bikes.mp4",)
    cut_prob: float = 0.15


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
    """In-memory sources and a sampler of ``[N, T, H, W, 3]`` uint8 training clips."""

    def __init__(self, cfg: DataConfig) -> None:
        import cv2

        from tokcom.video import read_video

        self.cfg = cfg
        self.videos: list[np.ndarray] = []
        self.images: list[np.ndarray] = []
        files: list[Path] = []
        for r in cfg.roots:
            p = Path(r).expanduser()
            if p.is_dir():
                files += sorted(q for q in p.rglob("*") if q.is_file())
            elif p.is_file():
                files.append(p)
            else:
                raise InputError(f"training data {p}: no such file or folder")
        for f in files:
            if f.name in cfg.exclude:
                continue
            ext = f.suffix.lower()
            if ext in VIDEO_EXT:
                v = read_video(f, frames=None)
                fr = v.frames[: cfg.max_video_frames]
                if len(fr) >= 2:
                    self.videos.append(_shrink(fr, cfg.max_side))
            elif ext in IMAGE_EXT:
                im = cv2.imread(str(f), cv2.IMREAD_COLOR)
                if im is not None and min(im.shape[:2]) >= 64:
                    self.images.append(_shrink(cv2.cvtColor(im, cv2.COLOR_BGR2RGB), cfg.max_side * 2))
        if not self.videos and not self.images:
            raise InputError(f"no videos or images found under {', '.join(cfg.roots)}")
        log.info("training data: %d videos, %d images", len(self.videos), len(self.images))

    def summary(self) -> dict[str, int]:
        return {"videos": len(self.videos), "video_frames": int(sum(len(v) for v in self.videos)),
                "images": len(self.images)}

    def _from_video(self, rng: np.random.Generator, frames: int, crop: int) -> np.ndarray:
        v = self.videos[rng.integers(len(self.videos))]
        n, h, w = v.shape[:3]
        stride = int(rng.integers(1, 3)) if n > 2 * frames else 1
        span = (frames - 1) * stride + 1
        if span > n:
            stride, span = 1, min(frames, n)
        t0 = int(rng.integers(0, n - span + 1))
        idx = np.arange(t0, t0 + span, stride)[:frames]
        if len(idx) < frames:
            idx = np.concatenate([idx, np.full(frames - len(idx), idx[-1])])
        c = min(crop, h, w)
        y0, x0 = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
        clip = v[idx, y0:y0 + c, x0:x0 + c]
        if c < crop:
            clip = _resize_clip(clip, crop)
        return clip

    def _from_still(self, rng: np.random.Generator, frames: int, crop: int) -> np.ndarray:
        import cv2

        im = self.images[rng.integers(len(self.images))]
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
        use_video = self.videos and (not self.images or rng.random() < self.cfg.video_prob)
        return self._from_video(rng, frames, crop) if use_video else self._from_still(rng, frames, crop)

    def sample(self, rng: np.random.Generator, batch: int, frames: int, crop: int) -> np.ndarray:
        """``[batch, frames, crop, crop, 3]`` uint8 clips (random source, crop, flip, motion)."""
        out = np.empty((batch, frames, crop, crop, 3), np.uint8)
        for i in range(batch):
            clip = self._one(rng, frames, crop)
            if frames > 1 and rng.random() < self.cfg.cut_prob:
                c = int(rng.integers(1, frames))
                clip = np.concatenate([clip[:c], self._one(rng, frames - c, crop)])
            if rng.random() < 0.5:
                clip = clip[:, :, ::-1]
            out[i] = clip
        return out


def _resize_clip(clip: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_LINEAR) for f in clip])
