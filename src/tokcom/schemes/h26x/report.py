"""The h264 / h265 baselines' typed reports (``result.json``'s ``scheme_report``): the closed rate loop, the MCS
trials of ``mcs_set=best``, the encode and the decode."""

from __future__ import annotations

from dataclasses import dataclass

from tokcom.reporting import Report
from tokcom.types import Mcs


@dataclass(frozen=True)
class RateAttempt(Report):
    """One encoder run of the closed rate loop."""

    encoder_bitrate_bps: float
    bits: int
    channel_uses: int | None = None


@dataclass(frozen=True)
class McsTrial(Report):
    """One candidate of ``mcs_set=best``: its predicted BLER, the PSNR of the lossless decode of the PDUs that
    fit the budget, the channel uses of the whole encode and whether it fits."""

    mcs: Mcs
    predicted_bler: float
    psnr: float
    channel_uses: int
    fits: bool


@dataclass(frozen=True)
class H26xEncodeReport(Report):
    codec: str
    preset: str
    rate_control: str
    target_bitrate_bps: float | None
    target_channel_uses: int | None
    rate_attempts: tuple[RateAttempt, ...]
    bitstream_bits: int
    pdu_overhead_bits: int
    nal_units: int
    pdus: int
    pdu_bytes: int
    gop: int
    low_delay: bool
    frame_bits: tuple[int, ...]
    frame_types: tuple[str, ...]
    rate_ratio: float | None
    mcs: Mcs | str
    mcs_set: str | None
    predicted_bler: float | None
    mcs_trials: tuple[McsTrial, ...] = ()


@dataclass(frozen=True)
class H26xDecodeReport(Report):
    pdus_received: int
    pdus_crc_failed: int
    nal_units_received: int
    nal_units_dropped: int
    decoder_errors: int
    frames_concealed: int
    frames_copied: int
    frame_decoded: tuple[bool, ...]
