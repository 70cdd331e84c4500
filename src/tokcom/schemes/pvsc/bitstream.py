"""PVSC's digital streams (002_165f6aebfafa3581.txt §II-B, Fig. 5): one side-information PDU per frame
carrying b_z and b_k, and — only over a link without an analog channel — the frame's symbols as PDUs.

Side PDU (numpy/zlib only; no torch)::

    byte 0        0x50 ('P')
    byte 1        quality preset (bits 0–3) | rate-map codec (bits 4–5: 0 deflate, 1 png, 2 arith) |
                  bit 6: a quality between presets follows | bit 7: 0
    [byte]        only with bit 6: the quality's fraction above the preset, 1…255 (/256)
    varint        frame index t
    varint        sym_start: offset of s_t in Transmission.symbols (or in the frame's symbol PDU)
    varint        sym_count: L_t = Σ⌈k/2⌉ (checked against the rate map)
    varint        len(b_z)
    b_z           deflate / png: the factorized prior's stream (eqs. 8–9; its own 5-byte tag + CRC-32
                  header); arith: one bare range-coded stream, ẑ's segment then the rate map's
    b_k           deflate / png: the rate map k_t (eq. 14's indices), the rest of the PDU before the CRC;
                  arith: empty
    4 bytes       CRC-32 (LE) of everything before it

Rate-map codecs (all lossless): ``arith`` (the default) — the map in raster order, order-0 adaptive
(:mod:`tokcom.entropy.adaptive`), in the same range-coded stream as ẑ without that stream's own header
(the PDU's CRC covers it): one stream flush and 5 bytes less per frame; ``deflate`` — indices packed two
per byte (4-bit) when the rate set has ≤ 16 levels and compressed with raw DEFLATE (the compression inside
PNG), or stored packed when that is shorter (first byte 0: stored, 1: deflated); ``png`` —
``cv2.imencode(".png")`` of the uint8 index map, as the paper (§II-B; its ~60-byte container dominates at
small frames).

Digital symbol PDU (erasure links only; a tokcom fallback)::

    byte 0 0x53 ('S') | varint frame | varint count | byte bits | uniform quantised I/Q, bits each,
    over [−clip, clip] (big-endian bit packing) | CRC-32 (LE)
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from tokcom.coding.wire import get_varint, get_varints, put_varint, strip_crc32, with_crc32
from tokcom.entropy.adaptive import adaptive_bits, read_adaptive, write_adaptive
from tokcom.entropy.stream import StreamReader, StreamWriter
from tokcom.schemes.pvsc.config import QUALITY_RESOLUTION, snap_quality

SIDE_TAG = 0x50
SYM_TAG = 0x53
CODECS = ("deflate", "png", "arith")
_FRACTION = 0x40  # byte 1, bit 6
DIGITAL_CLIP = 4.0


# --------------------------------------------------------------------------------------------- rate map
def rate_map_bits(kidx: np.ndarray, levels: int, codec: str = "arith") -> float:
    """b(k) of eq. (25): the bits the rate map costs with ``codec`` (arith: the ideal code length of its
    segment; deflate / png: the bytes)."""
    if codec == "arith":
        return adaptive_bits(np.asarray(kidx).reshape(-1), levels)
    return 8.0 * len(encode_rate_map(kidx, codec, levels))


def encode_streams(prior, z_hat, kidx: np.ndarray, codec: str, levels: int) -> tuple[bytes, bytes]:
    """``(b_z, b_k)`` as the side PDU carries them: ``prior`` (a :class:`~tokcom.entropy.FactorizedPrior`)
    codes ẑ ``[1, C_z, h, w]``; ``kidx`` ``[H/16, W/16]`` is the rate map. arith: one bare stream holding
    both, and an empty b_k."""
    if codec != "arith":
        return prior.compress(z_hat), encode_rate_map(kidx, codec, levels)
    w = StreamWriter()
    prior.write(w, z_hat)
    write_adaptive(w, np.asarray(kidx, np.int64).reshape(-1), levels)
    return w.finish(None), b""


def decode_streams(prior, z_bytes: bytes, k_bytes: bytes, z_shape: tuple[int, ...], grid: tuple[int, int],
                   levels: int, codec: str):
    """``(ẑ float32 tensor, rate map uint8 [h, w])`` from a side PDU's streams, or None when they do not
    decode to a frame of this shape (never raises)."""
    if codec != "arith":
        kidx = decode_rate_map(k_bytes, grid, levels, codec)
        if kidx is None:
            return None
        z_hat, ok = prior.decompress(z_bytes, z_shape)
        return (z_hat, kidx) if ok else None
    if k_bytes:
        return None
    r = StreamReader(z_bytes, None)
    z_hat = prior.read(r, z_shape)
    k = read_adaptive(r, grid[0] * grid[1], levels)
    if not r.exhausted():  # a bare stream has no CRC of its own: a truncated one fails here
        return None
    return z_hat, k.astype(np.uint8).reshape(grid)


def encode_rate_map(kidx: np.ndarray, codec: str = "deflate", levels: int = 16) -> bytes:
    """b_k as its own stream (codecs ``deflate`` / ``png``): the rate map ``[h, w]`` uint8 (indices into a
    rate set of ``levels`` values), losslessly. With ``deflate`` the indices are packed two per byte when
    ``levels`` ≤ 16 — the receiver decides the same way from the rate set it knows."""
    k = np.ascontiguousarray(np.asarray(kidx, np.uint8))
    if codec == "png":
        import cv2

        ok, buf = cv2.imencode(".png", k, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        if not ok:  # pragma: no cover - cv2 always encodes a uint8 image
            raise RuntimeError("cv2 could not PNG-encode the rate map")
        return buf.tobytes()
    if codec != "deflate":
        raise ValueError(f"a separate rate-map stream is deflate or png; got {codec!r}")
    flat = k.reshape(-1)
    if flat.size and int(flat.max()) >= levels:
        raise ValueError(f"rate-map index {int(flat.max())} outside a rate set of {levels} levels")
    if levels <= 16:
        if flat.size % 2:
            flat = np.append(flat, 0).astype(np.uint8)
        packed = (flat[0::2] << 4 | flat[1::2]).astype(np.uint8).tobytes()
    else:
        packed = flat.tobytes()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = c.compress(packed) + c.flush()
    return b"\x01" + deflated if len(deflated) < len(packed) else b"\x00" + packed


def decode_rate_map(data: bytes, shape: tuple[int, int], levels: int, codec: str = "deflate") -> np.ndarray | None:
    """The rate map ``shape`` uint8 with every index < ``levels``, or None when ``data`` does not decode to
    one (never raises)."""
    h, w = int(shape[0]), int(shape[1])
    n = h * w
    try:
        if not data:
            return None
        if codec == "png":
            import cv2

            img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            if img is None or img.dtype != np.uint8 or img.shape != (h, w):
                return None
            k = img
        else:
            body = data[1:]
            if data[0] == 1:
                d = zlib.decompressobj(-15)
                body = d.decompress(body, n + 1)
                if d.unconsumed_tail or not d.eof:
                    return None
            elif data[0] != 0:
                return None
            if levels <= 16:
                if len(body) != (n + 1) // 2:
                    return None
                b = np.frombuffer(body, np.uint8)
                flat = np.empty(2 * b.size, np.uint8)
                flat[0::2], flat[1::2] = b >> 4, b & 0x0F
                k = flat[:n].reshape(h, w)
            else:
                if len(body) != n:
                    return None
                k = np.frombuffer(body, np.uint8).reshape(h, w)
    except Exception:  # noqa: BLE001 - cv2.error, zlib.error, …: hostile bytes are "no rate map"
        return None
    if k.size and int(k.max()) >= levels:
        return None
    return np.ascontiguousarray(k, np.uint8)


# --------------------------------------------------------------------------------------------- side PDU
@dataclass(frozen=True)
class SideInfo:
    """A parsed side PDU (see the module docstring)."""

    frame: int
    quality: float  # a preset (int) or a value between two, a multiple of 1/QUALITY_RESOLUTION
    codec: str
    sym_start: int
    sym_count: int
    z_bytes: bytes
    k_bytes: bytes


def pack_side(info: SideInfo) -> bytes:
    q = snap_quality(info.quality)
    if not 0 <= q < 16:
        raise ValueError("quality must be in [0, 16)")
    preset = int(q)
    frac = round((q - preset) * QUALITY_RESOLUTION)
    body = bytearray([SIDE_TAG, preset | (CODECS.index(info.codec) << 4) | (_FRACTION if frac else 0)])
    if frac:
        body.append(frac)
    for v in (info.frame, info.sym_start, info.sym_count, len(info.z_bytes)):
        put_varint(body, v)
    body += info.z_bytes + info.k_bytes
    return with_crc32(body)


def parse_side(payload: bytes) -> SideInfo | None:
    """A side PDU, or None when it is not one (wrong tag, CRC, framing). Never raises."""
    body = strip_crc32(bytes(payload))
    if body is None or len(body) < 2 or body[0] != SIDE_TAG or body[1] >> 7:
        return None
    codec_index = (body[1] >> 4) & 0x03
    if codec_index >= len(CODECS):
        return None
    quality: float = body[1] & 0x0F
    pos = 2
    if body[1] & _FRACTION:
        if len(body) < 3 or body[2] == 0:
            return None
        quality = snap_quality(quality + body[2] / QUALITY_RESOLUTION)
        pos = 3
    got = get_varints(body, pos, 4)
    if got is None:
        return None
    (frame, start, count, nz), pos = got
    if pos + nz > len(body):
        return None
    return SideInfo(frame, quality, CODECS[codec_index], start, count, bytes(body[pos:pos + nz]),
                    bytes(body[pos + nz:]))


# --------------------------------------------------------------------------------------------- symbols
def sanitise_symbols(symbols: np.ndarray | None, clip: float) -> tuple[np.ndarray, int]:
    """Symbols as complex64 with NaN/inf → 0 and magnitudes clipped to ``clip``; ``(symbols, how many were
    changed)``. The receiver applies it to what arrives, the transmitter to what it sends before its buffer
    update (eqs. 22–24), so that both ends decode the same values over an ideal channel."""
    if symbols is None:
        return np.zeros(0, np.complex64), 0
    s = np.asarray(symbols)
    if s.ndim != 1 or not (np.iscomplexobj(s) or np.issubdtype(s.dtype, np.number)):
        return np.zeros(0, np.complex64), int(s.size)
    s = s.astype(np.complex128, copy=True)
    bad = ~(np.isfinite(s.real) & np.isfinite(s.imag))
    s[bad] = 0
    mag = np.abs(s)
    over = mag > clip
    s[over] *= clip / mag[over]
    return s.astype(np.complex64), int(bad.sum() + over.sum())


def _quantise_iq(symbols: np.ndarray, bits: int, clip: float) -> np.ndarray:
    """I and Q of ``symbols`` as uniform ``bits``-bit levels over [−clip, clip] (int64, I/Q interleaved)."""
    s = np.asarray(symbols, np.complex64)
    iq = np.stack([s.real, s.imag], axis=-1).reshape(-1).astype(np.float64)
    levels = (1 << bits) - 1
    return np.rint((np.clip(np.nan_to_num(iq), -clip, clip) + clip) / (2 * clip) * levels).astype(np.int64)


def _dequantise_iq(q: np.ndarray, bits: int, clip: float) -> np.ndarray:
    iq = q / ((1 << bits) - 1) * 2 * clip - clip
    return (iq[0::2] + 1j * iq[1::2]).astype(np.complex64)


def digital_symbols(symbols: np.ndarray, bits: int, clip: float = DIGITAL_CLIP) -> np.ndarray:
    """What a receiver gets from :func:`pack_symbols_pdu` of ``symbols`` when the PDU arrives: the
    transmitter's buffer update (eqs. 22–24) uses it over a digital carriage, so both buffers stay equal."""
    return _dequantise_iq(_quantise_iq(symbols, bits, clip), bits, clip)


