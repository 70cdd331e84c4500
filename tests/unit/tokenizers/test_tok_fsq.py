"""FSQ: codebook size, index round trip, code range, straight-through gradient."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tokcom.tokenizers.fsq import FSQ


def test_fsq_sizes():
    assert FSQ((8, 8, 8, 5, 5, 5)).codebook_size == 64000
    assert FSQ((8, 8, 8, 8)).codebook_size == 4096


@pytest.mark.parametrize("levels", [(8, 8, 8, 5, 5, 5), (8, 8, 8, 8)])
def test_fsq_round_trip_and_range(levels):
    q = FSQ(levels)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, len(levels), 2, 5, 7, generator=g) * 3
    codes, idx = q(z)
    assert idx.dtype == torch.int64 and idx.shape == (3, 2, 5, 7)
    assert int(idx.min()) >= 0 and int(idx.max()) < q.codebook_size
    assert float(codes.abs().max()) <= 1.0
    assert torch.equal(q.indices_to_codes(idx), codes)
    every = torch.arange(q.codebook_size).view(1, -1)
    assert torch.equal(q.codes_to_indices(q.indices_to_codes(every)), every)


def test_fsq_levels_and_gradient():
    q = FSQ((8, 5))
    z = torch.linspace(-20, 20, 4001).view(1, 1, -1).repeat(1, 2, 1).requires_grad_(True)
    codes, _ = q(z)
    assert len(torch.unique(codes[0, 0])) == 8 and len(torch.unique(codes[0, 1])) == 5
    codes.sum().backward()
    assert z.grad is not None and float(z.grad.abs().sum()) > 0
    c = q.continuous(z.detach())
    assert float(c.min()) >= -1.0 and float(c.max()) <= 1.0
