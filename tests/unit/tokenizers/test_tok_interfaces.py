"""Registry, specs, causal latent shapes, padding rules; `import tokcom.tokenizers` stays torch-free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tokcom.errors import UnknownNameError
from tokcom.tokenizers import (
    causal_latent_frames,
    list_tokenizers,
    load_tokenizer,
    padded_frames,
    tokenizer_spec,
)

NAMES = ["cosmos-cv4x8x8", "cosmos-cv8x16x16", "cosmos-cv8x8x8", "cosmos-dv4x8x8", "cosmos-dv8x16x16",
         "cosmos-dv8x8x8", "tokcom-cv8x16x16", "tokcom-dv4x8x8", "tokcom-dv8x16x16", "tokcom-resitok"]


def test_registry_names_and_specs():
    assert list_tokenizers() == NAMES
    for n in NAMES:
        s = tokenizer_spec(n)
        assert s.name == n
        if s.kind == "discrete":
            assert s.codebook_size == 64000 and s.bits_per_token == 16 and s.levels == (8, 8, 8, 5, 5, 5)
    r = tokenizer_spec("tokcom-resitok")
    assert (r.codebook_size, r.bits_per_token, r.spatial_factor) == (4096, 12, 16)
    with pytest.raises(UnknownNameError, match="valid: cosmos-cv4x8x8"):
        load_tokenizer("nope")


@pytest.mark.parametrize("tf", [4, 8])
def test_causal_rules(tf):
    assert causal_latent_frames(1, tf) == 1
    assert causal_latent_frames(1 + tf, tf) == 2
    assert causal_latent_frames(33, tf) == 1 + 32 // tf
    assert causal_latent_frames(2, tf) == 2 and padded_frames(2, tf) == 1 + tf
    assert padded_frames(33, tf) == 33


def test_import_is_torch_free():
    code = ("import sys, tokcom, tokcom.tokenizers as t; t.list_tokenizers(); t.tokenizer_spec('tokcom-resitok');"
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
