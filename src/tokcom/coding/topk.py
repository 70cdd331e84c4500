"""Top-K header/body packing of one key frame (Resi-VidTok §III-D/E, 001_c16fa1dac0c35e06.txt).

A key frame's tokens ``z_t`` (``[L]`` int64, most important first) are sent as a *differential* update of the
receiver's running token state: only the first ``K`` positions are eligible, a binary header says which of them
changed, and the body carries the changed values. Bitstream of one frame (MSB first, one PDU)::

    ┌──────────────┬──────────────────────┬──────────────────────────────┬───────────┐
    │ K: k_bits    │ header r_1..r_K: K   │ body: b_val bits × C_t(K)    │ CRC       │
    │ (K-field)    │ (eqs. 10–11)         │ (eq. 12, values in order)    │ crc_bits  │
    └──────────────┴──────────────────────┴──────────────────────────────┴───────────┘

* ``k_bits = ceil(log2(L + 1))`` (9 for L = 256): the paper's header is exactly ``K`` bits (eq. 11), but the
  receiver must know ``K`` to split header from body, so ``K`` itself travels in this small fixed field
  (counted in every budget; docs/deviations.md).
* ``crc_bits`` ∈ {0, 16, 32}: CRC-16/CCITT-FALSE (``binascii.crc_hqx`` from 0xFFFF) or CRC-32 (IEEE 802.3,
  ``zlib.crc32``), the "light CRC" of §III-E-a, computed over the 32-bit big-endian message length in bits
  followed by the message bits packed MSB first (zero-padded to a byte). 0 = no CRC: the receiver then
  applies whatever it parses, zero-flag padding a short body (§III-E-c).

Equations implemented here: (10)–(13) frame size and packing, (14) budget-feasible K (binary search over the
mask prefix sums), (17)–(18) parsing, (19) running-state update with zero-flag padding. The change mask
(eq. 7), MCS/budget (eqs. 8–9) and GOP-level K (eq. 15) live in :mod:`tokcom.schemes.resivid.scheme`.

Everything here is numpy on CPU (convention 7) and deterministic. :func:`parse_frame` never raises: any
byte string, of any length, yields a :class:`ParsedFrame` whose ``status`` says what happened.
"""

from __future__ import annotations

import binascii
import math
import zlib
from dataclasses import dataclass

import numpy as np

from tokcom.coding.tokens import bits_to_uint, uint_to_bits
from tokcom.errors import InputError

CRC_BITS = (0, 16, 32)

__all__ = [
    "CRC_BITS",
    "ParsedFrame",
    "TopKFormat",
    "apply_update",
    "frame_bits",
    "k_field_bits",
    "pack_frame",
    "parse_frame",
    "plan_k",
]


def k_field_bits(num_tokens: int) -> int:
    """Bits of the K-field: ``ceil(log2(L + 1))`` so that every K in ``0..L`` fits (9 for L = 256)."""
    if num_tokens < 0:
        raise InputError(f"number of tokens must be ≥ 0; got {num_tokens}")
    return max(1, math.ceil(math.log2(num_tokens + 1)))


@dataclass(frozen=True)
class TopKFormat:
    """The frame format both ends agree on (from the scheme's configuration and ``StreamInfo``).

    Attributes:
        num_tokens: L, tokens per frame.
        value_bits: b_val, bits per transmitted token value (eq. 12); values must be ``< 2**value_bits``.
        crc_bits: 0, 16 or 32.
    """

    num_tokens: int
    value_bits: int
    crc_bits: int = 16

    def __post_init__(self) -> None:
        if self.num_tokens < 1:
            raise InputError(f"need at least one token per frame; got L = {self.num_tokens}")
        if not 1 <= self.value_bits <= 32:
            raise InputError(f"value-bits must be in 1..32; got {self.value_bits}")
        if self.crc_bits not in CRC_BITS:
            raise InputError(f"crc-bits must be one of {CRC_BITS}; got {self.crc_bits}")

    @property
    def k_bits(self) -> int:
        """Width of the K-field."""
        return k_field_bits(self.num_tokens)

    @property
    def overhead_bits(self) -> int:
        """Fixed bits per frame besides eq. (13): K-field + CRC (the size of a K = 0 frame)."""
        return self.k_bits + self.crc_bits

    @property
    def max_bits(self) -> int:
        """Size of the largest frame (K = L, every position changed)."""
        return self.overhead_bits + self.num_tokens * (1 + self.value_bits)


def _prefix_counts(mask: np.ndarray) -> np.ndarray:
    """``[L + 1]`` int64: C_t(K) = Σ_{i ≤ K} m_{t,i} for K = 0..L (eq. 12)."""
    m = np.asarray(mask, dtype=bool).reshape(-1)
    return np.concatenate([[0], np.cumsum(m, dtype=np.int64)])


