"""Resi-VidTok's typed reports: the transmitter's plan per frame and what the receiver made of each PDU."""

from __future__ import annotations

from dataclasses import dataclass

from tokcom.reporting import Report
from tokcom.types import Mcs


@dataclass(frozen=True)
class FramePlan(Report):
    """The transmitter's plan for one frame (non-key frames carry only ``frame``, ``key``, ``gop``)."""

    frame: int
    key: bool
    gop: int
    mcs_index: int | None = None
    channel_uses_budget: int | None = None
    budget_bits_eq9: int | None = None
    budget_bits: int | None = None
    k: int | None = None
    changed: int | None = None
    bits: int | None = None
    channel_uses: int | None = None
    predicted_bler: float | None = None
    mask_ones: int | None = None
    changed_vs_prev_tokens: int | None = None


@dataclass(frozen=True)
class ResiVidEncodeReport(Report):
    stride: int
    gop: int
    tokenizer: str
    L: int
    value_bits: int
    k_field_bits: int
    crc_bits: int
    bler_target: float
    gop_level_k: bool
    gop_k: dict[str, int] | None
    key_frames: int
    key_frames_sent: int
    starved: bool
    starved_reason: str | None
    mcs_candidates: str
    mcs_indices: tuple[int, ...]
    mcs: Mcs | None
    mcs_feasible: bool
    channel_use_budget: int | None
    channel_uses_planned: int
    source_bits: int
    frames: tuple[FramePlan, ...]
    paper: str = "001_c16fa1dac0c35e06.txt"


@dataclass(frozen=True)
class KeyFrameRx(Report):
    """What the receiver made of one key frame's PDU (``status``: ok, lost, crc_failed, truncated, …)."""

    frame: int
    status: str
    k: int | None = None
    changed: int | None = None
    bits: int | None = None
    missing: int | None = None
    usable: bool | None = None


@dataclass(frozen=True)
class ResiVidDecodeReport(Report):
    """The receiver's view. ``frame_decoded`` is Resi-VidTok's own notion (a key frame whose running state
    holds received data; a non-key frame whose anchors are such) — ``result.json`` ``frames_decoded`` follows
    tokcom's one rule instead (the key frame's own PDU, or both anchors' PDUs, arrived intact)."""

    interpolator: str | None
    interpolator_fallback_reason: str | None
    interpolator_errors: int
    key_frames_received: int
    key_frames_lost: int
    key_frames_crc_failed: int
    key_frames_malformed: int
    key_frames_decoded: int
    pdus_misaligned: bool
    received: tuple[KeyFrameRx, ...]
    frame_decoded: tuple[bool, ...]
