"""Frozen dataclasses that cross stage boundaries (convention 2).

The one data path (``../shared/design/ARCHITECTURE.md``)::

    Video ──► Scheme.encode ──► Transmission ──► Link.carry ──► Reception ──► Scheme.decode ──► Decoded ──► Result

Units are in the names (convention 4); SNR is Es/N0 per complex channel use unless a name says otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from tokcom.errors import InputError


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Video:
    """A decoded video in memory (convention 3).

    Attributes:
        frames: ``[T, H, W, 3]`` uint8 RGB (read-only view).
        fps: frames per second (> 0).
        source: where the frames came from (path or description).
        start: index of ``frames[0]`` in the source.
    """

    frames: np.ndarray
    fps: float
    source: str = ""
    start: int = 0

    def __post_init__(self) -> None:
        f = np.asarray(self.frames)
        if f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3:
            raise InputError(f"Video.frames must be uint8 [T,H,W,3]; got {f.dtype} {tuple(f.shape)}")
        if f.shape[0] < 1 or f.shape[1] < 1 or f.shape[2] < 1:
            raise InputError(f"Video has no pixels: shape {tuple(f.shape)}")
        if not (self.fps > 0 and math.isfinite(self.fps)):
            raise InputError(f"Video.fps must be positive; got {self.fps}")
        object.__setattr__(self, "frames", _readonly(f))
        object.__setattr__(self, "fps", float(self.fps))

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    @property
    def num_pixels(self) -> int:
        """T·H·W (the ``bpp`` denominator); the CBR denominator is ``3 * num_pixels``."""
        return self.num_frames * self.height * self.width

    @property
    def info(self) -> StreamInfo:
        return StreamInfo(self.num_frames, self.height, self.width, self.fps)

    def digest(self) -> str:
        """SHA-1 of the frames and frame rate: a key for per-process caches of deterministic encodes."""
        import hashlib

        return hashlib.sha1(np.ascontiguousarray(self.frames).data).hexdigest() + f"|{self.fps}"

    def with_frames(self, frames: np.ndarray) -> Video:
        """The same video metadata around other frames (e.g. a reconstruction)."""
        return Video(frames, self.fps, self.source, self.start)


@dataclass(frozen=True)
class StreamInfo:
    """Session parameters both ends agree on out of band (frame count, size, frame rate)."""

    num_frames: int
    height: int
    width: int
    fps: float

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    @property
    def num_samples(self) -> int:
        """T·H·W·3, the CBR denominator (Resi-VidTok eq. 1, PVSC eq. 5)."""
        return self.num_frames * self.height * self.width * 3


@dataclass(frozen=True)
class Mcs:
    """A modulation-and-coding scheme.

    Attributes:
        num_bits_per_symbol: Qm (2 = QPSK, 4 = 16QAM, 6 = 64QAM, 8 = 256QAM).
        coderate: LDPC code rate R in (0, 1).
        index: row in ``table`` (3GPP 38.214 Table 5.1.3.1-x) when taken from one.
        table: which table (1, 2, 3), or None for a paper's named set.
    """

    num_bits_per_symbol: int
    coderate: float
    index: int | None = None
    table: int | None = None

    @property
    def spectral_efficiency(self) -> float:
        """Information bits per complex channel use, Qm·R."""
        return self.num_bits_per_symbol * self.coderate

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for reports: index, table, modulation, Qm, code rate, spectral efficiency."""
        return {"index": self.index, "table": self.table, "modulation": self.modulation,
                "num_bits_per_symbol": self.num_bits_per_symbol, "coderate": self.coderate,
                "spectral_efficiency": self.spectral_efficiency}

    @property
    def modulation(self) -> str:
        return {1: "BPSK", 2: "QPSK", 4: "16QAM", 6: "64QAM", 8: "256QAM", 10: "1024QAM"}.get(
            self.num_bits_per_symbol, f"{2 ** self.num_bits_per_symbol}QAM"
        )


