"""User intent → semantic masks: which pixels (and then which video tokens) the user cares about.

TokenCom (000_cfad1eb21f67e2e2.txt, §II-B) turns a textual intent into a first-frame mask with a CLIP
patch heatmap (:mod:`tokcom.intent.heatmap`, eqs. (1)–(5)). Importing this package does not import torch;
CLIP is loaded on first use (:func:`tokcom.models.clip.load_clip`).
"""

from tokcom.intent.heatmap import (
    normalize_heatmap,
    patch_mask,
    patch_ratio,
    text_heatmap,
    text_intent_mask,
    upsample_mask,
)

__all__ = [
    "normalize_heatmap",
    "patch_mask",
    "patch_ratio",
    "text_heatmap",
    "text_intent_mask",
    "upsample_mask",
]
