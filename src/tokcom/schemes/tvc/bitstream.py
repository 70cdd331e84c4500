"""TVC's PDUs: per GoP one continuous-stream PDU and one discrete-stream PDU (numpy/zlib only; no torch).

The receiver can decode a GoP from the continuous PDU alone (every discrete token then predicted), so the
two streams travel separately; the discrete one is decoded with the continuous one as context (§3.2.3), so
it is useless without it.

Continuous PDU::

    byte 0   0x43 ('C')              byte 1   version (1)
    varint   GoP index g             varint   first frame         varint   frames in the GoP
    varint   t, h, w                 the discrete token grid of the GoP (the continuous one is h/s × w/s)
    varint   Δ·256                   the uniform quantisation step of ŷ^C (§3.2.1), 1 … 65535
    varint   len(b_z) | b_z | b_y    the hyperprior's and the latent's streams (tokcom.entropy headers)
    4 bytes  CRC-32 (LE) of everything before it

Discrete PDU::

    byte 0   0x44 ('D')              byte 1   flags: bit 0 = raw 16-bit indices (the no-code-map ablation)
    varint   GoP index g             varint   t, h, w
    varint   n_visible, interval     the fixed mask of eq. (1)
    b_d                              the categorical CCM's stream (or the raw indices)
    4 bytes  CRC-32 (LE)

:func:`parse_continuous` / :func:`parse_discrete` return None for anything that is not a well-formed PDU of
their kind; they never raise.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokcom.coding.wire import get_varints, put_varint, strip_crc32, with_crc32

C_TAG, D_TAG, VERSION = 0x43, 0x44, 1
MAX_GRID = 1 << 16


def _seal(body: bytearray) -> bytes:
    return with_crc32(body)


def _open(payload: bytes, tag: int) -> bytes | None:
    if not isinstance(payload, (bytes, bytearray)) or len(payload) < 6 or payload[0] != tag:
        return None
    return strip_crc32(bytes(payload))


@dataclass(frozen=True)
class ContinuousPdu:
    """The continuous stream of GoP ``gop``. ``grid = (t, h, w)``: the discrete token grid."""

    gop: int
    first_frame: int
    frames: int
    grid: tuple[int, int, int]
    step_q8: int  # Δ · 256
    z_bytes: bytes
    y_bytes: bytes

    @property
    def step(self) -> float:
        return self.step_q8 / 256.0


@dataclass(frozen=True)
class DiscretePdu:
    """The visible discrete tokens of GoP ``gop`` (``raw``: 16-bit indices instead of the CCM stream)."""

    gop: int
    grid: tuple[int, int, int]
    n_visible: int
    interval: int
    raw: bool
    data: bytes


def step_code(step: float) -> int:
    """Δ as the PDU carries it (``round(Δ·256)``, 1 … 65535)."""
    return min(65535, max(1, round(float(step) * 256)))


def pack_continuous(p: ContinuousPdu) -> bytes:
    b = bytearray([C_TAG, VERSION])
    for v in (p.gop, p.first_frame, p.frames, *p.grid, p.step_q8, len(p.z_bytes)):
        put_varint(b, v)
    b += p.z_bytes + p.y_bytes
    return _seal(b)


def pack_discrete(p: DiscretePdu) -> bytes:
    b = bytearray([D_TAG, 1 if p.raw else 0])
    for v in (p.gop, *p.grid, p.n_visible, p.interval):
        put_varint(b, v)
    b += p.data
    return _seal(b)


def _grid(vals: list[int]) -> tuple[int, int, int] | None:
    return tuple(vals) if all(1 <= v <= MAX_GRID for v in vals) else None  # type: ignore[return-value]


def parse_continuous(payload: bytes) -> ContinuousPdu | None:
    """The PDU, or None (wrong tag or version, bad CRC, truncated, out-of-range fields); never raises."""
    body = _open(payload, C_TAG)
    if body is None or body[1] != VERSION:
        return None
    got = get_varints(body, 2, 8)
    if got is None:
        return None
    vals, pos = got
    gop, first, frames, t, h, w, step, nz = vals
    grid = _grid([t, h, w])
    if grid is None or frames < 1 or not 1 <= step <= 65535 or nz > len(body) - pos:
        return None
    return ContinuousPdu(gop, first, frames, grid, step, body[pos:pos + nz], body[pos + nz:])


def parse_discrete(payload: bytes) -> DiscretePdu | None:
    """The PDU, or None; never raises."""
    body = _open(payload, D_TAG)
    if body is None or body[1] & 0xFE:
        return None
    got = get_varints(body, 2, 6)
    if got is None:
        return None
    vals, pos = got
    gop, t, h, w, nv, interval = vals
    grid = _grid([t, h, w])
    if grid is None or not 1 <= interval <= 4096 or nv > interval:
        return None
    return DiscretePdu(gop, grid, nv, interval, bool(body[1] & 1), body[pos:])