@dataclass(frozen=True)
class Rate:
    """The rate target of a run: exactly one of a channel bandwidth ratio, a source bitrate or a bandwidth.

    ``cbr`` = channel uses / (T·H·W·3); ``bandwidth_hz`` gives ``bandwidth_hz · duration`` complex channel
    uses (one complex symbol per Hz per second, before the link's overhead factor); ``bitrate_bps`` is a
    source bitrate (the h26x schemes' ``--bitrate``).
    """

    cbr: float | None = None
    bitrate_bps: float | None = None
    bandwidth_hz: float | None = None

    def __post_init__(self) -> None:
        given = [(k, v) for k, v in (("cbr", self.cbr), ("bitrate", self.bitrate_bps),
                                     ("bandwidth-hz", self.bandwidth_hz)) if v is not None]
        if len(given) > 1:
            raise InputError("give at most one of --cbr, --bitrate, --bandwidth-hz")
        for k, v in given:
            if not (math.isfinite(v) and v > 0):
                raise InputError(f"--{k} must be a positive number; got {v}")

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.cbr, self.bitrate_bps, self.bandwidth_hz))


@dataclass(frozen=True)
class LinkState:
    """What the transmitter knows of the link when it encodes (CSI at the transmitter, resource budget).

    Attributes:
        snr_db: SNR estimate (Es/N0 per complex channel use, dB), or None for a link without one.
        mcs: the MCS link adaptation picks at ``snr_db`` (digital links), or None.
        bits_per_channel_use: source bits one channel use delivers at ``mcs`` after physical-layer
            overhead (ρ_oh·Qm·R), or None.
        pdu_loss: expected PDU loss probability at ``mcs`` (BLER), or None.
        channel_use_budget: complex channel uses available for the whole video, or None (unconstrained).
        bandwidth_hz: the channel bandwidth when the rate target is a bandwidth.
        bitrate_bps: the source bitrate when the rate target is a bitrate (``--bitrate``).
        duration_s: the video's duration (the budget's time span).
        overhead: ρ_oh, the share of channel uses that carry data (TokenCom eq. 16).
        bler_target: the link's BLER target for adaptation, or None.
        predict_bler: ``predict_bler(mcs, num_bits)`` → the BLER the transmitter expects for a PDU of
            ``num_bits`` payload bits sent with ``mcs`` at ``snr_db`` (what unequal-error-protection and
            per-stream MCS choices need); None for links without a PHY model.
    """

    snr_db: float | None = None
    mcs: Mcs | None = None
    bits_per_channel_use: float | None = None
    pdu_loss: float | None = None
    channel_use_budget: int | None = None
    bandwidth_hz: float | None = None
    bitrate_bps: float | None = None
    duration_s: float | None = None
    overhead: float = 1.0
    bler_target: float | None = None
    predict_bler: Callable[[Mcs, int], float] | None = field(default=None, repr=False, compare=False)

    @property
    def source_bit_budget(self) -> int | None:
        """Source bits deliverable within the budget (channel uses × bits per channel use)."""
        if self.channel_use_budget is None or self.bits_per_channel_use is None:
            return None
        return math.floor(self.channel_use_budget * self.bits_per_channel_use)


@dataclass(frozen=True)
class Packet:
    """One PDU handed to the link. The link never looks inside ``payload``.

    Attributes:
        payload: the bytes carried.
        stream: traffic class (``"video"``, ``"intended"``, ``"side"``, ...); the link may protect classes
            differently.
        seq: the scheme's sequence number (informational for the link).
        num_bits: payload length in bits, ≤ 8·len(payload) (default: 8·len(payload)).
        mcs: MCS requested for this PDU (unequal error protection); None lets the link adapt.
    """

    payload: bytes
    stream: str = "video"
    seq: int = 0
    num_bits: int | None = None
    mcs: Mcs | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", bytes(self.payload))
        if self.num_bits is None:
            object.__setattr__(self, "num_bits", 8 * len(self.payload))
        elif not 0 <= self.num_bits <= 8 * len(self.payload):
            raise ValueError(f"num_bits {self.num_bits} does not fit {len(self.payload)} bytes")


