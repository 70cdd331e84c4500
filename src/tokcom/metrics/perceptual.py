"""Learned perceptual metrics: LPIPS (AlexNet, VGG16) and DISTS, on tokcom's own PyTorch networks.

Aggregation: computed per frame at the native resolution (no resizing) and averaged over frames
(frame-mean), like the pixel metrics. Weights come only from the tokcom cache (``tokcom models fetch
lpips-alex lpips-vgg dists``); a metric whose weights are absent reports :meth:`Metric.unavailable`
and never downloads.

Input conventions (as the reference implementations): LPIPS takes RGB in [-1, 1] (``x/127.5 − 1``);
DISTS takes RGB in [0, 1] (``x/255``).
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import numpy as np

from tokcom import models
from tokcom.devices import resolve_device
from tokcom.errors import TokcomError
from tokcom.metrics.base import Metric, check_pair
from tokcom.registry import METRICS

DEFAULT_BATCH = 8
_NETS: dict[tuple[str, str], Any] = {}


def _missing_deps() -> str | None:
    for mod in ("torch", "safetensors"):
        if importlib.util.find_spec(mod) is None:
            return f"needs {mod}; install tokcom[torch,metrics]"
    return None


def weights_unavailable(weights: str) -> str | None:
    """One-line reason why weight set ``weights`` cannot be used here, or None."""
    why = _missing_deps()
    if why:
        return why
    if not models.is_cached(weights):
        return f"weights {weights} not in cache; run: {models.fetch_command(weights)}"
    return None


def get_net(kind: str, device: str = "cpu") -> Any:
    """A loaded, eval-mode network (``lpips-alex``, ``lpips-vgg``, ``dists``, ``i3d-k400``) on ``device``.

    Networks are cached per (kind, device, weights file) for the life of the process; the cached file's
    sha256 is checked on first use (and again whenever the file changes).
    """
    path = models.path(kind)  # raises WeightsUnavailable when not cached (never downloads)
    key = (kind, str(device), str(path))
    if key in _NETS:
        return _NETS[key]
    from tokcom.metrics import _nets

    sd = models.load_state_dict(kind, device="cpu")
    if kind == "lpips-alex":
        net = _nets.LPIPSNet("alex")
    elif kind == "lpips-vgg":
        net = _nets.LPIPSNet("vgg")
    elif kind == "dists":
        net = _nets.DISTSNet()
    elif kind == "i3d-k400":
        net = _nets.I3D()
    else:
        raise ValueError(kind)
    net.load_flat(sd)
    net = net.to(resolve_device(device)).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    _NETS[key] = net
    return net


def _to_tensor(frames: np.ndarray, device: Any, lo: float) -> Any:
    """uint8 ``[B, H, W, 3]`` → float32 ``[B, 3, H, W]`` in [lo, 1] (lo = −1 or 0)."""
    import torch

    t = torch.from_numpy(np.array(frames, copy=True)).to(device).permute(0, 3, 1, 2).float()
    return t / 127.5 - 1.0 if lo == -1 else t / 255.0


BATCH_PIXELS = {"lpips-alex": 1 << 21, "lpips-vgg": 1 << 19, "dists": 1 << 19, "i3d-k400": 1 << 21}
"""Pixels per forward pass of each network (activations scale with them: AlexNet's first layer is 4×
subsampled, VGG16's is not), so a batch stays within a few hundred MB at any frame size."""


def frames_per_batch(kind: str, frame_pixels: int, batch_size: int) -> int:
    """``batch_size`` frames, fewer when the frames are large (:data:`BATCH_PIXELS`); at least one."""
    return max(1, min(int(batch_size), BATCH_PIXELS.get(kind, 1 << 20) // max(1, frame_pixels)))


def per_frame(kind: str, ref: np.ndarray, dist: np.ndarray, *, device: str = "cpu",
              batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Per-frame distances of a learned metric.

    Args:
        kind: ``lpips-alex``, ``lpips-vgg`` or ``dists``.
        ref, dist: ``[T, H, W, 3]`` uint8 RGB, frame-aligned.
        device: torch device string.
        batch_size: frames per forward pass.

    Returns:
        ``[T]`` float64 distances (lower is better).
    """
    import torch

    a, b = check_pair(ref, dist)
    if min(a.shape[1:3]) < 32:
        raise TokcomError(f"{kind} needs frames of at least 32×32 pixels; got {a.shape[2]}×{a.shape[1]}")
    net = get_net(kind, device)
    dev = next(net.parameters()).device
    lo = 0.0 if kind == "dists" else -1.0
    batch_size = frames_per_batch(kind, a.shape[1] * a.shape[2], batch_size)
    out = []
    with torch.inference_mode():
        for i in range(0, a.shape[0], batch_size):
            y = _to_tensor(b[i:i + batch_size], dev, lo)
            if hasattr(net, "distance"):  # LPIPS: the reference's features are shared by every run on it
                fx = _reference_features(kind, net, a[i:i + batch_size], dev, lo)
                d = net.distance(fx, y)
            else:
                d = net(_to_tensor(a[i:i + batch_size], dev, lo), y)
            out.append(d.double().cpu().numpy().reshape(-1))
    return np.concatenate(out)


REF_CACHE_BYTES = 512 << 20
"""Memory the per-process cache of reference features may hold (a sweep measures many reconstructions of
one clip: its features are computed once per worker, not once per point)."""
_REF_CACHE: dict[tuple, tuple[list, int]] = {}


def _reference_features(kind: str, net: Any, frames: np.ndarray, device: Any, lo: float) -> list:
    """``net.features`` of a batch of reference frames, cached per process by the frames' content (LRU,
    at most :data:`REF_CACHE_BYTES`; a batch larger than that is never cached)."""
    import hashlib

    key = (kind, str(device), frames.shape, hashlib.sha1(np.ascontiguousarray(frames).data).hexdigest())
    hit = _REF_CACHE.pop(key, None)
    if hit is None:
        feats = net.features(_to_tensor(frames, device, lo))
        size = sum(f.numel() * f.element_size() for f in feats)
        hit = (feats, size)
    _REF_CACHE[key] = hit  # most recent last
    while sum(v[1] for v in _REF_CACHE.values()) > REF_CACHE_BYTES and _REF_CACHE:
        _REF_CACHE.pop(next(iter(_REF_CACHE)))
    return hit[0]


class _LearnedMetric(Metric):
    """A frame-mean learned distance whose weights come from the tokcom cache."""

    weights: ClassVar[str]
    higher_is_better = False
    batch_size: ClassVar[int] = DEFAULT_BATCH

    def unavailable(self) -> str | None:
        return weights_unavailable(self.weights)

    work_factor = 8.0  # the chunk only bounds the input; batches inside per_frame bound the activations

    def per_frame(self, ref, dist) -> np.ndarray:
        return per_frame(self.weights, ref, dist, device=self.device, batch_size=self.batch_size)


@METRICS.register("lpips_alex", "LPIPS v0.1 (AlexNet) distance, frame-mean; lower is better")
class LPIPSAlex(_LearnedMetric):
    """LPIPS v0.1 with the AlexNet backbone (weights ``lpips-alex``), frame-mean. Lower is better."""

    name = "lpips_alex"
    weights = "lpips-alex"
    default = True  # ~0.06 s/frame at 256² on one CPU core (docs/metrics.md): cheap enough for every run


@METRICS.register("lpips_vgg", "LPIPS v0.1 (VGG16) distance, frame-mean; lower is better")
class LPIPSVGG(_LearnedMetric):
    """LPIPS v0.1 with the VGG16 backbone (weights ``lpips-vgg``), frame-mean. Lower is better."""

    name = "lpips_vgg"
    weights = "lpips-vgg"
    default = False  # VGG16 at 256²: ~1.7 s/frame on one CPU core (27× LPIPS-alex); opt in


@METRICS.register("dists", "DISTS distance, frame-mean; lower is better")
class DISTS(_LearnedMetric):
    """DISTS (weights ``dists``: VGG16 + α/β), frame-mean. Lower is better."""

    name = "dists"
    weights = "dists"
    default = False  # VGG16 cost: ~1.7 s/frame at 256² on one CPU core (~100 s for 60 frames); opt in
