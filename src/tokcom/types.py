"""Frozen dataclasses that cross stage boundaries (convention 2).

The one data path (``../shared/design/ARCHITECTURE.md``)::

    Video ──► Scheme.encode ──► Transmission ──► Link.carry ──► Reception ──► Scheme.decode ──► Decoded ──► Result

Units are in the names (convention 4); SNR is Es/N0 per complex channel use unless a name says otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from tokcom.errors import InputError
from tokcom.reporting import Report, jsonable


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
        pdu_channel_uses: ``pdu_channel_uses(num_bits, mcs)`` → the complex channel uses the link charges
            for one PDU of ``num_bits`` payload bits sent with ``mcs`` (None: the link's adapted MCS) — the
            exact count the budget is enforced with (:mod:`tokcom.link.accounting`).
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
    pdu_channel_uses: Callable[[int, Mcs | None], int] | None = field(default=None, repr=False, compare=False)

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
        priority: the order in which PDUs are left unsent when a transmission exceeds its channel-use
            budget (:func:`tokcom.link.accounting.enforce_budget`): lower priorities go first, and among
            equal priorities the later PDUs (e.g. TokenCom: non-intended tokens before intended ones, side
            information last). The link ignores it.
    """

    payload: bytes
    stream: str = "video"
    seq: int = 0
    num_bits: int | None = None
    mcs: Mcs | None = None
    priority: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", bytes(self.payload))
        if self.num_bits is None:
            object.__setattr__(self, "num_bits", 8 * len(self.payload))
        elif not 0 <= self.num_bits <= 8 * len(self.payload):
            raise ValueError(f"num_bits {self.num_bits} does not fit {len(self.payload)} bytes")


@dataclass(frozen=True, eq=False)
class FrameMap:
    """Which frames a transmission's data serves: the basis of the one rule for "decoded" (evaluation only).

    Entry ``e`` says: ``bits[e]`` units of the transmission's data serve frame ``frame[e]``, and they arrive
    intact exactly when every packet in ``packets[indptr[e]:indptr[e + 1]]`` arrives intact (a NAL unit
    fragmented over several PDUs needs all of them; a token PDU is one packet) and, for an analog entry,
    when its symbols ``symbols[e] = (start, stop)`` were all sent (analog symbols always arrive, noisy; only
    the budget can cut them). An interpolated frame lists the data of the frames it is built from. The
    pipeline turns this into the per-frame share of sent data that arrived intact (:meth:`shares`) and
    applies :data:`DECODED_SHARE`; the receiver never sees it. Units: bits for PDU data; two per analog
    symbol (its two real dimensions).

    Attributes:
        frame: ``[E]`` int32 frame index of each entry.
        bits: ``[E]`` int64 data units of each entry (> 0).
        indptr: ``[E + 1]`` int64 CSR offsets into ``packets``.
        packets: ``[nnz]`` int32 indices into ``Transmission.packets``.
        symbols: ``[E, 2]`` int64 ``(start, stop)`` into ``Transmission.symbols``, ``(-1, -1)`` for none.
    """

    frame: np.ndarray
    bits: np.ndarray
    indptr: np.ndarray
    packets: np.ndarray
    symbols: np.ndarray | None = None

    def __post_init__(self) -> None:
        for k, dt in (("frame", np.int32), ("bits", np.int64), ("indptr", np.int64), ("packets", np.int32)):
            object.__setattr__(self, k, _readonly(np.ascontiguousarray(getattr(self, k), dtype=dt)))
        e = self.frame.size
        sym = self.symbols if self.symbols is not None else np.full((e, 2), -1, np.int64)
        object.__setattr__(self, "symbols", _readonly(np.ascontiguousarray(sym, dtype=np.int64).reshape(e, 2)))
        if self.bits.size != e or self.indptr.size != e + 1 or (e and self.indptr[-1] != self.packets.size):
            raise ValueError("FrameMap arrays do not agree in length")
        has_sym = self.symbols[:, 0] >= 0
        if e and (np.any((np.diff(self.indptr) < 1) & ~has_sym) or np.any(self.bits <= 0)):
            raise ValueError("every FrameMap entry needs packets or symbols, and > 0 units")

    @property
    def num_entries(self) -> int:
        return int(self.frame.size)

    def shares(self, num_frames: int, intact: np.ndarray, symbols_sent: int | None = None) -> np.ndarray:
        """Per frame, the share of the data sent for it that arrived intact.

        Args:
            num_frames: T.
            intact: ``[P]`` bool, per packet of the transmission: sent, received and bit-exact.
            symbols_sent: how many analog symbols (a prefix) went out; None = all.

        Returns:
            ``[T]`` float64 in [0, 1]; 0 for a frame no data was sent for.
        """
        intact = np.asarray(intact, dtype=bool)
        sent = np.bincount(self.frame, weights=self.bits, minlength=num_frames)[:num_frames]
        if self.num_entries == 0:
            return np.zeros(num_frames)
        ok = np.ones(self.num_entries, bool)
        npk = np.diff(self.indptr)
        with_pk = npk > 0
        if with_pk.any():
            flags = np.ones(self.packets.size + 1, np.int8)
            flags[: self.packets.size] = intact[self.packets]
            ok_pk = np.minimum.reduceat(flags, np.minimum(self.indptr[:-1], self.packets.size)).astype(bool)
            ok &= np.where(with_pk, ok_pk, True)
        has_sym = self.symbols[:, 0] >= 0
        if has_sym.any() and symbols_sent is not None:
            ok &= ~has_sym | (self.symbols[:, 1] <= symbols_sent)
        got = np.bincount(self.frame, weights=self.bits * ok, minlength=num_frames)[:num_frames]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sent > 0, got / np.maximum(sent, 1e-300), 0.0)


