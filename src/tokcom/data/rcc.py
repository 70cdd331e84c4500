"""A reader for Qt binary resource archives (``.rcc``, format versions 1–3).

Layout (Qt ``rcc`` / ``QResourceRoot``; all integers big-endian)::

    header   "qres" | version u32 | tree_offset u32 | data_offset u32 | names_offset u32 | [flags u32, v3]
    tree     node[i] at tree_offset + i * (14 | 22 when version >= 2):
               name_offset u32 | flags u16 |
               dir:  child_count u32 | first_child u32          (flags & 0x02)
               file: territory u16 | language u16 | data_offset u32
               [last_modified_ms u64, version >= 2]
    names    at names_offset + name_offset: length u16 | hash u32 | UTF-16BE chars
    data     at data_offset + offset: size u32 | bytes
             flags & 0x01: zlib (qCompress: expected size u32 | zlib stream); flags & 0x04: zstd

Node 0 is the root directory. Nothing here raises on a malformed archive except
:class:`tokcom.errors.InputError` (one line) for a header that is not an rcc archive; entries that point
outside the file, loop, or fail to decompress are skipped.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from tokcom.errors import InputError

__all__ = ["RccEntry", "iter_rcc", "list_rcc", "read_rcc_entry"]

_COMPRESSED = 0x01
_DIRECTORY = 0x02
_ZSTD = 0x04
_MAX_NODES = 1_000_000
_MAX_FILE_BYTES = 512 << 20


@dataclass(frozen=True)
class RccEntry:
    """One file in an rcc archive.

    Attributes:
        path: ``/``-separated path inside the archive (no leading slash).
        data_pos: absolute byte offset of the entry's ``size u32 | bytes`` record.
        stored_bytes: size of the stored (possibly compressed) payload.
        compression: ``none``, ``zlib`` or ``zstd``.
    """

    path: str
    data_pos: int
    stored_bytes: int
    compression: str


def _u16(b: bytes, pos: int) -> int | None:
    return struct.unpack_from(">H", b, pos)[0] if 0 <= pos and pos + 2 <= len(b) else None


def _u32(b: bytes, pos: int) -> int | None:
    return struct.unpack_from(">I", b, pos)[0] if 0 <= pos and pos + 4 <= len(b) else None


def _header(b: bytes) -> tuple[int, int, int, int]:
    if len(b) < 20 or b[:4] != b"qres":
        raise InputError("not a Qt resource archive (.rcc): missing 'qres' header")
    version, tree, data, names = struct.unpack_from(">IIII", b, 4)
    if version not in (1, 2, 3):
        raise InputError(f"unsupported .rcc format version {version} (supported: 1–3)")
    if max(tree, data, names) >= len(b):
        raise InputError("corrupt .rcc archive: a section offset lies beyond the end of the file")
    return version, tree, data, names


def _name(b: bytes, names: int, off: int) -> str | None:
    pos = names + off
    n = _u16(b, pos)
    if n is None or pos + 6 + 2 * n > len(b):
        return None
    try:
        return b[pos + 6: pos + 6 + 2 * n].decode("utf-16-be")
    except UnicodeDecodeError:
        return None


def list_rcc(b: bytes) -> list[RccEntry]:
    """Every file entry of the archive ``b`` (depth-first order), malformed nodes skipped.

    Raises:
        InputError: ``b`` is not an rcc archive of a supported version.
    """
    version, tree, data, names = _header(b)
    node_size = 22 if version >= 2 else 14
    out: list[RccEntry] = []
    seen: set[int] = set()
    stack: list[tuple[int, str]] = [(0, "")]
    while stack and len(seen) < _MAX_NODES:
        node, prefix = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        pos = tree + node * node_size
        if pos + 14 > len(b):
            continue
        name_off = _u32(b, pos)
        flags = _u16(b, pos + 4)
        if name_off is None or flags is None:
            continue
        name = "" if node == 0 else _name(b, names, name_off)
        if name is None or "/" in name or name in (".", ".."):
            continue
        path = f"{prefix}/{name}" if prefix else name
        if flags & _DIRECTORY:
            count, first = _u32(b, pos + 6), _u32(b, pos + 10)
            if count is None or first is None or first + count > _MAX_NODES:
                continue
            for child in range(first + count - 1, first - 1, -1):  # reversed: popped in order
                stack.append((child, path))
            continue
        off = _u32(b, pos + 10)
        if off is None:
            continue
        rec = data + off
        size = _u32(b, rec)
        if size is None or rec + 4 + size > len(b) or not path:
            continue
        comp = "zstd" if flags & _ZSTD else "zlib" if flags & _COMPRESSED else "none"
        out.append(RccEntry(path=path, data_pos=rec, stored_bytes=size, compression=comp))
    return out


def read_rcc_entry(b: bytes, entry: RccEntry) -> bytes | None:
    """The uncompressed bytes of ``entry``, or None when they cannot be read (corrupt, zstd unavailable)."""
    size = _u32(b, entry.data_pos)
    if size is None or entry.data_pos + 4 + size > len(b):
        return None
    payload = b[entry.data_pos + 4: entry.data_pos + 4 + size]
    if entry.compression == "none":
        return payload
    if entry.compression == "zlib":
        if len(payload) < 4:
            return None
        expected = struct.unpack_from(">I", payload, 0)[0]
        if expected > _MAX_FILE_BYTES:
            return None
        try:
            d = zlib.decompressobj()
            raw = d.decompress(payload[4:], expected or _MAX_FILE_BYTES)
        except zlib.error:
            return None
        return raw if (not expected or len(raw) == expected) else None
    try:  # zstd (Qt >= 5.13); optional
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        return zstandard.ZstdDecompressor().decompress(payload, max_output_size=_MAX_FILE_BYTES)
    except Exception:  # noqa: BLE001 - any decoder failure means: skip this entry
        return None


def iter_rcc(b: bytes, suffixes: tuple[str, ...] = ()) -> Iterator[tuple[str, bytes]]:
    """``(path, bytes)`` for each readable file (optionally only names ending in ``suffixes``, lower case).

    Raises:
        InputError: ``b`` is not an rcc archive of a supported version.
    """
    for e in list_rcc(b):
        if suffixes and not e.path.lower().endswith(suffixes):
            continue
        raw = read_rcc_entry(b, e)
        if raw is not None:
            yield e.path, raw
