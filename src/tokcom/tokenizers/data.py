"""Training data of the built-in tokenizers: moved to :mod:`tokcom.train.data` (the one training engine's
sampler); this module keeps the old import path."""

from __future__ import annotations

from tokcom.train.data import (  # noqa: F401
    CORPUS_MANIFEST,
    HELD_OUT_CLIPS,
    IMAGE_EXT,
    VIDEO_EXT,
    ClipSampler,
    DataConfig,
    _clip_from_array,
    _match,
    _resize_clip,
    _shrink,
    clip_from_array,
    corpus_item_names,
    is_corpus,
)

__all__ = ["HELD_OUT_CLIPS", "ClipSampler", "DataConfig", "clip_from_array", "corpus_item_names", "is_corpus"]