class FrameMapBuilder:
    """Collects :class:`FrameMap` entries: ``add(frame, bits, packets)``, ``add_symbols(frame, start, stop)``;
    ``build()``."""

    def __init__(self) -> None:
        self._frame: list[int] = []
        self._bits: list[int] = []
        self._indptr: list[int] = [0]
        self._packets: list[int] = []
        self._symbols: list[tuple[int, int]] = []

    def add(self, frame: int, bits: int, packets: Iterable[int]) -> None:
        """``bits`` bits serve ``frame`` and need every packet of ``packets`` (entries of 0 bits are skipped)."""
        pk = list(packets)
        if int(bits) <= 0:
            return
        if not pk:
            raise ValueError("a FrameMap entry needs at least one packet")
        self._append(frame, bits, pk, (-1, -1))

    def add_symbols(self, frame: int, start: int, stop: int, packets: Iterable[int] = ()) -> None:
        """Analog symbols ``start:stop`` serve ``frame`` (weighing two units each), needing ``packets`` too
        (e.g. the side information they are decoded with)."""
        if int(stop) <= int(start):
            return
        self._append(frame, 2 * (int(stop) - int(start)), list(packets), (int(start), int(stop)))

    def _append(self, frame: int, units: int, pk: list[int], sym: tuple[int, int]) -> None:
        self._frame.append(int(frame))
        self._bits.append(int(units))
        self._packets.extend(int(p) for p in pk)
        self._indptr.append(len(self._packets))
        self._symbols.append(sym)

    def build(self) -> FrameMap:
        return FrameMap(np.array(self._frame, np.int32), np.array(self._bits, np.int64),
                        np.array(self._indptr, np.int64), np.array(self._packets, np.int32),
                        np.array(self._symbols, np.int64).reshape(-1, 2))


