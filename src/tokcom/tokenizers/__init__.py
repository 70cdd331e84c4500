"""Video tokenizers: interfaces, the Cosmos adapter, tokcom's built-in tokenizers and their training.

Registered names (``TOKENIZERS``; ``tokcom.tokenizers.load_tokenizer(name)`` builds one):

=====================  ===========  ====  ====  ==========  ============================================
name                   kind         tf    sf    tokens      weights
=====================  ===========  ====  ====  ==========  ============================================
tokcom-dv4x8x8         discrete     4     8     64000 (16b) shipped (trained by tokcom, docs/tokenizers.md)
tokcom-dv8x16x16       discrete     8     16    64000 (16b) shipped
tokcom-cv8x16x16       continuous   8     16    16 channels shipped (TVC's continuous partner)
tokcom-resitok         progressive  1     16    4096 (12b)  shipped; L = (H/16)(W/16), zero-flag 4096
cosmos-dv4x8x8 …       discrete     4/8   8/16  64000 (16b) NVIDIA TorchScript, hub / local folder
cosmos-cv4x8x8 …       continuous   4/8   8/16  16 channels NVIDIA TorchScript, hub / local folder
=====================  ===========  ====  ====  ==========  ============================================

The registry entries and ``load_tokenizer`` live in :mod:`tokcom.tokenizers.catalog`. Importing this
package does not import torch; loading a tokenizer does.
"""

from __future__ import annotations

from tokcom.registry import TOKENIZERS
from tokcom.tokenizers.base import (
    ContinuousVideoTokenizer,
    DiscreteVideoTokenizer,
    ProgressiveTokenizer,
    VideoTokenizerSpec,
    causal_latent_frames,
    padded_frames,
)
from tokcom.tokenizers.catalog import TokenizerEntry, list_tokenizers, load_tokenizer, tokenizer_spec

__all__ = [
    "TOKENIZERS",
    "ContinuousVideoTokenizer",
    "DiscreteVideoTokenizer",
    "ProgressiveTokenizer",
    "TokenizerEntry",
    "VideoTokenizerSpec",
    "causal_latent_frames",
    "list_tokenizers",
    "load_tokenizer",
    "padded_frames",
    "tokenizer_spec",
]