def frame_bits(mask: np.ndarray, k: int, fmt: TopKFormat) -> int:
    """Bits of the frame for prefix depth ``k``: n_t(K) of eq. (13) plus the K-field and CRC.

    Args:
        mask: ``[L]`` bool change mask m_t (eq. 7).
        k: K in ``0..L``.
        fmt: the frame format.
    """
    m = np.asarray(mask, dtype=bool).reshape(-1)
    if not 0 <= k <= m.size:
        raise InputError(f"K must be in 0..{m.size}; got {k}")
    c = int(m[:k].sum())
    return fmt.overhead_bits + k + fmt.value_bits * c  # eq. (13), 001_c16fa1dac0c35e06.txt (+ K-field, CRC)


def plan_k(mask: np.ndarray, budget_bits: int, fmt: TopKFormat) -> int:
    """Eq. (14): K* = max{K ∈ 0..L : n_t(K) + overhead ≤ B_t}, or −1 when even K = 0 does not fit.

    n_t(K) = K + b_val·C_t(K) (eq. 13) is non-decreasing in K, so K* is a binary search
    (``np.searchsorted``) over the ``[L + 1]`` sizes built from the prefix sums C_t(K) in O(L).

    Args:
        mask: ``[L]`` bool change mask m_t.
        budget_bits: B_t, the frame's deliverable payload bits (eq. 9, exact w.r.t. the link).
        fmt: the frame format (its K-field and CRC are counted against B_t).
    """
    c = _prefix_counts(mask)
    n = fmt.overhead_bits + np.arange(c.size, dtype=np.int64) + fmt.value_bits * c  # eq. (13) for K = 0..L
    return int(np.searchsorted(n, int(budget_bits), side="right")) - 1  # eq. (14), binary search


def _crc_bits(msg_bits: np.ndarray, crc_bits: int) -> np.ndarray:
    """``[crc_bits]`` uint8 CRC of ``msg_bits`` (0/1 uint8), over its length (u32 BE) and its packed bytes."""
    if crc_bits == 0:
        return np.zeros(0, np.uint8)
    data = int(msg_bits.size).to_bytes(4, "big") + np.packbits(msg_bits).tobytes()
    if crc_bits == 16:
        value = binascii.crc_hqx(data, 0xFFFF)  # CRC-16/CCITT-FALSE
    else:
        value = zlib.crc32(data) & 0xFFFFFFFF  # CRC-32 (IEEE 802.3)
    return uint_to_bits(np.array([value], np.int64), crc_bits)


def pack_frame(tokens: np.ndarray, mask: np.ndarray, k: int, fmt: TopKFormat) -> tuple[bytes, int]:
    """Pack the top-K update of one frame (eqs. 10–12) into bytes.

    Args:
        tokens: ``[L]`` int64, z_t in ``[0, 2**value_bits)``.
        mask: ``[L]`` bool, m_t (eq. 7) against the receiver's state.
        k: prefix depth K in ``0..L``.
        fmt: the frame format.

    Returns:
        ``(payload, num_bits)``: ``num_bits`` = :func:`frame_bits`; ``payload`` = ``ceil(num_bits / 8)`` bytes,
        the last one zero-padded.
    """
    z = np.asarray(tokens, dtype=np.int64).reshape(-1)
    m = np.asarray(mask, dtype=bool).reshape(-1)
    if z.size != fmt.num_tokens or m.size != fmt.num_tokens:
        raise InputError(f"tokens and mask must have L = {fmt.num_tokens} entries; got {z.size}, {m.size}")
    if not 0 <= k <= fmt.num_tokens:
        raise InputError(f"K must be in 0..{fmt.num_tokens}; got {k}")
    r = m[:k]  # eq. (10): r_t^(K) = (m_t,1, ..., m_t,K)
    vals = z[:k][r]  # eq. (12): values of the changed tokens among the top K, in importance order
    if vals.size and (vals.min() < 0 or vals.max() >= (1 << fmt.value_bits)):
        raise InputError(f"token values must be in [0, 2**{fmt.value_bits}); got {vals.min()}..{vals.max()}")
    msg = np.concatenate([
        uint_to_bits(np.array([k]), fmt.k_bits),  # K-field
        r.astype(np.uint8),  # eq. (11): header verbatim, K bits
        uint_to_bits(vals, fmt.value_bits),  # eq. (12): body, b_val·C_t(K) bits
    ])
    bits = np.concatenate([msg, _crc_bits(msg, fmt.crc_bits)])
    return np.packbits(bits).tobytes(), int(bits.size)


@dataclass(frozen=True)
class ParsedFrame:
    """What the receiver recovered from one frame's bitstream (eqs. 17–18).

    Attributes:
        status: ``"ok"`` (well formed, CRC passed or no CRC), ``"crc_failed"`` (CRC mismatch),
            ``"truncated"`` (fewer bits than the K-field/header announce), ``"malformed"`` (K-field > L,
            or no K-field at all).
        k: K as read (clamped to ``0..L``; 0 when unreadable).
        header: ``[K]`` bool, r̂_t^(K) (eq. 18).
        values: ``[≤ C]`` int64, the token values that were present, in order (ReadVal of §III-E-b).
        missing: values the header announces but the body lacks (zero-flag padded by :func:`apply_update`).
        usable: whether the running state may be updated from this frame: ``status == "ok"`` with a CRC;
            without a CRC anything with a readable K-field (no-update otherwise, §III-E-a).
    """

    status: str
    k: int
    header: np.ndarray
    values: np.ndarray
    missing: int
    usable: bool

    @property
    def changed(self) -> int:
        """C_t(K) as announced by the header."""
        return int(self.header.sum())


