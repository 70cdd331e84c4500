"""Bit-exact streams over constriction's range coder (numpy only; no torch).

Format of one stream::

    byte 0      format tag (0xEC)
    bytes 1-4   CRC-32 (little endian) of  key ‖ payload   (key: what the caller binds the stream to,
                e.g. the model kind and the tensor shape)
    bytes 5-    payload: constriction RangeEncoder words, uint32 little endian

The range coder is a queue (first in, first out): the decoder reads segments in the order the encoder
wrote them, which is what a two-step checkerboard needs (anchors, then non-anchors).

Two segment kinds:

* ``indexed``: integer values, each with a table index into a :class:`~tokcom.entropy.tables.QuantizedTables`
  family. Values are grouped by index (ascending; within a group in flat order) and each group is coded
  with its table's ``Categorical``. A value outside the table's support is sent as the escape bin,
  followed by its side (below/above; ``Uniform(2)``), the bit length ``nb`` of its excess ``m ≥ 0``
  (``Uniform(32)``) and the ``nb - 1`` bits of ``m`` under its leading one (``Uniform(2**k)`` chunks of at
  most 16 bits). Values must satisfy ``|v| < 2**30``.
* ``categorical``: one symbol per row of an integer-count table ``[M, n]`` (constriction's
  ``Categorical`` model family with per-symbol probabilities).

A container that checks its own integrity (PVSC's side PDU has a CRC-32) may carry the payload alone:
``finish(None)`` writes no tag and no CRC, and ``StreamReader(data, None)`` reads such a payload (5 bytes
less per stream).

Reading never raises on bad data: a CRC mismatch or a short stream sets ``ok = False``; a coder error
(constriction rejects some invalid data) makes that segment and all later ones decode as zeros.
"""

from __future__ import annotations

import zlib

import numpy as np

from tokcom.entropy.tables import QuantizedTables

__all__ = ["MAX_ABS_VALUE", "StreamReader", "StreamWriter", "stream_key"]

_TAG = 0xEC
_HEADER = 5
_NB = 32  # bit lengths 0 … 31 of an escape's excess
_CHUNK = 16
#: Largest |value| an ``indexed`` segment can carry.
MAX_ABS_VALUE = (1 << 30) - 1


def _coder():
    import constriction

    return constriction


def stream_key(kind: str, shape: tuple[int, ...]) -> bytes:
    """The bytes a stream's CRC binds it to: a model kind and a tensor shape."""
    return kind.encode() + b"|" + ",".join(str(int(s)) for s in shape).encode()


