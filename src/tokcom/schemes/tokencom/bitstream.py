"""TokenCom's exact wire format: token PDUs per class and side-information PDUs (000_cfad1eb21f67e2e2.txt
§II-C/D/E). Every parser returns None on anything malformed — it never raises on received bytes.

Token PDU (one per L_c tokens of a class, §II-D-b; H_c = 96 bits)::

    kind u8 (0x10 | class) | bits u8 | first u32 | count u16 | CRC-32 (header + values) | count × bits values

``first`` is the position of the PDU's first token in its class stream:

* intended stream: Z_ref (token frame 0, all h·w positions, raster order), then for τ = 1 … t−1 the
  positions with S_τ = 1 (raster order) — all at B_full bits (Alg. 2 step 1, §II-C-a);
* non-intended stream: for τ = 1 … t−1 the positions with S_τ = 0, as shifted differences at B_Δ bits
  (eqs. 9–12).

Side information (§II-E, eq. 33), fragmented into PDUs of at most ``SIDE_FRAGMENT_BYTES``::

    fragment: "TS" | index u8 | count u8 | length u16 | CRC-32 | body bytes
    body:     version u8 | mode u8 | tokenizer u8 | t u16 | h u16 | w u16 | B_full u8 | B_Δ u8 | N u32 |
              g u8 | B_mv u8 | then mode 0 (intent): S_0 (h·w bits) + (t−1)·⌈h/g⌉·⌈w/g⌉ vectors (B_mv bits:
              two offset-binary components) | mode 1 (random ablation): seed u32 + t counts u32
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from tokcom.coding.tokens import bits_to_uint, pack_uint, uint_to_bits, unpack_uint
from tokcom.intent.motion import mv_components, num_blocks

CLASS_ID = {"intended": 0, "non_intended": 1}
_TOKEN_HDR = struct.Struct("!BBIH")
TOKEN_HEADER_BITS = 8 * (_TOKEN_HDR.size + 4)  # H_c: header + CRC-32
_SIDE_FRAG = struct.Struct("!2sBBH")
_SIDE_BODY = struct.Struct("!BBBHHHBBIBB")
SIDE_FRAGMENT_BYTES = 1024
SIDE_VERSION = 1
MODE_INTENT, MODE_RANDOM = 0, 1


def token_pdus(values: np.ndarray, bits: int, cls: str, tokens_per_pdu: int) -> list[tuple[bytes, int, int]]:
    """Split one class stream into PDUs: ``[(payload, num_bits, first), ...]`` (num_bits excludes padding)."""
    v = np.asarray(values, np.int64).ravel()
    out = []
    for first in range(0, v.size, tokens_per_pdu):
        chunk = v[first:first + tokens_per_pdu]
        body = pack_uint(chunk, bits)
        hdr = _TOKEN_HDR.pack(0x10 | CLASS_ID[cls], bits, first, chunk.size)
        crc = zlib.crc32(hdr + body) & 0xFFFFFFFF
        out.append((hdr + struct.pack("!I", crc) + body, TOKEN_HEADER_BITS + chunk.size * bits, first))
    return out


@dataclass(frozen=True)
class TokenPdu:
    cls: int
    bits: int
    first: int
    values: np.ndarray


def parse_token_pdu(payload: bytes | None) -> TokenPdu | None:
    """A token PDU back, or None (lost, too short, unknown kind, CRC failure)."""
    if payload is None or len(payload) < _TOKEN_HDR.size + 4:
        return None
    try:
        kind, bits, first, count = _TOKEN_HDR.unpack_from(payload, 0)
        (crc,) = struct.unpack_from("!I", payload, _TOKEN_HDR.size)
    except struct.error:
        return None
    if kind >> 4 != 1 or (kind & 0xF) not in (0, 1) or not 1 <= bits <= 32:
        return None
    nbytes = (count * bits + 7) // 8
    body = payload[_TOKEN_HDR.size + 4:_TOKEN_HDR.size + 4 + nbytes]
    if len(body) < nbytes:
        return None
    if count * bits % 8:  # padding bits are not transmitted: zero them before the check
        body = body[:-1] + bytes([body[-1] & (0xFF << (8 - count * bits % 8)) & 0xFF])
    if zlib.crc32(payload[:_TOKEN_HDR.size] + body) & 0xFFFFFFFF != crc:
        return None
    return TokenPdu(kind & 0xF, bits, first, unpack_uint(body, bits, count))


@dataclass(frozen=True)
class SideInfo:
    """What the receiver learns from the side PDUs."""

    mode: int
    tokenizer_index: int
    latent_shape: tuple[int, int, int]
    b_full: int
    b_delta: int
    codebook_size: int
    block: int
    mv_bits: int
    s0: np.ndarray | None = None  # [h, w] bool (intent mode)
    mvs: np.ndarray | None = None  # [t-1, nbh, nbw, 2] int (intent mode)
    seed: int | None = None  # random mode
    counts: np.ndarray | None = None  # [t] intended tokens per token frame (random mode)


def encode_side_info(si: SideInfo) -> bytes:
    t, h, w = si.latent_shape
    head = _SIDE_BODY.pack(SIDE_VERSION, si.mode, si.tokenizer_index, t, h, w, si.b_full, si.b_delta,
                           si.codebook_size, si.block, si.mv_bits)
    if si.mode == MODE_INTENT:
        comp = mv_components(si.mv_bits)
        half = si.mv_bits // 2
        off = -int(comp[0])
        mv = np.asarray(si.mvs, np.int64).reshape(-1, 2) + off
        codes = (mv[:, 0] << half) | mv[:, 1]
        bits = np.concatenate([np.asarray(si.s0, bool).ravel().astype(np.uint8), uint_to_bits(codes, si.mv_bits)])
        return head + np.packbits(bits).tobytes()
    counts = np.asarray(si.counts, np.int64)
    return head + struct.pack("!I", int(si.seed)) + pack_uint(counts, 32)


def decode_side_info(body: bytes) -> SideInfo | None:
    try:
        (ver, mode, tok, t, h, w, bf, bd, n, g, mvb) = _SIDE_BODY.unpack_from(body, 0)
    except struct.error:
        return None
    if ver != SIDE_VERSION or mode not in (MODE_INTENT, MODE_RANDOM) or min(t, h, w, g) < 1:
        return None
    if not (1 <= bf <= 32 and 2 <= bd <= 32 and 2 <= mvb <= 16 and mvb % 2 == 0):
        return None
    rest = body[_SIDE_BODY.size:]
    common = {"mode": mode, "tokenizer_index": tok, "latent_shape": (t, h, w), "b_full": bf, "b_delta": bd,
                  "codebook_size": n, "block": g, "mv_bits": mvb}
    if mode == MODE_RANDOM:
        if len(rest) < 4 + 4 * t:
            return None
        (seed,) = struct.unpack_from("!I", rest, 0)
        counts = unpack_uint(rest[4:], 32, t)
        if counts.size != t or (counts > h * w).any():
            return None
        return SideInfo(**common, seed=seed, counts=counts)
    nbh, nbw = num_blocks(h, w, g)
    need = h * w + (t - 1) * nbh * nbw * mvb
    bits = np.unpackbits(np.frombuffer(rest, np.uint8))
    if bits.size < need:
        return None
    s0 = bits[: h * w].astype(bool).reshape(h, w)
    codes = bits_to_uint(bits[h * w:need], mvb)
    half = mvb // 2
    off = -int(mv_components(mvb)[0])
    mvs = np.stack([(codes >> half) - off, (codes & ((1 << half) - 1)) - off], axis=-1)
    return SideInfo(**common, s0=s0, mvs=mvs.reshape(t - 1, nbh, nbw, 2))


def side_pdus(body: bytes) -> list[bytes]:
    """Fragment the side-information body into CRC-protected PDUs."""
    chunks = [body[i:i + SIDE_FRAGMENT_BYTES] for i in range(0, len(body), SIDE_FRAGMENT_BYTES)] or [b""]
    if len(chunks) > 255:
        raise ValueError("side information too large")
    out = []
    for i, c in enumerate(chunks):
        hdr = _SIDE_FRAG.pack(b"TS", i, len(chunks), len(c))
        out.append(hdr + struct.pack("!I", zlib.crc32(hdr + c) & 0xFFFFFFFF) + c)
    return out


def join_side_pdus(payloads: list[bytes | None]) -> tuple[bytes | None, int]:
    """Reassemble the side body from received fragments: (body or None, fragments that failed/were lost)."""
    frags: dict[int, bytes] = {}
    total = None
    bad = 0
    for p in payloads:
        if p is None or len(p) < _SIDE_FRAG.size + 4:
            bad += 1
            continue
        magic, idx, cnt, ln = _SIDE_FRAG.unpack_from(p, 0)
        (crc,) = struct.unpack_from("!I", p, _SIDE_FRAG.size)
        c = p[_SIDE_FRAG.size + 4:_SIDE_FRAG.size + 4 + ln]
        if magic != b"TS" or len(c) != ln or zlib.crc32(p[:_SIDE_FRAG.size] + c) & 0xFFFFFFFF != crc or idx >= cnt:
            bad += 1
            continue
        if total is None:
            total = cnt
        if cnt != total:
            bad += 1
            continue
        frags[idx] = c
    if total is None or len(frags) != total:
        return None, bad
    return b"".join(frags[i] for i in range(total)), bad