def _failed(status: str) -> ParsedFrame:
    return ParsedFrame(status, 0, np.zeros(0, bool), np.zeros(0, np.int64), 0, False)


def parse_frame(payload: bytes | None, num_bits: int | None, fmt: TopKFormat) -> ParsedFrame:
    """Parse one frame's bitstream (eqs. 17–18). Never raises.

    Args:
        payload: the received bytes (any length; None = nothing received).
        num_bits: how many leading bits of ``payload`` are the frame (None or out of range = all of them).
        fmt: the frame format.

    Returns:
        The :class:`ParsedFrame`. With a CRC, ``usable`` only when the CRC over exactly the announced message
        matches; without a CRC, a frame shorter than announced keeps the values present and reports the rest
        as ``missing`` (zero-flag padding, §III-E-c).
    """
    try:
        return _parse(payload, num_bits, fmt)
    except Exception:  # noqa: BLE001  # pragma: no cover - defensive: the parser must never take the receiver down
        return _failed("malformed")


def _parse(payload: bytes | None, num_bits: int | None, fmt: TopKFormat) -> ParsedFrame:
    if payload is None:
        return _failed("truncated")
    raw = np.frombuffer(bytes(payload), dtype=np.uint8)
    bits = np.unpackbits(raw)
    if num_bits is not None and 0 <= int(num_bits) <= bits.size:
        bits = bits[: int(num_bits)]
    kb, L, vb, cb = fmt.k_bits, fmt.num_tokens, fmt.value_bits, fmt.crc_bits
    if bits.size < kb:
        return _failed("truncated")
    k = int(bits_to_uint(bits[:kb], kb)[0])
    if k > L:
        if cb:
            return _failed("malformed")
        k = L  # no CRC: nothing to check against; clamp and go on
        status = "malformed"
    else:
        status = "ok"
    header = bits[kb: kb + k].astype(bool)
    if header.size < k:  # header itself cut short
        if cb:
            return _failed("truncated")
        header = np.concatenate([header, np.zeros(k - header.size, bool)])
        status = "truncated"
    c = int(header.sum())
    body_start = kb + k
    msg_len = body_start + vb * c
    if cb:
        if bits.size < msg_len + cb:
            return _failed("truncated")
        msg = bits[:msg_len]
        if not np.array_equal(bits[msg_len: msg_len + cb], _crc_bits(msg, cb)):
            return _failed("crc_failed")
        values = bits_to_uint(bits[body_start:msg_len], vb) if c else np.zeros(0, np.int64)
        return ParsedFrame("ok", k, header, values, 0, True)
    avail = max(0, min(c, (bits.size - body_start) // vb))
    values = bits_to_uint(bits[body_start: body_start + vb * avail], vb) if avail else np.zeros(0, np.int64)
    if avail < c and status == "ok":
        status = "truncated"
    return ParsedFrame(status, k, header, values, c - avail, True)


def apply_update(state: np.ndarray, parsed: ParsedFrame, zero_token: int) -> np.ndarray:
    """Eq. (19): the running token state after one frame.

    Positions ``i ≤ K`` with r̂_i = 1 take the next value (ReadVal), those with r̂_i = 0 and every ``i > K``
    inherit ``state``; a value the body lacks, or one outside the vocabulary ``[0, zero_token)``, becomes the
    zero-flag ``zero_token`` (zero-flag padding, §III-E-c). An unusable frame leaves the state unchanged
    (no-update policy, §III-E-a).

    Args:
        state: ``[L]`` int64, z̃_{t−1} (values in ``[0, zero_token]``).
        parsed: the frame, from :func:`parse_frame`.
        zero_token: the reserved zero-flag index (the tokenizer's ``codebook_size``).

    Returns:
        ``[L]`` int64, z̃_t (a new array).
    """
    out = np.array(state, dtype=np.int64, copy=True).reshape(-1)
    if not parsed.usable or parsed.k == 0:
        return out
    k = min(parsed.k, out.size)
    pos = np.flatnonzero(parsed.header[:k])  # eq. (19): 1 ≤ i ≤ K with r̂_i = 1, in order
    vals = np.full(pos.size, zero_token, dtype=np.int64)
    n = min(pos.size, parsed.values.size)
    vals[:n] = parsed.values[:n]
    vals[(vals < 0) | (vals >= zero_token)] = zero_token
    out[pos] = vals  # eq. (19), 001_c16fa1dac0c35e06.txt; r̂_i = 0 and i > K inherit z̃_{t−1,i}
    return out
