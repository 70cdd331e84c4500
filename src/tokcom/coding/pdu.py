"""Fixed-size PDUs carrying a sequence of tagged messages, each PDU with a sequence number and a CRC-32.

A *message* is an indivisible unit of a scheme's bitstream (a NAL unit, a frame's token payload, ...),
tagged with a small integer (e.g. the frame it belongs to). Messages are packed back to back into PDUs of
at most ``pdu_bytes`` bytes; a message that does not fit is fragmented across consecutive PDUs, in the
manner of RTP aggregation/fragmentation units (RFC 6184 §5.7–5.8). The receiver rebuilds only messages
whose every fragment arrived intact, so a lost PDU costs the messages it touched and nothing else.

PDU layout (big-endian)::

    seq:u32 | chunk* | crc32:u32          chunk = tag:u32 | flags:u8 | length:u16 | data[length]

flags bit 0: the chunk starts its message; bit 1: the chunk ends its message. The CRC-32 (IEEE 802.3,
``zlib.crc32``) covers every byte before it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PDU_BYTES = 1200  # TokenCom Table II, 000_cfad1eb21f67e2e2.txt
_HEAD = struct.Struct(">I")
_CHUNK = struct.Struct(">IBH")
_CRC = struct.Struct(">I")
OVERHEAD_BYTES = _HEAD.size + _CRC.size
START, END = 1, 2


def packetize(messages: Iterable[tuple[int, bytes]], pdu_bytes: int = PDU_BYTES, first_seq: int = 0,
              spans: list[tuple[int, int]] | None = None) -> list[bytes]:
    """Pack tagged messages into PDUs of at most ``pdu_bytes`` bytes.

    Args:
        messages: ``(tag, data)`` pairs in sending order; ``0 ≤ tag < 2**32``; empty data is allowed.
        pdu_bytes: PDU size limit in bytes (header, chunk headers and CRC included).
        first_seq: sequence number of the first PDU.
        spans: when given, ``(first PDU, last PDU)`` (indices into the result) of every message is appended
            to it, in message order: the PDUs a message needs to arrive whole.

    Returns:
        The PDUs, each ``bytes`` of length ≤ ``pdu_bytes``.
    """
    room = pdu_bytes - OVERHEAD_BYTES - _CHUNK.size
    if room < 1:
        raise ValueError(f"pdu_bytes {pdu_bytes} leaves no room for data")
    pdus: list[bytes] = []
    body = bytearray()

    def flush() -> None:
        nonlocal body
        if body:
            seq = first_seq + len(pdus)
            raw = _HEAD.pack(seq & 0xFFFFFFFF) + bytes(body)
            pdus.append(raw + _CRC.pack(zlib.crc32(raw) & 0xFFFFFFFF))
            body = bytearray()

    for tag, data in messages:
        data = bytes(data)
        pos, first = 0, True
        first_pdu = None
        while True:
            free = pdu_bytes - OVERHEAD_BYTES - len(body) - _CHUNK.size
            if free < 1 and not (free == 0 and len(data) == pos):
                flush()
                continue
            n = min(free, len(data) - pos, 0xFFFF)
            last = pos + n == len(data)
            flags = (START if first else 0) | (END if last else 0)
            body += _CHUNK.pack(tag, flags, n) + data[pos:pos + n]
            if first_pdu is None:
                first_pdu = len(pdus)
            pos += n
            first = False
            if last:
                break
            flush()
        if spans is not None:
            spans.append((first_pdu, len(pdus)))  # the PDU being filled is pdus[len(pdus)] once flushed
    flush()
    return pdus


@dataclass
class DepacketizeStats:
    """What the receiver saw: PDUs received/with a bad CRC/malformed, messages rebuilt/dropped."""

    pdus_received: int = 0
    pdus_crc_failed: int = 0
    pdus_malformed: int = 0
    messages_ok: int = 0
    messages_dropped: int = 0
    seqs: list[int] = field(default_factory=list)


def parse_pdu(pdu: bytes) -> tuple[int, list[tuple[int, int, bytes]]] | None:
    """``(seq, [(tag, flags, data), ...])`` of an intact PDU, or None when its CRC fails or it is malformed."""
    if len(pdu) < OVERHEAD_BYTES:
        return None
    raw, (crc,) = pdu[:-_CRC.size], _CRC.unpack(pdu[-_CRC.size:])
    if zlib.crc32(raw) & 0xFFFFFFFF != crc:
        return None
    (seq,) = _HEAD.unpack_from(raw, 0)
    chunks = []
    pos = _HEAD.size
    while pos < len(raw):
        if pos + _CHUNK.size > len(raw):
            return None
        tag, flags, n = _CHUNK.unpack_from(raw, pos)
        pos += _CHUNK.size
        if pos + n > len(raw) or flags > (START | END):
            return None
        chunks.append((tag, flags, raw[pos:pos + n]))
        pos += n
    return seq, chunks


def _serial_order(seqs) -> list[int]:
    """Sequence numbers in sending order, allowing one wrap past 2**32 − 1 (serial-number arithmetic,
    RFC 1982): when the numbers span more than half the space, the low ones came after the wrap."""
    s = sorted(seqs)
    if s and s[-1] - s[0] > 0x7FFFFFFF:
        return [q for q in s if q > 0x7FFFFFFF] + [q for q in s if q <= 0x7FFFFFFF]
    return s


def depacketize(pdus: Sequence[bytes | None]) -> tuple[list[tuple[int, bytes]], DepacketizeStats]:
    """Rebuild the messages whose every fragment arrived.

    Args:
        pdus: what arrived, in any order; ``None`` for lost PDUs. PDUs with a bad CRC or a malformed layout
            are discarded (counted in the stats); duplicates of a sequence number are ignored.

    Returns:
        ``(messages, stats)``: complete ``(tag, data)`` messages in sequence order.
    """
    stats = DepacketizeStats()
    parsed: dict[int, list[tuple[int, int, bytes]]] = {}
    for pdu in pdus:
        if pdu is None:
            continue
        stats.pdus_received += 1
        r = parse_pdu(bytes(pdu))
        if r is None:
            if len(pdu) >= OVERHEAD_BYTES and zlib.crc32(pdu[:-_CRC.size]) & 0xFFFFFFFF == _CRC.unpack(pdu[-_CRC.size:])[0]:
                stats.pdus_malformed += 1
            else:
                stats.pdus_crc_failed += 1
            continue
        parsed.setdefault(r[0], r[1])
    stats.seqs = _serial_order(parsed)
    messages: list[tuple[int, bytes]] = []
    cur_tag: int | None = None
    cur = bytearray()
    prev_seq: int | None = None
    for seq in stats.seqs:
        if cur_tag is not None and prev_seq is not None and seq != (prev_seq + 1) & 0xFFFFFFFF:
            stats.messages_dropped += 1  # a fragment was lost in the gap
            cur_tag, cur = None, bytearray()
        for tag, flags, data in parsed[seq]:
            if flags & START:
                if cur_tag is not None:
                    stats.messages_dropped += 1
                cur_tag, cur = tag, bytearray(data)
            elif cur_tag is None or tag != cur_tag:
                if cur_tag is not None:
                    stats.messages_dropped += 1
                cur_tag, cur = None, bytearray()
                continue  # continuation of a message whose head was lost
            else:
                cur += data
            if flags & END:
                messages.append((cur_tag, bytes(cur)))
                stats.messages_ok += 1
                cur_tag, cur = None, bytearray()
        prev_seq = seq
    if cur_tag is not None:
        stats.messages_dropped += 1
    return messages, stats
