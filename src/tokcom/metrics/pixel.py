"""Pixel-fidelity metrics: PSNR (RGB and Y), SSIM (ffmpeg/x264 and Gaussian) and MS-SSIM.

Aggregation: every metric is computed per frame and averaged over frames (frame-mean), the convention of
the papers' tables. Per-frame PSNR is capped at :data:`PSNR_CAP_DB` so identical frames stay finite.

``psnr`` equals ffmpeg's ``psnr`` filter ``psnr_avg`` on RGB input frame by frame (all samples of a frame
pooled; ffmpeg's end-of-stream "average" is instead the PSNR of the mean MSE). ``ssim`` is the SSIM of
ffmpeg's ``ssim`` filter (x264's: 8×8 unweighted windows on a 4-pixel grid), per RGB plane, plane-mean,
frame-mean; ``ssim_gauss`` is Wang et al.'s 11×11 Gaussian SSIM (scikit-image's with
``gaussian_weights=True``). They differ by up to ~0.02 on real clips, so tables must say which one.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from tokcom.errors import TokcomError
from tokcom.metrics.base import Metric
from tokcom.registry import METRICS

PSNR_CAP_DB = 100.0
_K1, _K2, _L = 0.01, 0.03, 255.0
_SIGMA, _TRUNCATE = 1.5, 3.5  # 11×11 Gaussian window (radius int(3.5·1.5 + 0.5) = 5), Wang et al. 2004
_MS_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])  # Wang, Simoncelli, Bovik 2003


def psnr_per_frame(ref: np.ndarray, dist: np.ndarray, peak: float = 255.0) -> np.ndarray:
    """Per-frame PSNR (dB) over all samples of each frame: ``[T, ...]`` → ``[T]`` float64, capped."""
    if ref.dtype == np.uint8 and dist.dtype == np.uint8:  # exact in integers: 6 bytes a sample, not 24
        err = ref.astype(np.int16) - dist.astype(np.int16)
        sq = np.square(err, dtype=np.int32).reshape(err.shape[0], -1)
        mse = sq.sum(axis=1, dtype=np.int64) / sq.shape[1]
    else:
        err = ref.astype(np.float64) - dist.astype(np.float64)
        mse = (err * err).reshape(err.shape[0], -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        p = 10.0 * np.log10(peak * peak / mse)
    return np.minimum(p, PSNR_CAP_DB)


def rgb_to_y709(frames: np.ndarray) -> np.ndarray:
    """Limited-range 8-bit BT.709 luma of uint8 RGB (``[..., 3]`` → ``[...]`` uint8), as a codec sees it."""
    f = frames.astype(np.float64)
    y = 16.0 + (219.0 / 255.0) * (0.2126 * f[..., 0] + 0.7152 * f[..., 1] + 0.0722 * f[..., 2])
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def _ssim_maps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SSIM and contrast-structure maps of ``[T,H,W,C]`` float64 images, border (radius 5) cropped."""
    sig = (0, _SIGMA, _SIGMA, 0)

    def filt(a: np.ndarray) -> np.ndarray:
        return gaussian_filter(a, sigma=sig, truncate=_TRUNCATE, mode="reflect")

    mx, my = filt(x), filt(y)
    sxx = filt(x * x) - mx * mx
    syy = filt(y * y) - my * my
    sxy = filt(x * y) - mx * my
    c1, c2 = (_K1 * _L) ** 2, (_K2 * _L) ** 2
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    r = int(_TRUNCATE * _SIGMA + 0.5)
    crop = (slice(None), slice(r, -r), slice(r, -r), slice(None))
    return ssim[crop], cs[crop]


def ssim_per_frame(ref: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Per-frame SSIM (Gaussian 11×11, σ = 1.5), mean over channels and valid pixels: ``[T]`` float64.

    Matches ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=255, channel_axis=-1)`` frame by frame.
    """
    if ref.ndim == 3:
        ref, dist = ref[..., None], dist[..., None]
    if min(ref.shape[1:3]) < 11:
        raise TokcomError(f"SSIM needs frames of at least 11×11 pixels; got {ref.shape[2]}×{ref.shape[1]}")
    s, _ = _ssim_maps(ref.astype(np.float64), dist.astype(np.float64))
    return s.reshape(s.shape[0], -1).mean(axis=1)


# ffmpeg libavfilter/vf_ssim.c (from x264 common/pixel.c, Loren Merritt): constants for sums over 64 samples,
# rounded to integers for 8-bit input; vars/covar computed in integers, the final ratio in single precision.
_FF_C1 = int(0.01 * 0.01 * 255 * 255 * 64 + 0.5)  # 416
_FF_C2 = int(0.03 * 0.03 * 255 * 255 * 64 * 63 + 0.5)  # 235963


def ssim_ffmpeg_planes(ref: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """SSIM of ffmpeg's ``ssim`` filter per frame and plane: ``[T,H,W,C]`` uint8 → ``[T, C]`` float64.

    Sums over 4×4 blocks, 8×8 windows made of 2×2 neighbouring blocks (stride 4 px), unweighted; the
    right/bottom remainders of ``H % 4``/``W % 4`` pixels are ignored, as in ffmpeg. Needs frames ≥ 8×8.
    """
    if ref.ndim == 3:
        ref, dist = ref[..., None], dist[..., None]
    t, h, w, c = ref.shape
    h4, w4 = h // 4, w // 4
    if h4 < 2 or w4 < 2:
        raise TokcomError(f"SSIM needs frames of at least 8×8 pixels; got {w}×{h}")
    a = ref[:, : 4 * h4, : 4 * w4].astype(np.int64)
    b = dist[:, : 4 * h4, : 4 * w4].astype(np.int64)

    def block_sum(x: np.ndarray) -> np.ndarray:  # [T, h4, w4, C]
        return x.reshape(t, h4, 4, w4, 4, c).sum(axis=(2, 4))

    def window_sum(x: np.ndarray) -> np.ndarray:  # 2×2 blocks → 8×8 windows, [T, h4-1, w4-1, C]
        return x[:, :-1, :-1] + x[:, 1:, :-1] + x[:, :-1, 1:] + x[:, 1:, 1:]

    s1 = window_sum(block_sum(a))
    s2 = window_sum(block_sum(b))
    ss = window_sum(block_sum(a * a + b * b))
    s12 = window_sum(block_sum(a * b))
    vars_ = ss * 64 - s1 * s1 - s2 * s2
    covar = s12 * 64 - s1 * s2
    f32 = np.float32
    num = (2 * s1 * s2 + _FF_C1).astype(f32) * (2 * covar + _FF_C2).astype(f32)
    den = (s1 * s1 + s2 * s2 + _FF_C1).astype(f32) * (vars_ + _FF_C2).astype(f32)
    return (num / den).astype(np.float64).mean(axis=(1, 2))


def ssim_ffmpeg_per_frame(ref: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """ffmpeg ``ssim`` filter's ``All`` value per frame on RGB (planes weighted equally): ``[T]`` float64."""
    return ssim_ffmpeg_planes(ref, dist).mean(axis=-1)


