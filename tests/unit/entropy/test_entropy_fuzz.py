"""Corrupted and truncated streams never raise out of ``decompress``: they decode to a defined,
finite tensor of the right shape with ``ok = False``."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

pytest.importorskip("constriction")
torch = pytest.importorskip("torch")

from tokcom.entropy import (
    CheckerboardCategorical,
    CheckerboardGaussian,
    FactorizedPrior,
    GaussianConditional,
)

CASES = 300


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def corruptions(data: bytes, count: int, seed: int):
    """Seeded truncations, bit flips (header and payload), overwritten spans, random streams, and garbage
    payloads carrying a *valid* header (so the coder itself meets invalid data)."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        b = bytearray(data)
        kind = i % 5
        if kind == 0:
            b = b[: int(rng.integers(0, len(b)))]
        elif kind == 1:
            for _ in range(int(rng.integers(1, 9))):
                pos = int(rng.integers(0, len(b)))
                b[pos] ^= 1 << int(rng.integers(0, 8))
        elif kind == 2:
            start = int(rng.integers(0, len(b)))
            span = int(rng.integers(1, 16))
            b[start : start + span] = rng.integers(0, 256, span, dtype=np.uint8).tobytes()
        elif kind == 3:
            b = bytearray(rng.integers(0, 256, int(rng.integers(0, 2 * len(data))), dtype=np.uint8).tobytes())
        else:
            payload = rng.integers(0, 256, 4 * int(rng.integers(0, len(data) // 2 + 2)), dtype=np.uint8).tobytes()
            b = bytearray(b[:5] + payload)  # header of the real stream, garbage payload
        yield bytes(b)


def _fuzz(decode, data: bytes, shape, dtype, seed: int) -> None:
    assert decode(data).ok
    changed = 0
    for bad in corruptions(data, CASES, seed):
        values, ok = decode(bad)  # must not raise
        assert isinstance(ok, bool)
        assert tuple(values.shape) == tuple(shape) and values.dtype == dtype
        if dtype.is_floating_point:
            assert torch.isfinite(values).all()
        if bad != data:
            changed += 1
            assert not ok
    assert changed > CASES * 0.9


def test_gaussian_conditional_survives_corruption():
    gc = GaussianConditional()
    g = torch.Generator().manual_seed(0)
    scales = torch.exp(torch.randn(2, 3, 8, 8, generator=g) * 1.5)
    means = torch.randn(2, 3, 8, 8, generator=g) * 5
    y = means + scales * torch.randn(2, 3, 8, 8, generator=g)
    data = gc.compress(y, scales, means)
    _fuzz(lambda d: gc.decompress(d, scales, means), data, y.shape, torch.float32, seed=1)


def test_factorized_prior_survives_corruption():
    torch.manual_seed(0)
    prior = FactorizedPrior(3)
    z = torch.randn(2, 3, 6, 5) * 4
    data = prior.compress(z)
    _fuzz(lambda d: prior.decompress(d, z.shape), data, z.shape, torch.float32, seed=2)


def test_checkerboard_gaussian_survives_corruption():
    torch.manual_seed(0)
    m = CheckerboardGaussian(3)
    with torch.no_grad():
        for p in m.fuse[-1].parameters():
            p.normal_(0.0, 0.1)
    g = torch.Generator().manual_seed(3)
    y = torch.randn(2, 3, 7, 9, generator=g) * 4
    hyper = torch.cat([torch.zeros_like(y), torch.full_like(y, 3.0)], dim=1)
    data = m.compress(y, hyper)
    _fuzz(lambda d: m.decompress(d, hyper), data, y.shape, torch.float32, seed=4)


def test_checkerboard_categorical_survives_corruption():
    torch.manual_seed(0)
    levels = (8, 8, 8, 5, 5, 5)
    m = CheckerboardCategorical(levels, context_channels=1, hidden_channels=8)
    g = torch.Generator().manual_seed(5)
    k = torch.stack([torch.randint(0, lv, (2, 7, 9), generator=g) for lv in levels], dim=1)
    ctx = torch.randn(2, 1, 7, 9, generator=g)
    vis = torch.rand(2, 7, 9, generator=g) < 0.75
    data = m.compress(k, ctx, vis)
    _fuzz(lambda d: m.decompress(d, k.shape, ctx, vis), data, k.shape, torch.int64, seed=6)
    values, _ = m.decompress(bytes(len(data)), k.shape, ctx, vis)
    lv = torch.tensor(levels).view(1, -1, 1, 1)
    assert ((values >= 0) & (values < lv)).all()


def test_a_valid_crc_on_garbage_is_still_decoded_safely():
    """The CRC is not what keeps decoding safe: a garbage payload with a matching CRC decodes too."""
    from tokcom.entropy.stream import stream_key

    gc = GaussianConditional()
    scales = torch.full((500,), 0.2)
    rng = np.random.default_rng(7)
    for _ in range(50):
        payload = rng.integers(0, 256, 4 * int(rng.integers(0, 40)), dtype=np.uint8).tobytes()
        crc = zlib.crc32(stream_key("gaussian", (500,)) + payload) & 0xFFFFFFFF
        values, ok = gc.decompress(bytes([0xEC]) + crc.to_bytes(4, "little") + payload, scales)
        assert values.shape == (500,) and torch.isfinite(values).all() and isinstance(ok, bool)
