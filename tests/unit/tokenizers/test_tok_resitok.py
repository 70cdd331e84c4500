"""tokcom-resitok: L tokens per frame, zero-flag, prefix decoding, monotone quality on a real clip."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from tokcom.tokenizers import load_tokenizer
from tokcom.tokenizers.nets import interlaced_order


def test_interlaced_order_is_a_coarse_to_fine_permutation():
    o = interlaced_order(16, 16)
    assert sorted(o.tolist()) == list(range(256))
    ys, xs = o // 16, o % 16
    assert bool(((ys[:4] % 8 == 0) & (xs[:4] % 8 == 0)).all())
    assert bool(((ys[:16] % 4 == 0) & (xs[:16] % 4 == 0)).all())
    assert bool(((ys[:64] % 2 == 0) & (xs[:64] % 2 == 0)).all())
    assert sorted(interlaced_order(5, 7).tolist()) == list(range(35))


def test_tokens_shapes_zero_flag_determinism():
    tok = load_tokenizer("tokcom-resitok")
    assert (tok.codebook_size, tok.bits_per_token, tok.zero_token) == (4096, 12, 4096)
    assert tok.num_tokens(256, 256) == 256
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 2, 256, 256, generator=g) * 2 - 1
    t = tok.encode(x)
    assert t.shape == (1, 2, 256) and t.dtype == torch.int64 and int(t.max()) < 4096
    assert torch.equal(t, tok.encode(x))
    y = tok.decode(tok.truncate(t, 16), (256, 256))
    assert y.shape == x.shape
    assert tok.decode(torch.full_like(t, 4096), (256, 256)).shape == x.shape  # nothing received
    odd = torch.zeros(1, 3, 1, 40, 72)
    to = tok.encode(odd)
    assert to.shape == (1, 1, 3 * 5) and tok.decode(to, (40, 72)).shape == odd.shape


def test_prefix_quality_non_decreasing(sample_path):
    from tokcom.metrics.pixel import psnr_per_frame
    from tokcom.video import from_tensor, read_video, to_tensor

    v = read_video(sample_path, frames=3, size="256x256")
    tok = load_tokenizer("tokcom-resitok")
    t = tok.encode(to_tensor(v))
    ps = []
    for k in (16, 32, 64, 128, 256):
        r = from_tensor(tok.decode(tok.truncate(t, k), (256, 256)))[0]
        ps.append(float(psnr_per_frame(v.frames, r).mean()))
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(ps)), ps
    assert ps[-1] > 18.0, ps
