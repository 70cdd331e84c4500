"""Fréchet Video Distance (Unterthiner et al., 2018/2019, "Towards Accurate Generative Models of Video").

Protocol (the standard one of google-research/frechet_video_distance, also used by StyleGAN-V):

1. every video is cut into clips of ``clip_len = 16`` consecutive frames (non-overlapping, stride 16, the
   tail shorter than 16 frames dropped); a set of videos contributes all clips of all its videos;
2. every frame is resized to 224×224 (bilinear, no antialiasing; the aspect ratio is not kept) and scaled to
   [-1, 1] (``2·x/255 − 1``);
3. each clip goes through I3D (Kinetics-400, RGB, weights ``i3d-k400``) and the 400 logits averaged over
   time are its feature (the ``Logits`` end point, pre-softmax);
4. the clip features of the two sets are summarised by their mean and covariance (unbiased, ``N − 1``)
   and compared with the Fréchet distance
   ``‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})``.

Statistical caveat: published FVDs use hundreds to thousands of clips. On one short video (a handful of
clips) the 400×400 covariances have rank ≤ N − 1, so the value is dominated by the mean term, biased, and
not comparable with published numbers; it is still 0 for identical videos and grows with distortion, which
is what a rate–distortion curve needs. With a single clip the covariances are taken as 0 (FVD = ‖μ₁ − μ₂‖²).
Use :func:`fvd` on sets of videos for the protocol proper.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tokcom.errors import InputError, TokcomError
from tokcom.metrics.base import Metric, check_pair
from tokcom.metrics.perceptual import get_net, weights_unavailable
from tokcom.registry import METRICS
from tokcom.types import Video

CLIP_LEN = 16
I3D_SIZE = 224


def _as_frames(v: Video | np.ndarray) -> np.ndarray:
    f = v.frames if isinstance(v, Video) else np.asarray(v)
    if f.ndim != 4 or f.shape[-1] != 3 or f.dtype != np.uint8:
        raise InputError(f"FVD takes uint8 [T,H,W,3] videos; got {f.dtype} {tuple(f.shape)}")
    return f


def clip_starts(num_frames: int, clip_len: int = CLIP_LEN, stride: int | None = None) -> list[int]:
    """First frames of the clips of a ``num_frames`` video (stride defaults to ``clip_len``).

    Raises:
        TokcomError: fewer than ``clip_len`` frames.
    """
    if num_frames < clip_len:
        raise TokcomError(f"FVD needs at least {clip_len} frames; got {num_frames}")
    return list(range(0, num_frames - clip_len + 1, stride or clip_len))


def clips_of(frames: np.ndarray, clip_len: int = CLIP_LEN, stride: int | None = None) -> np.ndarray:
    """Cut ``[T, H, W, 3]`` into ``[N, clip_len, H, W, 3]`` clips (a copy; :func:`i3d_features` does not use
    it, so that no copy of a whole video is made)."""
    return np.stack([frames[s:s + clip_len] for s in clip_starts(frames.shape[0], clip_len, stride)])


def i3d_features(videos: Sequence[Video | np.ndarray], *, clip_len: int = CLIP_LEN, stride: int | None = None,
                 device: str = "cpu", batch_size: int = 2) -> np.ndarray:
    """I3D logits of every clip of every video.

    Args:
        videos: uint8 ``[T, H, W, 3]`` RGB videos (any size; resized to 224²).
        clip_len, stride: clip length and step in frames.
        device: torch device.
        batch_size: clips per forward pass.

    Returns:
        ``[N_clips, 400]`` float64.
    """
    import torch
    import torch.nn.functional as F

    net = get_net("i3d-k400", device)
    dev = next(net.parameters()).device
    feats = []
    with torch.inference_mode():
        for v in videos:  # videos may differ in size; clips are cut a batch at a time (no copy of the video)
            frames = _as_frames(v)
            starts = clip_starts(frames.shape[0], clip_len, stride)
            for i in range(0, len(starts), batch_size):
                batch = np.stack([frames[s:s + clip_len] for s in starts[i:i + batch_size]])
                c = torch.from_numpy(batch).to(dev)  # [B, T, H, W, 3] uint8
                b, t, h, w, _ = c.shape
                x = c.reshape(b * t, h, w, 3).permute(0, 3, 1, 2).float()
                if (h, w) != (I3D_SIZE, I3D_SIZE):
                    x = F.interpolate(x, size=(I3D_SIZE, I3D_SIZE), mode="bilinear", align_corners=False,
                                      antialias=False)
                x = x * (2.0 / 255.0) - 1.0
                x = x.reshape(b, t, 3, I3D_SIZE, I3D_SIZE).permute(0, 2, 1, 3, 4).contiguous()
                feats.append(net(x).double().cpu().numpy())
    return np.concatenate(feats)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """Fréchet distance between Gaussians N(mu1, s1) and N(mu2, s2).

    ``Tr((Σ₁Σ₂)^{1/2})`` is computed as the sum of square roots of the eigenvalues of the symmetric PSD
    matrix ``Σ₁^{1/2} Σ₂ Σ₁^{1/2}`` (same spectrum as Σ₁Σ₂), which stays real and stable for the
    rank-deficient covariances of small clip sets.
    """
    r1 = _sqrtm_psd(s1)
    m = r1 @ s2 @ r1
    tr_cov = float(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum())
    d = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * tr_cov)
    return max(d, 0.0)


def feature_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` of ``[N, D]`` features (zeros when N = 1)."""
    mu = feats.mean(axis=0)
    if feats.shape[0] < 2:
        return mu, np.zeros((feats.shape[1], feats.shape[1]))
    return mu, np.cov(feats, rowvar=False, ddof=1)


def fvd(ref_videos: Sequence[Video | np.ndarray], dist_videos: Sequence[Video | np.ndarray], *,
        clip_len: int = CLIP_LEN, stride: int | None = None, device: str = "cpu") -> float:
    """FVD between two sets of videos (the sets need not be paired or equally large)."""
    fa = i3d_features(ref_videos, clip_len=clip_len, stride=stride, device=device)
    fb = i3d_features(dist_videos, clip_len=clip_len, stride=stride, device=device)
    return frechet_distance(*feature_stats(fa), *feature_stats(fb))


@METRICS.register("fvd", "FVD (I3D Kinetics-400, 16-frame clips at 224²) of one video pair; lower is better")
class FVD(Metric):
    """FVD of ``dist`` against ``ref`` from their non-overlapping 16-frame clips (needs ≥ 16 frames).

    Not a default metric: ~1.5 s of CPU per 16-frame clip and statistically weak on one short video (see
    the module docstring); ask for it with ``--metric fvd`` or use :func:`fvd` on sets of videos.
    """

    name = "fvd"
    higher_is_better = False
    weight_sets = ("i3d-k400",)
    default = False

    def unavailable(self) -> str | None:
        return weights_unavailable("i3d-k400")

    def __call__(self, ref, dist) -> float:
        a, b = check_pair(ref, dist)
        return fvd([a], [b], device=self.device)
