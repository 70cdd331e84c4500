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
from tokcom.metrics.perceptual import _to_tensor, frames_per_batch, get_net, weights_unavailable
from tokcom.metrics.pixel import PSNR_CAP_DB

ROI_METRICS = ("psnr_roi_in", "psnr_roi_out", "lpips_alex_roi_in", "lpips_alex_roi_out")


def _mask(mask, shape: tuple[int, ...]):
    """``[H, W]`` or ``[T, H, W]`` (bool or numbers > 0) → bool ``[T, H, W]``; a lazy per-frame region (any
    object with ``shape == (T, H, W)`` whose ``region[t]`` is an ``[H, W]`` bool mask, e.g.
    :class:`tokcom.intent.propagate.TokenRegion`) is used as it is, frame by frame."""
    if not isinstance(mask, np.ndarray) and hasattr(mask, "__getitem__") and tuple(getattr(mask, "shape", ())) \
            == tuple(shape[:3]):
        return mask
    m = np.asarray(mask)
    if m.ndim == 4 and m.shape[-1] in (1, 3):
        m = m[..., 0]
    t, h, w = shape[:3]
    if m.shape == (h, w):
        m = np.broadcast_to(m, (t, h, w))
    if m.shape != (t, h, w):
        raise InputError(f"ROI mask must be [H,W] or [T,H,W] = {(t, h, w)}; got {m.shape}")
    return m > 0 if m.dtype != bool else m


def _masked_psnr(a: np.ndarray, b: np.ndarray, m, inside: bool = True) -> float:
    """Frame-mean PSNR over the pixels inside (or outside) the region, frame by frame."""
    vals = []
    for t in range(a.shape[0]):
        r = m[t] if inside else ~np.asarray(m[t])
        if not r.any():
            continue
        e = a[t][r].astype(np.float64) - b[t][r].astype(np.float64)
        mse = float(np.mean(e * e))
        vals.append(PSNR_CAP_DB if mse == 0 else min(10 * np.log10(255.0 ** 2 / mse), PSNR_CAP_DB))
    return float(np.mean(vals)) if vals else float("nan")


def lpips_map_chunks(ref: np.ndarray, dist: np.ndarray, *, net: str = "lpips-alex", device: str = "cpu",
                     batch_size: int = 8):
    """LPIPS spatial distance maps, a batch at a time: yields ``(first frame, [n, H, W] float32)``."""
    import torch

    a, b = check_pair(ref, dist)
    model = get_net(net, device)
    dev = next(model.parameters()).device
    bs = frames_per_batch(net, a.shape[1] * a.shape[2], batch_size)
    with torch.inference_mode():
        for i in range(0, a.shape[0], bs):
            x, y = _to_tensor(a[i:i + bs], dev, -1), _to_tensor(b[i:i + bs], dev, -1)
            yield i, model.forward_map(x, y)[:, 0].float().cpu().numpy()


def lpips_map(ref: np.ndarray, dist: np.ndarray, *, net: str = "lpips-alex", device: str = "cpu",
              batch_size: int = 8) -> np.ndarray:
    """LPIPS spatial distance maps: ``[T, H, W, 3]`` uint8 pair → ``[T, H, W]`` float32 (for pictures; the
    ROI metrics use :func:`lpips_map_chunks` and never hold all the maps)."""
    return np.concatenate([d for _, d in lpips_map_chunks(ref, dist, net=net, device=device,
                                                           batch_size=batch_size)])


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
    values = {"psnr_roi_in": _masked_psnr(a, b, m), "psnr_roi_out": _masked_psnr(a, b, m, inside=False)}
    unavailable: dict[str, str] = {}
    if lpips:
        why = weights_unavailable("lpips-alex")
        if why is None:
            try:
                per: dict[str, list[float]] = {"lpips_alex_roi_in": [], "lpips_alex_roi_out": []}
                for i, d in lpips_map_chunks(a, b, device=device):  # [n, H, W] maps, a batch at a time
                    for k in range(d.shape[0]):
                        t = i + k
                        inside = np.asarray(m[t])
                        for key, region in (("lpips_alex_roi_in", inside), ("lpips_alex_roi_out", ~inside)):
                            if region.any():
                                per[key].append(float(d[k][region].mean()))
                for key, vals in per.items():
                    values[key] = float(np.mean(vals)) if vals else float("nan")
            except TokcomError as e:
                why = str(e)
        if why is not None:
            unavailable["lpips_alex_roi_in"] = unavailable["lpips_alex_roi_out"] = why
    return values, unavailable
