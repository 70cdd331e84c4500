"""Bit packing and TokenCom's differential coding (eqs. 9–12, 30–31)."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.coding.tokens import diff_decode, diff_encode, pack_uint, q_of, unpack_uint


@pytest.mark.parametrize("bits", [1, 3, 10, 12, 16, 17, 32])
def test_pack_roundtrip(bits):
    rng = np.random.default_rng(bits)
    v = rng.integers(0, 1 << bits, size=101, dtype=np.int64)
    data = pack_uint(v, bits)
    assert len(data) == (101 * bits + 7) // 8
    np.testing.assert_array_equal(unpack_uint(data, bits, 101), v)
    more = unpack_uint(data, bits, 1000)  # never reads past the end (padding bits read as zeros)
    assert more.size == len(data) * 8 // bits
    np.testing.assert_array_equal(more[:101], v)
    assert not more[101:].any()


def test_pack_is_msb_first():
    assert pack_uint(np.array([1, 2]), 4) == bytes([0x12])
    with pytest.raises(ValueError):
        pack_uint(np.array([16]), 4)


def test_differential_coding_matches_the_equations():
    n = 64000
    b = 11
    q = q_of(b)
    assert q == 1023  # eq. (10)
    z_ref = np.array([0, 100, 5000, 63999, 30000])
    z = np.array([5, 2000, 3000, 0, 30000])
    e = diff_encode(z, z_ref, b)
    np.testing.assert_array_equal(e, np.clip(z - z_ref, -q, q) + q)  # eqs. (9)-(12)
    assert e.min() >= 0 and e.max() <= 2 * q
    back = diff_decode(e, z_ref, b, n)  # eqs. (30)-(31)
    np.testing.assert_array_equal(back, np.clip(z_ref + np.clip(z - z_ref, -q, q), 0, n - 1))
    assert back[0] == 5 and back[4] == 30000  # small differences are exact
    # garbage codes still give valid indices
    assert diff_decode(np.array([(1 << 11) - 1, 0]), np.array([63999, 0]), b, n).tolist() == [63999, 0]
