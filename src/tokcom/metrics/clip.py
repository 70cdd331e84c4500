"""CLIP similarity (Radford et al. 2021) through ``open_clip``, only when it and the weights are present.

Names:

* ``clip_score`` (registered metric): frame–frame cosine similarity of the CLIP image embeddings of the
  reference and the reconstructed frame, frame-mean, in [-1, 1] (higher is better). This is the
  full-reference "CLIP-based semantic similarity" of the TokenCom/Resi-VidTok plots.
* :func:`clip_text_score`: frame–text cosine similarity (one video, one text), frame-mean, raw cosine.
  (Hessel et al.'s CLIPScore is ``2.5·max(cos, 0)``; some papers report ``100·cos``: convert if comparing.)

Preprocessing (OpenAI CLIP): bicubic resize of the short side to the model's input size, centre crop,
normalisation with CLIP's mean/std. Model: ``ViT-B-32`` (weights ``clip-vit-b-32``) by default.

``open_clip`` imports torchvision unconditionally (``open_clip/transform.py``, ``utils.py``), so it is not
part of any tokcom extra; with ``open_clip_torch`` + torchvision installed by the user and the weights in
the cache (``tokcom models fetch clip-vit-b-32`` while online), these metrics become available.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from tokcom.errors import TokcomError
from tokcom.metrics.base import Metric, check_pair
from tokcom.registry import METRICS

DEFAULT_CLIP = "clip-vit-b-32"
_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP image normalisation
_STD = (0.26862954, 0.26130258, 0.27577711)
_MODELS: dict[tuple[str, str], Any] = {}


def clip_unavailable(weights: str = DEFAULT_CLIP) -> str | None:
    """One-line reason why CLIP metrics cannot run here, or None."""
    from tokcom import models

    if importlib.util.find_spec("open_clip") is None:
        return "needs open_clip_torch + torchvision, which tokcom does not install: pip install open_clip_torch"
    if not models.is_cached(weights):
        return f"weights {weights} not in cache; run: {models.fetch_command(weights)} (needs the model hub)"
    return None


def _model(weights: str, device: str) -> tuple[Any, Any]:
    key = (weights, device)
    if key not in _MODELS:
        import open_clip

        from tokcom import models
        from tokcom.metrics.perceptual import resolve_device
        from tokcom.models.catalog import CLIP_ARCH

        model = open_clip.create_model(CLIP_ARCH[weights], pretrained=str(models.path(weights)))
        model = model.to(resolve_device(device)).eval()
        _MODELS[key] = (model, open_clip.get_tokenizer(CLIP_ARCH[weights]))
    return _MODELS[key]


def _image_embeddings(frames: np.ndarray, weights: str, device: str, batch_size: int = 16) -> Any:
    """L2-normalised image embeddings ``[T, D]`` of uint8 ``[T, H, W, 3]`` frames."""
    import torch
    import torch.nn.functional as F

    model, _ = _model(weights, device)
    dev = next(model.parameters()).device
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else int(size)
    mean = torch.tensor(_MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(_STD, device=dev).view(1, 3, 1, 1)
    out = []
    with torch.inference_mode():
        for i in range(0, len(frames), batch_size):
            x = torch.from_numpy(np.array(frames[i:i + batch_size])).to(dev).permute(0, 3, 1, 2).float() / 255
            h, w = x.shape[2:]
            s = size / min(h, w)
            nh, nw = max(size, round(h * s)), max(size, round(w * s))
            x = F.interpolate(x, size=(nh, nw), mode="bicubic", align_corners=False, antialias=True)
            x = x.clamp(0, 1)
            top, left = (nh - size) // 2, (nw - size) // 2
            x = (x[:, :, top:top + size, left:left + size] - mean) / std
            out.append(F.normalize(model.encode_image(x).float(), dim=-1))
    return torch.cat(out)


def clip_text_score(video, text: str, *, weights: str = DEFAULT_CLIP, device: str = "cpu") -> float:
    """Mean cosine similarity between each frame's CLIP embedding and the text's: a float in [-1, 1]."""
    import torch
    import torch.nn.functional as F

    why = clip_unavailable(weights)
    if why:
        raise TokcomError(why)
    frames = video.frames if hasattr(video, "frames") else np.asarray(video)
    model, tok = _model(weights, device)
    img = _image_embeddings(frames, weights, device)
    with torch.inference_mode():
        txt = F.normalize(model.encode_text(tok([text]).to(img.device)).float(), dim=-1)
    return float((img @ txt.T).mean())


@METRICS.register("clip_score", "CLIP ViT-B/32 frame–frame cosine similarity, frame-mean (needs open_clip)")
class CLIPScore(Metric):
    """Cosine similarity of CLIP image embeddings of reference and reconstruction, frame-mean."""

    name = "clip_score"
    higher_is_better = True
    default = True  # only computed when open_clip and the weights are present; else listed as unavailable
    weights = DEFAULT_CLIP

    def unavailable(self) -> str | None:
        return clip_unavailable(self.weights)

    def __call__(self, ref, dist) -> float:
        a, b = check_pair(ref, dist)
        ea = _image_embeddings(a, self.weights, self.device)
        eb = _image_embeddings(b, self.weights, self.device)
        return float((ea * eb).sum(-1).mean())
