"""Wire primitives shared by the schemes' PDU formats: LEB128 varints and a trailing CRC-32.

::

    varint   7 bits per byte, least significant group first, high bit = more bytes follow (≤ 5 bytes here)
    CRC      body ‖ CRC-32/IEEE-802.3 of the body, 4 bytes little-endian

Parsers never raise on garbage: :func:`get_varint` raises ``ValueError`` (callers catch it where they parse
untrusted input), :func:`strip_crc32` returns None.
"""

from __future__ import annotations

import struct
import zlib

MAX_VARINT_SHIFT = 35  # values < 2**42: far beyond any count or offset of a transmission


def put_varint(out: bytearray, v: int) -> None:
    """Append the unsigned ``v`` to ``out``."""
    v = int(v)
    if v < 0:
        raise ValueError("varints are unsigned")
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def get_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """``(value, next position)``; ValueError on a truncated or over-long varint."""
    v, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > MAX_VARINT_SHIFT:
            raise ValueError("bad varint")
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, pos


def get_varints(buf: bytes, pos: int, count: int) -> tuple[list[int], int] | None:
    """``count`` varints from ``pos``: ``(values, next position)``, or None when any is truncated or too long."""
    vals = []
    try:
        for _ in range(count):
            v, pos = get_varint(buf, pos)
            vals.append(v)
    except ValueError:
        return None
    return vals, pos


def with_crc32(body: bytes | bytearray) -> bytes:
    """``body`` followed by its CRC-32 (4 bytes, little-endian)."""
    return bytes(body) + struct.pack("<I", zlib.crc32(bytes(body)) & 0xFFFFFFFF)


def strip_crc32(payload: bytes) -> bytes | None:
    """The body of a :func:`with_crc32` payload, or None when it is too short or its CRC fails."""
    if len(payload) < 5:
        return None
    body, crc = payload[:-4], struct.unpack("<I", payload[-4:])[0]
    return body if zlib.crc32(body) & 0xFFFFFFFF == crc else None
