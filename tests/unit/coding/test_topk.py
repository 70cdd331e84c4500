"""Top-K header/body packing (Resi-VidTok eqs. 10–14, 17–19): sizes, round trips, the K* search, and a
parser that survives 10 000 corrupted/truncated frames without an exception (acceptance A3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokcom.coding.topk import (
    TopKFormat,
    apply_update,
    frame_bits,
    k_field_bits,
    pack_frame,
    parse_frame,
    plan_k,
)
from tokcom.errors import InputError

L, VB, ZERO = 256, 12, 4096


def _frame(rng, k=None, p_change=0.5, crc=16):
    fmt = TopKFormat(L, VB, crc)
    z = rng.integers(0, ZERO, L)
    prev = np.where(rng.random(L) < p_change, rng.integers(0, ZERO, L), z)
    prev[rng.random(L) < 0.2] = ZERO  # some positions never received (zero-flag)
    m = z != prev
    k = int(rng.integers(0, L + 1)) if k is None else k
    return fmt, z, prev, m, k


@pytest.mark.parametrize(("n", "bits"), [(0, 1), (1, 1), (2, 2), (255, 8), (256, 9), (511, 9), (512, 10)])
def test_k_field_holds_every_k(n, bits):
    assert k_field_bits(n) == bits
    assert 2 ** bits > n


def test_format_validation():
    with pytest.raises(InputError, match="crc-bits"):
        TopKFormat(L, VB, 8)
    with pytest.raises(InputError, match="value-bits"):
        TopKFormat(L, 0)
    with pytest.raises(InputError):
        TopKFormat(0, VB)
    f = TopKFormat(L, VB, 16)
    assert (f.k_bits, f.overhead_bits, f.max_bits) == (9, 25, 25 + 256 * 13)


@pytest.mark.parametrize("crc", [0, 16, 32])
def test_round_trip_and_eq19(crc):
    rng = np.random.default_rng(crc)
    for _ in range(200):
        fmt, z, prev, m, k = _frame(rng, crc=crc)
        payload, n = pack_frame(z, m, k, fmt)
        # eq. (13) + K-field + CRC, exact, and the payload is the minimal number of bytes
        assert n == fmt.overhead_bits + k + VB * int(m[:k].sum()) == frame_bits(m, k, fmt)
        assert len(payload) == math.ceil(n / 8)
        fr = parse_frame(payload, n, fmt)
        assert fr.status == "ok" and fr.usable and fr.k == k and fr.missing == 0
        np.testing.assert_array_equal(fr.header, m[:k])  # eq. (18)
        np.testing.assert_array_equal(fr.values, z[:k][m[:k]])
        new = apply_update(prev, fr, ZERO)  # eq. (19)
        np.testing.assert_array_equal(new[:k], z[:k])  # r=1 take the value, r=0 already equal
        np.testing.assert_array_equal(new[k:], prev[k:])  # i > K inherit
        # num_bits unknown (None): the parser finds the frame from its K-field and header alone
        assert parse_frame(payload, None, fmt).status == "ok"


def test_first_frame_of_gop_costs_one_plus_bval_per_token():
    fmt = TopKFormat(L, VB, 16)
    m = np.ones(L, bool)  # compared with the zero state: every position changed (eq. 13 convention)
    for k in (0, 1, 17, 256):
        assert frame_bits(m, k, fmt) - fmt.overhead_bits == (1 + VB) * k


def test_plan_k_is_the_largest_feasible_k():
    rng = np.random.default_rng(1)
    fmt = TopKFormat(L, VB, 16)
    for _ in range(300):
        m = rng.random(L) < rng.random()
        budget = int(rng.integers(0, fmt.max_bits + 50))
        sizes = [frame_bits(m, k, fmt) for k in range(L + 1)]
        brute = max((k for k in range(L + 1) if sizes[k] <= budget), default=-1)
        k = plan_k(m, budget, fmt)  # eq. (14)
        assert k == brute
        if k >= 0:
            assert sizes[k] <= budget and (k == L or sizes[k + 1] > budget)
    assert plan_k(np.ones(L, bool), fmt.overhead_bits - 1, fmt) == -1
    assert plan_k(np.ones(L, bool), fmt.overhead_bits, fmt) == 0


def test_pack_rejects_bad_input():
    fmt = TopKFormat(L, VB, 16)
    with pytest.raises(InputError):
        pack_frame(np.full(L, ZERO), np.ones(L, bool), 4, fmt)  # value does not fit 12 bits
    with pytest.raises(InputError):
        pack_frame(np.zeros(L, np.int64), np.ones(L, bool), L + 1, fmt)
    with pytest.raises(InputError):
        pack_frame(np.zeros(10, np.int64), np.ones(10, bool), 1, fmt)


def test_without_crc_a_short_body_is_zero_flag_padded():
    fmt = TopKFormat(L, VB, 0)
    z = np.arange(L, dtype=np.int64)
    m = np.ones(L, bool)
    payload, _ = pack_frame(z, m, 10, fmt)
    cut = fmt.k_bits + 10 + VB * 6 + 5  # header intact, 6 whole values, then half a value
    fr = parse_frame(payload, cut, fmt)
    assert fr.status == "truncated" and fr.usable and fr.missing == 4
    new = apply_update(np.full(L, ZERO), fr, ZERO)
    np.testing.assert_array_equal(new[:6], z[:6])
    assert (new[6:] == ZERO).all()  # the 4 missing values and everything beyond K: zero-flag
    # with a CRC the same cut frame is refused: no update (§III-E-a)
    fmt16 = TopKFormat(L, VB, 16)
    payload, _ = pack_frame(z, m, 10, fmt16)
    fr = parse_frame(payload, cut, fmt16)
    assert not fr.usable and fr.status == "truncated"
    np.testing.assert_array_equal(apply_update(z, fr, ZERO), z)


def test_k_field_beyond_l():
    fmt = TopKFormat(200, VB, 16)  # 8-bit K-field can say 255 > 200
    bits = np.zeros(64, np.uint8)
    bits[:8] = 1
    fr = parse_frame(np.packbits(bits).tobytes(), 64, fmt)
    assert fr.status == "malformed" and not fr.usable
    fr0 = parse_frame(np.packbits(bits).tobytes(), 64, TopKFormat(200, VB, 0))
    assert fr0.usable and fr0.k == 200  # no CRC: clamped, applied, values padded


def _corrupt(rng, payload: bytes, n: int) -> tuple[bytes | None, int | None]:
    kind = rng.integers(0, 6)
    b = np.unpackbits(np.frombuffer(payload, np.uint8))
    if kind == 0:  # a few bit flips inside the frame
        idx = rng.integers(0, n, int(rng.integers(1, 4)))
        b[idx] ^= 1
        return np.packbits(b).tobytes(), n
    if kind == 1:  # burst
        s = int(rng.integers(0, n))
        b[s: s + int(rng.integers(2, 40))] ^= 1
        return np.packbits(b).tobytes(), n
    if kind == 2:  # truncation (bits)
        cut = int(rng.integers(0, n))
        return np.packbits(b[:cut]).tobytes(), cut
    if kind == 3:  # truncation (bytes), num_bits still claims the full frame
        return payload[: int(rng.integers(0, len(payload)))], n
    if kind == 4:  # garbage of any length
        return rng.integers(0, 256, int(rng.integers(0, 600)), dtype=np.uint8).tobytes(), None
    return payload + rng.integers(0, 256, 3, dtype=np.uint8).tobytes(), int(rng.integers(-5, 9000))


@pytest.mark.parametrize("crc", [16, 32, 0])
def test_10000_corruptions_never_raise(crc):
    """A3: corrupted and truncated frames through the parser and the state update: no exception, a
    well-formed state every time, CRC failures counted, undetected errors as rare as the CRC allows."""
    rng = np.random.default_rng(7 + crc)
    counts = {"ok": 0, "crc_failed": 0, "truncated": 0, "malformed": 0}
    undetected = 0
    frames = [_frame(rng, crc=crc) for _ in range(50)]
    for i in range(10_000):
        fmt, z, prev, m, k = frames[i % len(frames)]
        payload, n = pack_frame(z, m, k, fmt)
        want = apply_update(prev, parse_frame(payload, n, fmt), ZERO)
        bad, nb = _corrupt(rng, payload, n)
        fr = parse_frame(bad, nb, fmt)
        counts[fr.status] += 1
        new = apply_update(prev, fr, ZERO)
        assert new.shape == (L,) and new.dtype == np.int64
        assert new.min() >= 0 and new.max() <= ZERO
        if fr.usable and not np.array_equal(new, want):
            undetected += 1
    assert sum(counts.values()) == 10_000
    assert parse_frame(None, None, TopKFormat(L, VB, crc)).usable is False
    if crc:
        assert counts["crc_failed"] > 1000 and counts["truncated"] > 1000
        assert undetected <= (3 if crc == 16 else 0), counts
    else:
        assert undetected > 1000  # without a CRC corruption goes straight into the state