def pack_symbols_pdu(frame: int, symbols: np.ndarray, bits: int, clip: float = DIGITAL_CLIP) -> bytes:
    """A frame's complex symbols, I and Q uniformly quantised to ``bits`` bits over [−clip, clip]."""
    s = np.asarray(symbols, np.complex64)
    q = _quantise_iq(s, bits, clip)
    body = bytearray([SYM_TAG])
    put_varint(body, frame)
    put_varint(body, s.size)
    body.append(bits)
    if q.size:
        shifts = np.arange(bits - 1, -1, -1)
        body += np.packbits(((q[:, None] >> shifts) & 1).astype(np.uint8).reshape(-1)).tobytes()
    return with_crc32(body)


def parse_symbols_pdu(payload: bytes, clip: float = DIGITAL_CLIP, max_count: int = 1 << 26
                      ) -> tuple[int, np.ndarray] | None:
    """``(frame, symbols complex64)`` of a symbol PDU, or None (never raises)."""
    body = strip_crc32(bytes(payload))
    if body is None or body[0] != SYM_TAG:
        return None
    try:
        frame, pos = get_varint(body, 1)
        count, pos = get_varint(body, pos)
        if pos >= len(body) or count > max_count:
            return None
        bits = body[pos]
        pos += 1
    except ValueError:
        return None
    if not 2 <= bits <= 16:
        return None
    need = (2 * count * bits + 7) // 8
    if len(body) - pos != need:
        return None
    raw = np.unpackbits(np.frombuffer(body[pos:], np.uint8))[: 2 * count * bits].reshape(-1, bits).astype(np.int64)
    q = (raw << np.arange(bits - 1, -1, -1)).sum(axis=1) if count else np.zeros(0, np.int64)
    return frame, _dequantise_iq(q, bits, clip)
