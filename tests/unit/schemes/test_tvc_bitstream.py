"""TVC's PDUs: round trips, and parsers that never raise on garbage (fuzzed, tokcom.testing.fuzz style)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tokcom.schemes.tvc import bitstream as bs

C = bs.ContinuousPdu(gop=3, first_frame=51, frames=17, grid=(3, 16, 16), step_q8=bs.step_code(0.75),
                     z_bytes=b"\xec" + bytes(range(40)), y_bytes=b"\xec" + bytes(range(200)))
D = bs.DiscretePdu(gop=3, grid=(3, 16, 16), n_visible=4, interval=16, raw=False, data=bytes(range(256)) * 3)


def test_round_trips():
    assert bs.parse_continuous(bs.pack_continuous(C)) == C and C.step == 0.75
    assert bs.parse_discrete(bs.pack_discrete(D)) == D
    d2 = replace(D, raw=True, data=b"")
    assert bs.parse_discrete(bs.pack_discrete(d2)) == d2
    assert bs.parse_continuous(bs.pack_discrete(D)) is None and bs.parse_discrete(bs.pack_continuous(C)) is None


def test_parsers_never_raise_on_garbage():
    rng = np.random.default_rng(0)
    good = [bs.pack_continuous(C), bs.pack_discrete(D)]
    for k in range(3000):
        src = bytearray(good[k % 2])
        r = k % 5
        if r == 0:
            src = bytearray(rng.bytes(int(rng.integers(0, 80))))
            if src and rng.random() < 0.5:
                src[0] = int(rng.choice([bs.C_TAG, bs.D_TAG]))
        elif r == 1:
            del src[int(rng.integers(0, len(src))):]
        elif r == 2:
            for _ in range(int(rng.integers(1, 4))):
                src[int(rng.integers(0, len(src)))] ^= 1 << int(rng.integers(0, 8))
        else:  # well-formed (valid CRC) but with random header bytes
            body = bytearray(src[:-4])
            for _ in range(int(rng.integers(1, 6))):
                body[int(rng.integers(1, min(len(body), 16)))] = int(rng.integers(0, 256))
            src = bytearray(bs._seal(body))
        for parse in (bs.parse_continuous, bs.parse_discrete):
            p = parse(bytes(src))
            if p is not None:
                assert min(p.grid) >= 1
    assert bs.parse_continuous(b"") is None and bs.parse_discrete(None) is None  # type: ignore[arg-type]
