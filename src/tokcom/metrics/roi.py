"""Region-of-interest metrics for intent-aware schemes (TokenCom's intended vs non-intended regions).

:func:`roi_metrics` splits every frame by a mask and reports

* ``psnr_roi_in`` / ``psnr_roi_out``: PSNR over the RGB samples inside / outside the mask, per frame, frame-mean
  (frames whose region is empty are skipped; capped at 100 dB like :func:`psnr_per_frame`);
* ``lpips_alex_roi_in`` / ``lpips_alex_roi_out``: the LPIPS-alex *spatial map* (each layer's distance map upsampled
  bilinearly to the frame size and summed, as ``lpips.LPIPS(spatial=True)``) averaged inside / outside the
  mask, frame-mean. The network sees the whole frame, so context outside the region still influences the
  values near its border; the spatial map's full-frame mean approximates, not equals, LPIPS.
"""

from __future__ import annotations

import numpy as np

from tokcom.errors import InputError, TokcomError
from tokcom.metrics.base import check_pair
from tokcom.metrics.pixel import PSNR_CAP_DB

ROI_METRICS = ("psnr_roi_in", "psnr_roi_out", "lpips_alex_roi_in", "lpips_alex_roi_out")


def _mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``[H, W]`` or ``[T, H, W]`` (bool or numbers > 0) → bool ``[T, H, W]``."""
    m = np.asarray(mask)
    if m.ndim == 4 and m.shape[-1] in (1, 3):
        m = m[..., 0]
    t, h, w = shape[:3]
    if m.shape == (h, w):
        m = np.broadcast_to(m, (t, h, w))
    if m.shape != (t, h, w):
        raise InputError(f"ROI mask must be [H,W] or [T,H,W] = {(t, h, w)}; got {m.shape}")
    return m > 0 if m.dtype != bool else m


def _masked_psnr(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> float:
    vals = []
    for t in range(a.shape[0]):
        if not m[t].any():
            continue
        e = a[t][m[t]].astype(np.float64) - b[t][m[t]].astype(np.float64)
        mse = float(np.mean(e * e))
        vals.append(PSNR_CAP_DB if mse == 0 else min(10 * np.log10(255.0 ** 2 / mse), PSNR_CAP_DB))
    return float(np.mean(vals)) if vals else float("nan")


def lpips_map(ref: np.ndarray, dist: np.ndarray, *, net: str = "lpips-alex", device: str = "cpu",
              batch_size: int = 8) -> np.ndarray:
    """LPIPS spatial distance maps: ``[T, H, W, 3]`` uint8 pair → ``[T, H, W]`` float32."""
    import torch

    from tokcom.metrics.perceptual import _to_tensor, get_net

    a, b = check_pair(ref, dist)
    model = get_net(net, device)
    dev = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for i in range(0, a.shape[0], batch_size):
            x, y = _to_tensor(a[i:i + batch_size], dev, -1), _to_tensor(b[i:i + batch_size], dev, -1)
            out.append(model.forward_map(x, y)[:, 0].float().cpu().numpy())
    return np.concatenate(out)


def roi_metrics(ref, dist, mask, *, device: str = "cpu", lpips: bool = True
                ) -> tuple[dict[str, float], dict[str, str]]:
    """PSNR and LPIPS-alex inside and outside a mask.

    Args:
        ref, dist: frame-aligned ``[T, H, W, 3]`` uint8 videos (or :class:`~tokcom.types.Video`).
        mask: ``[H, W]`` (every frame) or ``[T, H, W]``; true / > 0 inside the region of interest.
        device: torch device for LPIPS.
        lpips: also compute the LPIPS variants (when the ``lpips-alex`` weights are cached).

    Returns:
        ``(values, unavailable)`` keyed by :data:`ROI_METRICS` names. A region empty in every frame gives
        NaN for its entries.
    """
    a, b = check_pair(ref, dist)
    m = _mask(mask, a.shape)
    values = {"psnr_roi_in": _masked_psnr(a, b, m), "psnr_roi_out": _masked_psnr(a, b, ~m)}
    unavailable: dict[str, str] = {}
    if lpips:
        from tokcom.metrics.perceptual import weights_unavailable

        why = weights_unavailable("lpips-alex")
        if why is None:
            try:
                d = lpips_map(a, b, device=device)
                for key, region in (("lpips_alex_roi_in", m), ("lpips_alex_roi_out", ~m)):
                    per = [float(d[t][region[t]].mean()) for t in range(len(d)) if region[t].any()]
                    values[key] = float(np.mean(per)) if per else float("nan")
            except TokcomError as e:
                why = str(e)
        if why is not None:
            unavailable["lpips_alex_roi_in"] = unavailable["lpips_alex_roi_out"] = why
    return values, unavailable