def _groups(idx: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(k, flat positions)`` for every distinct index ``k`` in ascending order (stable)."""
    order = np.argsort(idx, kind="stable")
    ks, starts = np.unique(idx[order], return_index=True)
    bounds = list(starts[1:]) + [len(order)]
    return [(int(k), order[s:e]) for k, s, e in zip(ks, starts, bounds)]


class StreamWriter:
    """Appends segments to one range-coded stream; :meth:`finish` returns the bytes."""

    def __init__(self) -> None:
        self._enc = _coder().stream.queue.RangeEncoder()

    def indexed(self, values: np.ndarray, idx: np.ndarray, tables: QuantizedTables) -> None:
        """Code integer ``values`` ``[N]`` with tables ``idx`` ``[N]`` (int64, ``0 ≤ idx < len(tables)``)."""
        v = np.asarray(values, dtype=np.int64).ravel()
        ix = np.asarray(idx, dtype=np.int64).ravel()
        if v.shape != ix.shape:
            raise ValueError(f"values {v.shape} and indexes {ix.shape} differ")
        if v.size and int(np.abs(v).max()) > MAX_ABS_VALUE:
            raise ValueError(f"|value| must be ≤ {MAX_ABS_VALUE}")
        for k, pos in _groups(ix):
            lo, hi = tables.support(k)
            vk = v[pos]
            esc = (vk < lo) | (vk > hi)
            sym = np.where(esc, hi - lo + 1, vk - lo).astype(np.int32)
            self._enc.encode(sym, tables.model(k))
            if esc.any():
                self._escapes(vk[esc], lo, hi)

    def _escapes(self, v: np.ndarray, lo: int, hi: int) -> None:
        m = _coder().stream.model
        above = v > hi
        excess = np.where(above, v - hi - 1, lo - 1 - v)  # ≥ 0
        nb = np.zeros(len(excess), dtype=np.int64)  # exact bit length, 0 for excess 0
        for b in range(_NB - 1):
            nb += (excess >> b) > 0
        self._enc.encode(above.astype(np.int32), m.Uniform(2))
        self._enc.encode(nb.astype(np.int32), m.Uniform(_NB))
        low = excess - np.where(nb > 0, np.int64(1) << np.maximum(nb - 1, 0), 0)  # bits under the top one
        width = np.maximum(nb - 1, 0)
        for c in range(2):
            w = np.clip(width - c * _CHUNK, 0, _CHUNK)
            sel = w > 0
            if sel.any():
                chunk = (low[sel] >> (c * _CHUNK)) & ((np.int64(1) << w[sel]) - 1)
                self._enc.encode(chunk.astype(np.int32), m.Uniform(), (np.int64(1) << w[sel]).astype(np.int32))

    def categorical(self, symbols: np.ndarray, counts: np.ndarray) -> None:
        """Code ``symbols`` ``[M]`` (``0 ≤ s < n``) with per-symbol integer counts ``[M, n]``."""
        s = np.asarray(symbols, dtype=np.int32).ravel()
        if len(s):
            fam = _coder().stream.model.Categorical(perfect=False)
            self._enc.encode(s, fam, np.ascontiguousarray(counts, dtype=np.float64))

    def finish(self, key: bytes | None) -> bytes:
        """The stream: tag, CRC-32 of ``key ‖ payload``, payload; ``key`` None: the payload alone (for a
        container with its own integrity check)."""
        payload = np.asarray(self._enc.get_compressed(), dtype="<u4").tobytes()
        if key is None:
            return payload
        crc = zlib.crc32(key + payload) & 0xFFFFFFFF
        return bytes([_TAG]) + crc.to_bytes(4, "little") + payload


class StreamReader:
    """Reads the segments of a stream in the order they were written; never raises on bad data.

    ``key`` None: ``data`` is a bare payload (``StreamWriter.finish(None)``); only its length is checked.

    Attributes:
        ok: the header and CRC matched and no segment failed so far.
    """

    def __init__(self, data: bytes, key: bytes | None) -> None:
        data = bytes(data)
        if key is None:
            self._valid = len(data) % 4 == 0
            payload = data if self._valid else b""
        else:
            self._valid = len(data) >= _HEADER and data[0] == _TAG
            payload = data[_HEADER:] if self._valid else b""
        if self._valid and key is not None:
            crc = int.from_bytes(data[1:_HEADER], "little")
            self._valid = crc == (zlib.crc32(key + payload) & 0xFFFFFFFF) and len(payload) % 4 == 0
        payload = payload + b"\x00" * (-len(payload) % 4)
        words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
        self._failed = False
        try:
            self._dec = _coder().stream.queue.RangeDecoder(words)
        except Exception:  # noqa: BLE001 - constriction may reject any malformed input
            self._failed = True

    @property
    def ok(self) -> bool:
        return self._valid and not self._failed

    def exhausted(self) -> bool:
        """Every segment has been read and the data is used up (constriction's ``maybe_exhausted``): a
        truncated bare payload decodes without error but fails this check."""
        try:
            return self.ok and bool(self._dec.maybe_exhausted())
        except Exception:  # noqa: BLE001
            return False

    def indexed(self, idx: np.ndarray, tables: QuantizedTables) -> np.ndarray:
        """Values ``[N]`` int64 for tables ``idx`` ``[N]``; zeros where decoding failed."""
        ix = np.asarray(idx, dtype=np.int64).ravel()
        out = np.zeros(len(ix), dtype=np.int64)
        if self._failed:
            return out
        try:
            for k, pos in _groups(ix):
                lo, hi = tables.support(k)
                sym = np.asarray(self._dec.decode(tables.model(k), len(pos)), dtype=np.int64)
                vk = sym + lo
                esc = sym == hi - lo + 1
                if esc.any():
                    vk[esc] = self._escapes(int(esc.sum()), lo, hi)
                out[pos] = vk
        except Exception:  # noqa: BLE001 - invalid data for the model: degrade, never raise
            self._failed = True
        return out

    def _escapes(self, count: int, lo: int, hi: int) -> np.ndarray:
        m = _coder().stream.model
        above = np.asarray(self._dec.decode(m.Uniform(2), count), dtype=np.int64) == 1
        nb = np.asarray(self._dec.decode(m.Uniform(_NB), count), dtype=np.int64)
        width = np.maximum(nb - 1, 0)
        low = np.zeros(count, dtype=np.int64)
        for c in range(2):
            w = np.clip(width - c * _CHUNK, 0, _CHUNK)
            sel = w > 0
            if sel.any():
                sizes = (np.int64(1) << w[sel]).astype(np.int32)
                chunk = np.asarray(self._dec.decode(m.Uniform(), sizes), dtype=np.int64)
                low[sel] |= chunk << (c * _CHUNK)
        excess = low + np.where(nb > 0, np.int64(1) << width, 0)
        return np.where(above, hi + 1 + excess, lo - 1 - excess)

    def categorical(self, counts: np.ndarray) -> np.ndarray:
        """Symbols ``[M]`` int64 for per-symbol counts ``[M, n]``; zeros where decoding failed."""
        c = np.ascontiguousarray(counts, dtype=np.float64)
        if self._failed or len(c) == 0:
            return np.zeros(len(c), dtype=np.int64)
        try:
            fam = _coder().stream.model.Categorical(perfect=False)
            return np.asarray(self._dec.decode(fam, c), dtype=np.int64)
        except Exception:  # noqa: BLE001 - invalid data for the model: degrade, never raise
            self._failed = True
            return np.zeros(len(c), dtype=np.int64)