def _downsample2(a: np.ndarray) -> np.ndarray:
    """2×2 mean filter with symmetric borders, then keep every second sample (Wang's MATLAB msssim.m)."""
    p = np.pad(a, ((0, 0), (0, 1), (0, 1), (0, 0)), mode="symmetric")
    f = (p[:, :-1, :-1] + p[:, 1:, :-1] + p[:, :-1, 1:] + p[:, 1:, 1:]) / 4.0
    return f[:, ::2, ::2]


def ms_ssim_per_frame(ref: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Per-frame 5-scale MS-SSIM (Wang et al. 2003 weights), per channel then mean: ``[T]`` float64.

    Contrast-structure terms of scales 1–4 and the SSIM of scale 5, each clipped at 0 before the weighted
    product. Needs frames of at least 176 pixels on the short side (11-pixel window at scale 5).
    """
    if min(ref.shape[1:3]) < 176:
        raise TokcomError(
            f"MS-SSIM (5 scales) needs frames of at least 176 px on the short side; got "
            f"{ref.shape[2]}×{ref.shape[1]}"
        )
    x, y = ref.astype(np.float64), dist.astype(np.float64)
    vals = []
    for level in range(len(_MS_WEIGHTS)):
        s, cs = _ssim_maps(x, y)
        t = s if level == len(_MS_WEIGHTS) - 1 else cs
        vals.append(np.maximum(t.mean(axis=(1, 2)), 0.0))  # [T, C]
        x, y = _downsample2(x), _downsample2(y)
    v = np.stack(vals, axis=0)  # [5, T, C]
    ms = np.prod(v ** _MS_WEIGHTS[:, None, None], axis=0)
    return ms.mean(axis=-1)


@METRICS.register("psnr", "PSNR over RGB samples (dB), frame-mean of per-frame values")
class PSNR(Metric):
    """PSNR over all RGB samples (dB); frame-mean of per-frame PSNR, each capped at 100 dB."""

    name = "psnr"
    work_factor = 8.0  # int16 difference and int32 squares

    def per_frame(self, ref, dist) -> np.ndarray:
        return psnr_per_frame(ref, dist)


@METRICS.register("psnr_y", "PSNR of BT.709 limited-range luma (dB), frame-mean")
class PSNRY(Metric):
    """PSNR of the 8-bit limited-range BT.709 luma plane (peak 255), frame-mean."""

    name = "psnr_y"
    work_factor = 16.0  # float64 luma conversion

    def per_frame(self, ref, dist) -> np.ndarray:
        return psnr_per_frame(rgb_to_y709(ref), rgb_to_y709(dist))


@METRICS.register("ssim", "SSIM as ffmpeg's ssim filter (8×8 windows, stride 4) over RGB planes, frame-mean")
class SSIM(Metric):
    """SSIM of ffmpeg's ``ssim`` filter (x264: 8×8 unweighted windows, stride 4) on RGB, plane-mean,
    frame-mean (= ffmpeg's ``All``)."""

    name = "ssim"
    work_factor = 48.0  # int64 copies and products

    def per_frame(self, ref, dist) -> np.ndarray:
        return ssim_ffmpeg_per_frame(ref, dist)


@METRICS.register("ssim_gauss", "SSIM (Wang 2004, 11×11 Gaussian σ=1.5) over RGB channels, frame-mean")
class SSIMGauss(Metric):
    """SSIM (Wang et al. 2004; 11×11 Gaussian σ = 1.5) on RGB, channel-mean, frame-mean (scikit-image's)."""

    name = "ssim_gauss"
    default = False  # a second SSIM for every run doubled the SSIM cost (the slowest default at 720p); opt in
    work_factor = 120.0  # float64 planes, five filtered maps and the SSIM/contrast maps

    def per_frame(self, ref, dist) -> np.ndarray:
        return ssim_per_frame(ref, dist)


@METRICS.register("ms_ssim", "5-scale MS-SSIM over RGB channels, frame-mean (short side ≥ 176 px)")
class MSSSIM(Metric):
    """MS-SSIM (Wang et al. 2003, 5 scales) on RGB, channel-mean, frame-mean."""

    name = "ms_ssim"
    work_factor = 140.0

    def per_frame(self, ref, dist) -> np.ndarray:
        return ms_ssim_per_frame(ref, dist)
