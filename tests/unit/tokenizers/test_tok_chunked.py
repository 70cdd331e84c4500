"""Whole clips in bounded memory: chunked tokenizer encoding/decoding equals the whole-clip result."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.tokenizers import load_tokenizer
from tokcom.tokenizers.base import DiscreteVideoTokenizer

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def clip(sample_path):
    from tokcom.video import read_video

    return np.asarray(read_video(sample_path, frames=30, start=10, size="64x48").frames)  # odd sizes: padded


@pytest.mark.parametrize("name", ["tokcom-dv4x8x8", "tokcom-dv8x16x16"])
@pytest.mark.parametrize("latents_per_chunk", [1, 2, 3])
def test_streaming_equals_the_whole_clip(name, latents_per_chunk, clip):
    tok = load_tokenizer(name)
    tok.CHUNK_PIXELS = 1 << 30
    whole = DiscreteVideoTokenizer.encode_frames(tok, clip)  # the generic path: one forward pass
    ref = DiscreteVideoTokenizer.decode_frames(tok, whole, 30, 48, 64)
    tok.CHUNK_PIXELS = 64 * 48 * tok.temporal_factor * latents_per_chunk
    assert tok._chunk_latents(48, 64) == latents_per_chunk
    z = tok.encode_frames(clip)
    np.testing.assert_array_equal(z, whole)  # the causal context is carried: exactly the same tokens
    rec = tok.decode_frames(z, 30, 48, 64)
    assert rec.shape == (30, 48, 64, 3) and np.abs(rec.astype(int) - ref.astype(int)).max() <= 1


def test_generic_chunking_with_recomputed_context(clip):
    """The base class's chunking (re-encoding the context frames) gives the same tokens too."""
    tok = load_tokenizer("tokcom-dv4x8x8")
    tok.CHUNK_PIXELS = 1 << 30
    whole = DiscreteVideoTokenizer.encode_frames(tok, clip)
    tok.CHUNK_PIXELS = 64 * 48 * 4 * 2
    np.testing.assert_array_equal(DiscreteVideoTokenizer.encode_frames(tok, clip), whole)