@dataclass(frozen=True, eq=False)
class Transmission:
    """What a scheme's encoder hands the link.

    Attributes:
        info: session parameters known to both ends (signalled out of band).
        packets: digital PDUs in sending order.
        symbols: analog (JSCC) channel input ``[N]`` complex64 with unit average power, or None.
        report: the encoder's typed report (goes to ``Result.scheme_report``; never reaches the receiver).
        frame_map: which frames each packet's data serves (:class:`FrameMap`); the pipeline decides from it
            which frames count as decoded. Evaluation only: it never reaches the receiver.
        roi: ``[T, H, W]`` bool region of interest the scheme protects (TokenCom's intended token region), or
            None; the pipeline adds ``psnr_roi_in``/``psnr_roi_out`` (and LPIPS variants) over it. Evaluation
            only: it never reaches the receiver.
        artifacts: named images for people (``[H, W]`` or ``[H, W, 3]`` uint8: intent heatmaps, masks),
            written next to ``result.json`` by the CLI and shown in reports; never reach the receiver.
    """

    info: StreamInfo
    packets: tuple[Packet, ...] = ()
    symbols: np.ndarray | None = None
    report: Report | Mapping[str, Any] | None = None
    frame_map: FrameMap | None = field(default=None, repr=False)
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
        packets: aligned with ``Transmission.packets``; ``None`` where a PDU was lost (erased, failed the
            physical layer's CRC, or not sent because the budget was spent). A delivered payload may still
            carry bit errors when the link's CRC is disabled; receivers must check their own CRC.
        symbols: received analog symbols after equalisation, aligned with ``Transmission.symbols``.
        channel_uses: complex channel symbols actually sent (coding, pilots and overhead included).
        report: the link's typed report (per-stream MCS, BLER, ...): goes to ``Result.link``.
    """

    info: StreamInfo
    packets: tuple[Packet | None, ...] = ()
    symbols: np.ndarray | None = None
    channel_uses: int = 0
    report: Report | Mapping[str, Any] | None = None

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
        report: the decoder's typed report (merged into ``Result.scheme_report``).
        frames_decoded: the scheme's own count of frames it reconstructed from received data, if it keeps
            one (reported as ``scheme_report.scheme_frames_decoded``); ``Result.frames_decoded`` is decided by
            the pipeline's one rule (:func:`decoded_frames`), not by this.
    """

    video: Video
    frames_decoded: int | None = None
    report: Report | Mapping[str, Any] | None = None


# The one rule for "decoded" and "valid", for every scheme (docs/experiments.md, "What counts as decoded"):
DECODED_SHARE = 0.5  # a frame is decoded when ≥ half the data sent for it (FrameMap) arrived intact
VALID_FRACTION = 0.85  # TokenCom §III-C: an operating point is valid if ≥ 85 % of frames are decoded


def decoded_frames(shares: np.ndarray) -> np.ndarray:
    """``[T]`` bool: the frames whose share of sent data that arrived intact is ≥ :data:`DECODED_SHARE`."""
    return np.asarray(shares, dtype=float) >= DECODED_SHARE - 1e-12


def is_valid(frames_decoded: int, num_frames: int) -> bool:
    """An operating point is valid when ≥ :data:`VALID_FRACTION` of its frames are decoded."""
    return int(frames_decoded) >= math.ceil(VALID_FRACTION * int(num_frames) - 1e-9)


@dataclass(frozen=True)
class Result:
    """One run (one sweep point): the ``result.json`` contract of ``docs/design/CLI.md``."""

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
    channel_use_budget: int | None = None
    """Channel uses the rate target allows (None: no rate target)."""
    channel_uses_requested: int | None = None
    """Channel uses the scheme's transmission would have occupied had nothing been left unsent."""
    over_budget: bool = False
    """True when the scheme asked for more than the budget, so some of its data was not sent."""
    frame_share: tuple[float, ...] = ()
    """Per frame, the share of the data sent for it that arrived intact (the decoded-frame rule's input)."""
    provenance: Mapping[str, Any] = field(default_factory=dict)
    """The code (``git:<commit>`` or the package version) and the sha256 of every weight file that shaped it."""
    recon: Video | None = field(default=None, repr=False, compare=False)
    """The reconstruction (in memory only; not part of ``result.json``)."""
    artifacts: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    """Images from the scheme (``Transmission.artifacts``; in memory only, written as PNGs by the CLI)."""

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("recon", "artifacts")}
        if not d["metrics_unavailable"]:
            d.pop("metrics_unavailable")
        return jsonable(d)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Result:
        names = {f.name for f in fields(cls)}
        vals = {k: v for k, v in d.items() if k in names}
        if "frame_share" in vals:
            vals["frame_share"] = tuple(vals["frame_share"] or ())
        return cls(**vals)
