"""tokcom.coding.pdu: packetize/depacketize round trips, boundaries, losses, reordering, fuzzing."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from tokcom.coding.pdu import OVERHEAD_BYTES, PDU_BYTES, depacketize, packetize, parse_pdu

CHUNK_HEAD = 7  # tag:u32 | flags:u8 | length:u16


def _messages(rng, n, max_len, tag_max=2**32):
    lens = rng.integers(0, max_len + 1, n)
    tags = rng.integers(0, tag_max, n, dtype=np.uint64)
    return [(int(t), rng.integers(0, 256, int(k), dtype=np.uint8).tobytes()) for t, k in zip(tags, lens)]


def _layout(pdu: bytes):
    """Independent parser of the documented layout: ``seq:u32 | chunk* | crc32:u32`` (big-endian)."""
    assert struct.unpack(">I", pdu[-4:])[0] == zlib.crc32(pdu[:-4])
    (seq,) = struct.unpack(">I", pdu[:4])
    pos, chunks = 4, []
    while pos < len(pdu) - 4:
        tag, flags, n = struct.unpack(">IBH", pdu[pos:pos + 7])
        pos += 7
        chunks.append((tag, flags, pdu[pos:pos + n]))
        pos += n
    assert pos == len(pdu) - 4
    return seq, chunks


def _message_pdus(pdus):
    """For each message, in order: the set of PDU indices its chunks live in (from the raw layout)."""
    spans: list[set[int]] = []
    for i, pdu in enumerate(pdus):
        for _tag, flags, _data in _layout(pdu)[1]:
            if flags & 1:
                spans.append(set())
            spans[-1].add(i)
    return spans


def _check_sizes(pdus, pdu_bytes):
    assert all(OVERHEAD_BYTES + CHUNK_HEAD <= len(p) <= pdu_bytes for p in pdus)


# --------------------------------------------------------------------------------------------- round trips


def test_default_pdu_size():
    assert PDU_BYTES == 1200 and OVERHEAD_BYTES == 8


@pytest.mark.parametrize("seed", range(30))
def test_random_round_trip(seed):
    rng = np.random.default_rng(seed)
    pdu_bytes = int(rng.choice([16, 17, 40, 100, 300, 1200]))
    msgs = _messages(rng, int(rng.integers(0, 40)), int(rng.choice([0, 5, 50, 3000])))
    first = int(rng.integers(0, 1000))
    pdus = packetize(msgs, pdu_bytes, first_seq=first)
    _check_sizes(pdus, pdu_bytes)
    assert [_layout(p)[0] for p in pdus] == list(range(first, first + len(pdus)))
    out, st = depacketize(pdus)
    assert out == msgs
    assert st.messages_ok == len(msgs) and st.messages_dropped == 0
    assert st.pdus_received == len(pdus) and st.pdus_crc_failed == 0 and st.pdus_malformed == 0
    # chunks in the documented layout rebuild the same messages
    rebuilt, cur = [], None
    for p in pdus:
        for tag, flags, data in _layout(p)[1]:
            cur = (tag, bytearray()) if flags & 1 else cur
            assert cur[0] == tag
            cur[1].extend(data)
            if flags & 2:
                rebuilt.append((cur[0], bytes(cur[1])))
    assert rebuilt == msgs


def test_packing_is_tight():
    """Small messages share PDUs: every PDU but the last is (nearly) full."""
    rng = np.random.default_rng(0)
    msgs = _messages(rng, 500, 40)
    pdus = packetize(msgs, 200)
    payload = sum(len(d) + CHUNK_HEAD for _, d in msgs)
    assert len(pdus) <= payload // (200 - OVERHEAD_BYTES) + 2 + len(pdus) // 20  # fragmentation adds a head
    assert all(len(p) >= 200 - CHUNK_HEAD for p in pdus[:-1])


def test_no_messages_no_pdus():
    assert packetize([]) == []
    out, st = depacketize([])
    assert out == [] and st.pdus_received == 0


def test_empty_messages():
    msgs = [(1, b""), (2, b""), (3, b"x"), (4, b"")]
    pdus = packetize(msgs, 16)  # 16 = 8 overhead + 7 chunk head + 1 byte
    _check_sizes(pdus, 16)
    assert depacketize(pdus)[0] == msgs
    big = [(i, b"") for i in range(1000)]
    pdus = packetize(big, 100)
    _check_sizes(pdus, 100)
    assert depacketize(pdus)[0] == big


@pytest.mark.parametrize("pdu_bytes", [16, 64, 1200])
def test_exact_fill_and_one_byte_over(pdu_bytes):
    room = pdu_bytes - OVERHEAD_BYTES - CHUNK_HEAD
    exact = [(7, bytes(range(256)) * (room // 256) + bytes(room % 256))]
    pdus = packetize(exact, pdu_bytes)
    assert len(pdus) == 1 and len(pdus[0]) == pdu_bytes
    assert depacketize(pdus)[0] == exact
    over = [(7, b"\x01" * (room + 1))]
    pdus = packetize(over, pdu_bytes)
    assert len(pdus) == 2 and len(pdus[0]) == pdu_bytes
    assert len(pdus[1]) == OVERHEAD_BYTES + CHUNK_HEAD + 1
    assert depacketize(pdus)[0] == over
    # two messages where the second exactly fills what the first left
    first = (1, b"a" * 3)
    second = (2, b"b" * (room - 3 - CHUNK_HEAD)) if room - 3 - CHUNK_HEAD >= 0 else (2, b"")
    pdus = packetize([first, second], pdu_bytes)
    if room - 3 - CHUNK_HEAD >= 0:
        assert len(pdus) == 1 and len(pdus[0]) == pdu_bytes
    assert depacketize(pdus)[0] == [first, second]


def test_huge_message_spans_many_pdus():
    data = np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    msgs = [(0, b"head"), (5, data), (6, b"tail")]
    pdus = packetize(msgs, 1200)
    _check_sizes(pdus, 1200)
    assert len(pdus) >= 200_000 // (1200 - 15)
    assert depacketize(pdus)[0] == msgs
    # larger than one u16 chunk
    pdus = packetize([(9, data)], 70_000)
    _check_sizes(pdus, 70_000)
    assert len(pdus) == 4
    assert depacketize(pdus)[0] == [(9, data)]


def test_pdu_too_small_rejected():
    with pytest.raises(ValueError):
        packetize([(0, b"x")], OVERHEAD_BYTES + CHUNK_HEAD)


# --------------------------------------------------------------------------------------------- losses


@pytest.mark.parametrize("seed", range(60))
def test_any_loss_pattern(seed):
    rng = np.random.default_rng(1000 + seed)
    pdu_bytes = int(rng.choice([20, 48, 128]))
    msgs = _messages(rng, int(rng.integers(1, 30)), int(rng.choice([3, 30, 300])), tag_max=4)  # repeated tags
    pdus = packetize(msgs, pdu_bytes)
    spans = _message_pdus(pdus)
    assert len(spans) == len(msgs)
    for trial in range(10):
        p_loss = rng.uniform(0.0, 0.6)
        lost = rng.random(len(pdus)) < p_loss
        rx = [None if lost[i] else p for i, p in enumerate(pdus)]
        out, st = depacketize(rx)
        expected = [m for m, span in zip(msgs, spans) if not any(lost[i] for i in span)]
        assert out == expected
        assert st.pdus_received == int((~lost).sum())
        assert st.messages_ok == len(expected)
        # dropping PDUs altogether (instead of None placeholders) changes nothing
        assert depacketize([p for p in rx if p is not None])[0] == expected


def test_lost_middle_fragment_never_splices():
    """Two same-tag messages: losing the end of one and the start of the other must not glue them."""
    a, b = (3, b"A" * 50), (3, b"B" * 50)
    pdus = packetize([a, b], 30)
    spans = _message_pdus(pdus)
    for k in range(len(pdus)):
        rx = [None if i == k else p for i, p in enumerate(pdus)]
        out, _ = depacketize(rx)
        assert out == [m for m, s in zip([a, b], spans) if k not in s]


def test_all_lost():
    pdus = packetize([(1, b"x" * 100)], 32)
    out, st = depacketize([None] * len(pdus))
    assert out == [] and st.pdus_received == 0


@pytest.mark.parametrize("seed", range(10))
def test_shuffled_and_duplicated(seed):
    rng = np.random.default_rng(seed)
    msgs = _messages(rng, 25, 200)
    pdus = packetize(msgs, 64, first_seq=int(rng.integers(0, 2**20)))
    rx = list(pdus) + [pdus[int(i)] for i in rng.integers(0, len(pdus), len(pdus) // 2)]
    rng.shuffle(rx)
    out, st = depacketize(rx)
    assert out == msgs
    assert st.pdus_received == len(rx)
    assert st.seqs == sorted({_layout(p)[0] for p in pdus})


# --------------------------------------------------------------------------------------------- damage


def _corrupt(rng, pdu: bytes) -> bytes:
    kind = rng.integers(0, 6)
    b = bytearray(pdu)
    if kind == 0:  # one bit flip
        i = int(rng.integers(0, len(b) * 8))
        b[i // 8] ^= 1 << (i % 8)
    elif kind == 1:  # a burst of bit flips
        for i in rng.integers(0, len(b) * 8, int(rng.integers(2, 20))):
            b[int(i) // 8] ^= 1 << (int(i) % 8)
    elif kind == 2:  # truncated
        b = b[: int(rng.integers(0, len(b)))]
    elif kind == 3:  # extended with junk
        b += rng.integers(0, 256, int(rng.integers(1, 20)), dtype=np.uint8).tobytes()
    elif kind == 4:  # pure garbage of random length
        b = bytearray(rng.integers(0, 256, int(rng.integers(0, 2 * len(pdu))), dtype=np.uint8).tobytes())
    else:  # a byte overwritten
        i = int(rng.integers(0, len(b)))
        b[i] = (b[i] + int(rng.integers(1, 256))) % 256
    return bytes(b)


def test_fuzz_corruptions():
    rng = np.random.default_rng(12345)
    n_corrupted = 0
    for trial in range(400):
        msgs = _messages(rng, int(rng.integers(1, 12)), int(rng.choice([5, 60, 400])), tag_max=8)
        pdus = packetize(msgs, int(rng.choice([24, 64, 200])))
        rx: list = list(pdus)
        bad = rng.random(len(rx)) < 0.3
        bad[int(rng.integers(0, len(rx)))] = True
        for i in np.flatnonzero(bad):
            rx[i] = _corrupt(rng, rx[i])
        rx += [rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8).tobytes() for _ in range(2)]
        n_bad = int(bad.sum()) + 2
        n_corrupted += n_bad
        out, st = depacketize(rx)
        assert st.pdus_received == len(rx)
        assert st.pdus_crc_failed + st.pdus_malformed == n_bad
        # the output is a subsequence of what was sent (corrupted PDUs are dropped, never misread)
        it = iter(msgs)
        assert all(any(m == s for s in it) for m in out)
        # and every message whose PDUs all arrived intact is there
        spans = _message_pdus(pdus)
        intact = [m for m, s in zip(msgs, spans) if not any(bad[i] for i in s)]
        assert out == intact
    assert n_corrupted >= 2000


def test_malformed_with_valid_crc_counted():
    def forge(body: bytes) -> bytes:
        raw = struct.pack(">I", 0) + body
        return raw + struct.pack(">I", zlib.crc32(raw))

    cases = [
        struct.pack(">IBH", 1, 3, 10) + b"abc",    # length runs past the end
        struct.pack(">IBH", 1, 7, 1) + b"x",       # unknown flag bit
        b"\x00\x01\x02",                            # a partial chunk header
    ]
    forged = [forge(c) for c in cases]
    for f in forged:
        assert parse_pdu(f) is None
    out, st = depacketize(forged + [b"", b"\x00" * 7, None])
    assert out == []
    assert st.pdus_malformed == 3 and st.pdus_crc_failed == 2 and st.pdus_received == 5


def test_fuzz_forged_crc_valid_pdus():
    """Random chunk soup with a valid CRC: depacketize never raises."""
    rng = np.random.default_rng(7)
    for _ in range(500):
        pdus = []
        for seq in rng.integers(0, 6, int(rng.integers(1, 6))):
            chunks = []
            for _ in range(int(rng.integers(0, 4))):
                tag, flags, n = (int(x) for x in rng.integers(0, [3, 5, 12]))
                head = struct.pack(">IBH", tag, flags, n)
                chunks.append(head + rng.integers(0, 256, int(rng.integers(0, 12)), dtype=np.uint8).tobytes())
            body = b"".join(chunks)
            raw = struct.pack(">I", int(seq)) + body
            pdus.append(raw + struct.pack(">I", zlib.crc32(raw)))
        out, st = depacketize(pdus)
        assert st.pdus_received == len(pdus)
        assert all(isinstance(t, int) and isinstance(d, bytes) for t, d in out)


def test_parse_pdu_intact():
    pdus = packetize([(5, b"hello"), (6, b"")], 64, first_seq=42)
    seq, chunks = parse_pdu(pdus[0])
    assert seq == 42 and chunks == [(5, 3, b"hello"), (6, 3, b"")]


def test_sequence_number_wraps():
    msgs = [(1, b"x" * 100), (2, b"y" * 100)]
    pdus = packetize(msgs, 40, first_seq=2**32 - 2)
    assert depacketize(pdus)[0] == msgs