@dataclass(frozen=True, eq=False)
class Transmission:
    """What a scheme's encoder hands the link.

    Attributes:
        info: session parameters known to both ends (signalled out of band).
        packets: digital PDUs in sending order.
        symbols: analog (JSCC) channel input ``[N]`` complex64 with unit average power, or None.
        report: the encoder's report (goes to ``Result.scheme_report``; never reaches the receiver).
        roi: ``[T, H, W]`` bool region of interest the scheme protects (TokenCom's intended token region), or
            None; the pipeline adds ``psnr_roi_in``/``psnr_roi_out`` (and LPIPS variants) over it. Evaluation
            only: it never reaches the receiver.
        artifacts: named images for people (``[H, W]`` or ``[H, W, 3]`` uint8: intent heatmaps, masks),
            written next to ``result.json`` by the CLI and shown in reports; never reach the receiver.
    """

    info: StreamInfo
    packets: tuple[Packet, ...] = ()
    symbols: np.ndarray | None = None
    report: Mapping[str, Any] = field(default_factory=dict)
    roi: np.ndarray | None = field(default=None, repr=False)
    artifacts: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "packets", tuple(self.packets))

    @property
    def source_bits(self) -> int:
        """Payload bits of every PDU (all streams, side information included)."""
        return int(sum(p.num_bits for p in self.packets))


@dataclass(frozen=True, eq=False)
class Reception:
    """What the link hands the receiver.

    Attributes:
        info: the session parameters (from the Transmission).
        packets: aligned with ``Transmission.packets``; ``None`` where a PDU was lost (erased, or failed
            the physical layer's CRC). A delivered payload may still carry bit errors when the link's CRC
            is disabled; receivers must check their own CRC.
        symbols: received analog symbols after equalisation, aligned with ``Transmission.symbols``.
        channel_uses: complex channel symbols actually sent (coding, pilots and overhead included).
        report: the link's report (per-stream MCS, BLER, ...): goes to ``Result.link``.
    """

    info: StreamInfo
    packets: tuple[Packet | None, ...] = ()
    symbols: np.ndarray | None = None
    channel_uses: int = 0
    report: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "packets", tuple(self.packets))

    @property
    def num_lost(self) -> int:
        return sum(p is None for p in self.packets)


@dataclass(frozen=True, eq=False)
class Decoded:
    """What a scheme's decoder returns.

    Attributes:
        video: the reconstruction, frame-aligned with the input (same T, H, W).
        frames_decoded: frames reconstructed from received data (not copied/concealed whole).
        report: the decoder's report (merged into ``Result.scheme_report``).
    """

    video: Video
    frames_decoded: int
    report: Mapping[str, Any] = field(default_factory=dict)


VALID_FRACTION = 0.85  # TokenCom §III-C: an operating point is valid if ≥ 85 % of frames are reconstructed


@dataclass(frozen=True)
class Result:
    """One run (one sweep point): the ``result.json`` contract of ``../shared/design/CLI.md``."""

    scheme: str
    input: str
    frames: int
    width: int
    height: int
    fps: float
    seed: int
    config: Mapping[str, Any]
    link: Mapping[str, Any]
    source_bits: int
    channel_uses: int
    cbr: float
    bpp: float
    bitrate_bps: float
    packets: Mapping[str, int]
    frames_decoded: int
    valid: bool
    metrics: Mapping[str, float]
    timing: Mapping[str, float]
    scheme_report: Mapping[str, Any]
    versions: Mapping[str, str]
    metrics_unavailable: Mapping[str, str] = field(default_factory=dict)
    recon: Video | None = field(default=None, repr=False, compare=False)
    """The reconstruction (in memory only; not part of ``result.json``)."""
    artifacts: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    """Images from the scheme (``Transmission.artifacts``; in memory only, written as PNGs by the CLI)."""

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("recon", "artifacts")}
        if not d["metrics_unavailable"]:
            d.pop("metrics_unavailable")
        return _jsonable(d)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Result:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _jsonable(x: Any) -> Any:
    """Plain JSON types; non-finite floats become None (JSON has no NaN)."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
