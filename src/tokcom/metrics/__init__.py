"""Quality metrics (``METRICS`` registry). Importing this package registers the built-in ones.

Registered names (``result.json`` keys): ``psnr``, ``psnr_y``, ``ssim`` (ffmpeg's), ``ssim_gauss``,
``ms_ssim``,
``lpips_alex``, ``lpips_vgg``, ``dists``, ``fvd``, ``clip_score``. Helpers: :func:`roi_metrics`,
:func:`bd_rate`, :func:`bd_quality`, :func:`fvd` (sets of videos), :func:`clip_text_score`.
Nothing here imports torch until a learned metric is computed. Protocols: ``docs/metrics.md``.
"""

from tokcom.metrics import clip as _clip  # noqa: F401  (clip_score)
from tokcom.metrics import fvd as _fvd  # noqa: F401  (fvd)
from tokcom.metrics import (
    perceptual,  # noqa: F401  (lpips_alex, lpips_vgg, dists)
    pixel,  # noqa: F401  (registers psnr, psnr_y, ssim, ssim_gauss, ms_ssim)
)
from tokcom.metrics.base import Metric, check_pair, compute_metrics, default_metrics
from tokcom.metrics.bdrate import BdBound, RDCurve, bd_quality, bd_rate, bd_rate_bound
from tokcom.metrics.clip import clip_text_score
from tokcom.metrics.fvd import fvd
from tokcom.metrics.roi import roi_metrics

__all__ = [
    "BdBound",
    "Metric",
    "RDCurve",
    "bd_quality",
    "bd_rate",
    "bd_rate_bound",
    "check_pair",
    "clip_text_score",
    "compute_metrics",
    "default_metrics",
    "fvd",
    "roi_metrics",
]
