"""The h264 / h265 baselines' options (``--set key=value``; docs/design/CLI.md) and the encoder presets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from tokcom.coding.pdu import PDU_BYTES
from tokcom.errors import InputError
from tokcom.link.mcs import named_set

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
BEST = "best"


@dataclass(frozen=True)
class H26xConfig:
    """Encoder and packetisation parameters.

    Attributes:
        bitrate_bps: fixed target source bitrate (PDU headers and CRCs included); None → the run's
            ``--bitrate`` if given, else fill the link's channel-use budget (``--cbr`` / ``--bandwidth-hz``)
            with the stream's MCS. Either way the pipeline never sends more than the budget.
        rate_control: ``"cbr"`` (ABR with VBV max rate = target: the papers' constant-bitrate baseline) or
            ``"cqp"`` (constant QP ``qp``).
        qp: quantiser for ``"cqp"`` (0–51).
        preset: x264/x265 speed preset (``veryslow`` for comparisons, as in PVSC).
        low_delay: zero-latency tune: P-only, no look-ahead, frames out as they go in.
        gop: key-frame interval in frames (Resi-VidTok matches N = 32).
        vbv_buffer_s: VBV buffer size in seconds of the target bitrate.
        pdu_bytes: PDU size (TokenCom Table II: 1200 bytes).
        rate_tolerance: CBR mode re-encodes until the stream fills at least ``1 − rate_tolerance`` of its
            target without exceeding it (or ``rate_iterations`` runs are spent; the closest run at or under
            the target wins).
        rate_iterations: at most this many encoder runs per target in CBR mode.
        mcs_set: over a link with a PHY, the one MCS the whole stream is sent with.
            ``best`` (default; PVSC §IV-A): every row of 38.214 Table 5.1.3.1-``mcs_table`` whose predicted
            BLER for a ``pdu_bytes`` PDU at the estimated SNR meets the link's target is a candidate; from
            the most efficient down, each is encoded at the budget, the PDUs that fit are decoded without
            loss, and the one with the highest PSNR is kept (the search stops after ``best_patience``
            candidates in a row do worse). When none meets the target, the most robust row is used.
            A named set (``tokcom.link.mcs.NAMED_SETS``, e.g. ``tokencom-h265`` = {QPSK 1/2, 16QAM 1/2},
            TokenCom's "adaptive H.265" of Table II/III): its highest-throughput member that meets the target,
            else its most robust one. ``none``: the link adapts.
        mcs_table: the 38.214 table of ``best`` (1, 2 or 3).
        best_patience: see ``mcs_set``.
    """

    bitrate_bps: float | None = None
    rate_control: Literal["cbr", "cqp"] = "cbr"
    qp: int = 32
    preset: str = "veryslow"
    low_delay: bool = False
    gop: int = 32
    vbv_buffer_s: float = 1.0
    pdu_bytes: int = PDU_BYTES
    rate_tolerance: float = 0.05
    rate_iterations: int = 4
    mcs_set: str | None = BEST
    mcs_table: int = 1
    best_patience: int = 1

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise InputError(f"--preset must be one of {', '.join(PRESETS)}; got {self.preset!r}")
        if not 0 <= self.qp <= 51:
            raise InputError(f"--qp must be in 0..51; got {self.qp}")
        if self.gop < 1:
            raise InputError(f"--gop must be ≥ 1; got {self.gop}")
        if self.bitrate_bps is not None and not (self.bitrate_bps > 0 and math.isfinite(self.bitrate_bps)):
            raise InputError(f"--bitrate must be positive; got {self.bitrate_bps}")
        if not self.vbv_buffer_s > 0:
            raise InputError(f"vbv-buffer-s must be positive; got {self.vbv_buffer_s}")
        if self.mcs_set is not None and str(self.mcs_set).strip().lower() in ("none", "link", ""):
            object.__setattr__(self, "mcs_set", None)
        if self.mcs_set is not None and str(self.mcs_set).strip().lower() == BEST:
            object.__setattr__(self, "mcs_set", BEST)
        if self.mcs_set is not None and self.mcs_set != BEST:
            named_set(self.mcs_set)  # unknown set → InputError listing the valid ones
        if self.mcs_table not in (1, 2, 3):
            raise InputError(f"mcs-table must be 1, 2 or 3; got {self.mcs_table}")
        if self.best_patience < 1:
            raise InputError(f"best-patience must be ≥ 1; got {self.best_patience}")
        if not 0 < self.rate_tolerance < 1 or self.rate_iterations < 1:
            raise InputError("rate-tolerance must be in (0, 1) and rate-iterations ≥ 1")
        if not 64 <= self.pdu_bytes <= 65535:
            raise InputError(f"pdu-bytes must be in 64..65535; got {self.pdu_bytes}")
