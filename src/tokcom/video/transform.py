"""Spatial transforms and the one pair of converters between ``Video.frames`` and model tensors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tokcom.errors import InputError
from tokcom.types import Video

if TYPE_CHECKING:  # pragma: no cover
    import torch


def center_crop_box(height: int, width: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The centre crop ``(y0, x0, h, w)`` of a ``height × width`` frame with the aspect of ``size = (W, H)``."""
    tw, th = size
    if width * th > height * tw:  # source wider than target: crop width
        w = max(1, round(height * tw / th))
        h = height
    else:
        h = max(1, round(width * th / tw))
        w = width
    return (height - h) // 2, (width - w) // 2, h, w


def crop_resize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop ``[T, H, W, 3]`` uint8 to the aspect of ``size = (W, H)``, then area-resize to it.

    Area interpolation (OpenCV ``INTER_AREA``) is the anti-aliased choice for downscaling; upscaling
    falls back to bilinear-like behaviour.
    """
    import cv2

    tw, th = size
    if tw <= 0 or th <= 0:
        raise InputError(f"size must be positive; got {tw}x{th}")
    t, h, w, _ = frames.shape
    y0, x0, ch, cw = center_crop_box(h, w, size)
    cropped = frames[:, y0:y0 + ch, x0:x0 + cw]
    if (cw, ch) == (tw, th):
        return np.ascontiguousarray(cropped)
    out = np.empty((t, th, tw, 3), np.uint8)
    for i in range(t):
        out[i] = cv2.resize(cropped[i], (tw, th), interpolation=cv2.INTER_AREA)
    return out


def to_tensor(video: Video | np.ndarray, device: str = "cpu", dtype=None) -> torch.Tensor:
    """``Video`` / ``[T,H,W,3]`` / ``[B,T,H,W,3]`` uint8 → ``(B, 3, T, H, W)`` float in [-1, 1] (Cosmos)."""
    import torch

    frames = video.frames if hasattr(video, "frames") else np.asarray(video)
    if frames.dtype != np.uint8 or frames.shape[-1] != 3 or frames.ndim not in (4, 5):
        raise InputError(f"to_tensor takes uint8 [T,H,W,3] or [B,T,H,W,3]; got {frames.dtype} {frames.shape}")
    if frames.ndim == 4:
        frames = frames[None]
    frames = np.ascontiguousarray(frames)
    if not frames.flags.writeable:  # Video.frames is read-only; torch wants writable memory
        frames = frames.copy()
    x = torch.from_numpy(frames).to(device)
    return to_unit(x.permute(0, 4, 1, 2, 3), dtype)


def to_unit(x: torch.Tensor, dtype=None) -> torch.Tensor:
    """A uint8 tensor (0…255, any layout) → ``dtype`` (float32 by default) in [-1, 1], converted in place after
    one copy; a float tensor is returned as it is. The one uint8 → model-range conversion (:func:`to_tensor`,
    and the tokenizers and TVC when they cut chunks from a uint8 clip)."""
    import torch

    if x.dtype != torch.uint8:
        return x
    return x.to(dtype or torch.float32).div_(127.5).sub_(1.0)


def from_tensor(x: torch.Tensor) -> np.ndarray:
    """``(B, 3, T, H, W)`` float in [-1, 1] → ``[B, T, H, W, 3]`` uint8 (rounded, clipped; NaN → 128)."""
    import torch

    if x.ndim != 5 or x.shape[1] != 3:
        raise InputError(f"from_tensor takes (B,3,T,H,W); got {tuple(x.shape)}")
    y = torch.nan_to_num((x.detach().float() + 1.0) * 127.5, nan=128.0).round_().clamp_(0, 255).to(torch.uint8)
    return y.permute(0, 2, 3, 4, 1).cpu().numpy()
