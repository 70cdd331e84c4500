"""Quality/rate/speed of a tokenizer on one clip (``tokcom tokenizer eval``; JSON contract in CLI.md)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tokcom.metrics import compute_metrics
from tokcom.metrics.pixel import psnr_per_frame
from tokcom.tokenizers.base import ProgressiveTokenizer
from tokcom.types import Video
from tokcom.video import from_tensor, to_tensor

DEFAULT_EVAL_METRICS = ("psnr", "ssim", "lpips_alex")


def _video_like(ref: Video, frames) -> Video:
    return Video(frames=frames, fps=ref.fps, source=f"{ref.source} (reconstructed)", start=ref.start)


def evaluate(tokenizer: Any, video: Video, *, prefix: Sequence[int] | None = None,
             metrics: Sequence[str] | None = DEFAULT_EVAL_METRICS, device: str = "cpu") -> dict[str, Any]:
    """Encode/decode ``video`` with ``tokenizer`` (a loaded tokenizer object) and measure it.

    Returns the ``tokcom tokenizer eval --json`` record: tokenizer, frames, width, height, bits_per_token,
    tokens ``[t, h, w]`` (per-frame grid for progressive tokenizers), bpp, metrics (and
    metrics_unavailable), encode/decode ms per frame, and for progressive tokenizers with ``prefix`` the
    PSNR at each prefix length ``k``.
    """
    import numpy as np
    import torch

    x = to_tensor(video)
    n, hh, ww = video.num_frames, video.height, video.width
    out: dict[str, Any] = {"tokenizer": tokenizer.name, "frames": n, "width": ww, "height": hh}
    progressive = isinstance(tokenizer, ProgressiveTokenizer)
    with torch.inference_mode():
        t0 = time.perf_counter()
        if progressive:
            tok = tokenizer.encode(x)
        else:
            enc = tokenizer.encode(x)
            tok = enc[0] if isinstance(enc, tuple) else enc
        t1 = time.perf_counter()
        if progressive:
            rec = tokenizer.decode(tok, (hh, ww))
        else:
            rec = tokenizer.decode(tok)[:, :, :n, :hh, :ww]
        t2 = time.perf_counter()
    recon = from_tensor(rec)[0]
    if progressive:
        sf = tokenizer.spatial_factor
        grid = [n, -(-hh // sf), -(-ww // sf)]
        bits = n * tok.shape[-1] * tokenizer.bits_per_token
        out["bits_per_token"] = tokenizer.bits_per_token
        out["tokens_per_frame"] = int(tok.shape[-1])
    elif tok.dtype in (torch.int64, torch.int32):
        grid = list(tok.shape[1:])
        bits = int(np.prod(grid)) * tokenizer.bits_per_token
        out["bits_per_token"] = tokenizer.bits_per_token
    else:  # continuous: report the latent grid; no bits
        grid = list(tok.shape[2:])
        bits = 0
        out["bits_per_token"] = 0
        out["latent_channels"] = int(tok.shape[1])
    out["tokens"] = [int(v) for v in grid]
    out["bpp"] = bits / (n * hh * ww)
    values, unavailable = compute_metrics(video, _video_like(video, recon), list(metrics or ()), device=device)
    out["metrics"] = values
    if unavailable:
        out["metrics_unavailable"] = unavailable
    out["encode_ms_per_frame"] = 1000 * (t1 - t0) / n
    out["decode_ms_per_frame"] = 1000 * (t2 - t1) / n
    if progressive and prefix:
        curve = []
        with torch.inference_mode():
            for k in prefix:
                r = from_tensor(tokenizer.decode(tokenizer.truncate(tok, int(k)), (hh, ww)))[0]
                curve.append({"k": int(k), "psnr": float(psnr_per_frame(video.frames, r).mean())})
        out["prefix"] = curve
    return out
