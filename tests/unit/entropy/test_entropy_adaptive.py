"""Order-0 adaptive coding (tokcom.entropy.adaptive): lossless round trips in a shared stream, the code length
against its ideal, constant maps at the cost of the alphabet mask, and bad data that never raises."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("constriction")

from tokcom.entropy.adaptive import adaptive_bits, read_adaptive, write_adaptive
from tokcom.entropy.stream import StreamReader, StreamWriter


def _code(symbols: np.ndarray, n: int, key: bytes | None = None) -> bytes:
    w = StreamWriter()
    write_adaptive(w, symbols, n)
    w.categorical(np.array([3]), np.ones((1, 7)))  # a segment after it: the reader must stop exactly
    return w.finish(key)


@pytest.mark.parametrize("key", [None, b"k|1"])
def test_round_trip_and_length(key):
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 17))
        m = int(rng.integers(0, 400))
        used = int(rng.integers(1, n + 1))
        s = rng.integers(0, used, m)
        data = _code(s, n, key)
        r = StreamReader(data, key)
        assert np.array_equal(read_adaptive(r, m, n), s)
        assert int(r.categorical(np.ones((1, 7)))[0]) == 3 and r.exhausted()
        if m:  # the coded length tracks the ideal one (32-bit words, a flush, the 3-bit trailer)
            ideal = adaptive_bits(s, n) + np.log2(7)
            assert ideal - 1 <= 8 * len(data) - (40 if key else 0) <= ideal + 96


def test_constant_and_skewed_maps_are_cheap():
    assert adaptive_bits(np.zeros(1000, int), 16) == 16  # the mask alone
    rng = np.random.default_rng(1)
    s = rng.choice(3, 1000, p=[0.8, 0.15, 0.05])
    p = np.bincount(s) / s.size
    h = float(-(p * np.log2(p)).sum())  # the empirical entropy: what a two-pass code with a free table gets
    assert 1000 * h < adaptive_bits(s, 16) < 1000 * h + 16 + 2 * np.log2(1000) + 8  # + mask + learning cost
    with pytest.raises(ValueError):
        adaptive_bits(np.array([5]), 4)


def test_bad_data_never_raises():
    rng = np.random.default_rng(2)
    s = rng.integers(0, 6, 300)
    data = _code(s, 16)
    for trial in range(300):
        d = bytearray(data)
        kind = trial % 3
        if kind == 0:
            d = d[: int(rng.integers(0, len(d)))]
        elif kind == 1:
            i = int(rng.integers(0, len(d)))
            d[i] ^= 1 << int(rng.integers(0, 8))
        else:
            d = bytearray(rng.bytes(int(rng.integers(0, 64))))
        r = StreamReader(bytes(d), None)
        out = read_adaptive(r, 300, 16)
        assert out.shape == (300,) and out.min() >= 0 and out.max() < 16
    # a truncated bare stream decodes without error but is not exhausted
    r = StreamReader(data[:-4], None)
    read_adaptive(r, 300, 16)
    r.categorical(np.ones((1, 7)))
    assert not r.exhausted()
