"""Token bit packing and TokenCom's multi-rate token coding (000_cfad1eb21f67e2e2.txt §II-C, Alg. 2).

* :func:`pack_uint` / :func:`unpack_uint`: fixed-width unsigned integers ↔ MSB-first bit strings (the exact
  bits a token class puts on the wire; always on CPU, deterministic).
* :func:`diff_encode`: non-intended tokens as B_Δ-bit shifted, clipped differences to the reference frame
  Z_ref (eqs. 9–12).
* :func:`diff_decode`: the receiver's inverse with clipping to the codebook (eqs. 30–31).

Intended tokens are sent verbatim at B_full = ⌈log2 N⌉ bits (§II-C-a), i.e. ``pack_uint(z, B_full)``.
"""

from __future__ import annotations

import numpy as np

from tokcom.errors import InputError


def _check_bits(bits: int) -> int:
    bits = int(bits)
    if not 1 <= bits <= 32:
        raise InputError(f"bits per value must be in 1..32; got {bits}")
    return bits


def uint_to_bits(values: np.ndarray, width: int) -> np.ndarray:
    """``[n]`` non-negative integers → ``[n·width]`` uint8 0/1 bits, MSB first (no range check)."""
    v = np.asarray(values, dtype=np.int64).reshape(-1, 1)
    return ((v >> np.arange(width - 1, -1, -1, dtype=np.int64)) & 1).astype(np.uint8).reshape(-1)


def bits_to_uint(bits: np.ndarray, width: int) -> np.ndarray:
    """``[n·width]`` 0/1 bits → ``[n]`` int64, MSB first (inverse of :func:`uint_to_bits`)."""
    b = np.asarray(bits, dtype=np.int64).reshape(-1, width)
    return b @ np.left_shift(np.int64(1), np.arange(width - 1, -1, -1, dtype=np.int64))


def pack_uint(values: np.ndarray, bits: int) -> bytes:
    """``values`` (non-negative integers < 2**bits) → MSB-first bit string of ``len(values)·bits`` bits,
    zero-padded to whole bytes."""
    bits = _check_bits(bits)
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size and (v.min() < 0 or v.max() >= (1 << bits)):
        raise ValueError(f"values outside 0..{(1 << bits) - 1} for {bits}-bit packing")
    return np.packbits(uint_to_bits(v, bits)).tobytes()


def unpack_uint(data: bytes, bits: int, count: int, offset_bits: int = 0) -> np.ndarray:
    """Read ``count`` MSB-first ``bits``-bit unsigned integers starting ``offset_bits`` into ``data``.

    Returns int64 ``[count']`` with ``count' = min(count, values available)``: never reads past the data.
    """
    bits = _check_bits(bits)
    raw = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))[int(offset_bits):]
    n = min(int(count), raw.size // bits)
    if n <= 0:
        return np.zeros(0, np.int64)
    return bits_to_uint(raw[: n * bits], bits)


def q_of(b_delta: int) -> int:
    """Q = 2^(B_Δ−1) − 1, eq. (10), 000_cfad1eb21f67e2e2.txt."""
    if not 2 <= int(b_delta) <= 32:
        raise InputError(f"B_Δ must be in 2..32 bits; got {b_delta}")
    return (1 << (int(b_delta) - 1)) - 1


def diff_encode(z: np.ndarray, z_ref: np.ndarray, b_delta: int) -> np.ndarray:
    """Shifted clipped differences Δ̃ ∈ {0..2Q} of tokens ``z`` to the reference ``z_ref`` (same shape).

    x = Z − Z_ref (eq. 9); Δ = C_Q(x) = min(max(x, −Q), Q) (eqs. 10–11); Δ̃ = Δ + Q (eq. 12),
    000_cfad1eb21f67e2e2.txt. Returns int64 of ``z``'s shape.
    """
    q = q_of(b_delta)
    x = np.asarray(z, np.int64) - np.asarray(z_ref, np.int64)  # eq. (9)
    return np.clip(x, -q, q) + q  # eqs. (11)-(12)


def diff_decode(e: np.ndarray, z_ref: np.ndarray, b_delta: int, codebook_size: int) -> np.ndarray:
    """Token indices from received Δ̃ values: clip_[0,N−1](Z_ref + Δ̃ − Q), eqs. (30)–(31),
    000_cfad1eb21f67e2e2.txt. Any ``e`` (even garbage ≥ 2Q+1) gives valid indices."""
    q = q_of(b_delta)
    d = np.asarray(e, np.int64) - q  # eq. (30)
    return np.clip(np.asarray(z_ref, np.int64) + d, 0, int(codebook_size) - 1)  # eq. (31)
