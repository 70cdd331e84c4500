"""Packet-erasure link: every PDU is lost i.i.d. with probability ``pdu_loss``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tokcom.errors import InputError
from tokcom.link.accounting import channel_use_budget, erasure_channel_uses
from tokcom.link.base import Link, LinkReport, require_digital
from tokcom.registry import LINKS
from tokcom.types import LinkState, Mcs, Rate, Reception, StreamInfo, Transmission


@dataclass(frozen=True)
class ErasureConfig:
    """Attributes:
    pdu_loss: probability that a PDU is erased, i.i.d. across PDUs.
    bits_per_channel_use: nominal source bits per complex channel use used for channel-use accounting
        (default 1.0: QPSK at code rate 1/2); the erasure channel has no modulation of its own.
    """

    pdu_loss: float = 0.0
    bits_per_channel_use: float = 1.0

    def __post_init__(self) -> None:
        if not (0.0 <= self.pdu_loss <= 1.0):
            raise InputError(f"--pdu-loss must be in [0, 1]; got {self.pdu_loss}")
        if not (self.bits_per_channel_use > 0 and math.isfinite(self.bits_per_channel_use)):
            raise InputError(f"bits-per-channel-use must be positive; got {self.bits_per_channel_use}")


@LINKS.register("erasure", "i.i.d. PDU erasures with probability --pdu-loss (no PHY)")
class ErasureLink(Link):
    """Packet-erasure channel: PDUs arrive intact or not at all (loss i.i.d., seeded)."""

    name = "erasure"
    Config = ErasureConfig

    def state(self, info: StreamInfo, rate: Rate = Rate()) -> LinkState:
        c = self.config
        return LinkState(
            snr_db=None,
            mcs=None,
            bits_per_channel_use=c.bits_per_channel_use,
            pdu_loss=c.pdu_loss,
            channel_use_budget=channel_use_budget(info, rate, c.bits_per_channel_use),
            bandwidth_hz=rate.bandwidth_hz, bitrate_bps=rate.bitrate_bps,
            duration_s=info.duration_s,
            pdu_channel_uses=self.pdu_channel_uses,
        )

    def pdu_channel_uses(self, num_bits: int, mcs: Mcs | None = None) -> int:
        """⌈bits / bits per channel use⌉: the erasure link has no modulation; ``mcs`` is ignored."""
        return erasure_channel_uses(num_bits, self.config.bits_per_channel_use)

    def carry(self, tx: Transmission, rng: np.random.Generator) -> Reception:
        require_digital(tx, self.name)
        n = len(tx.packets)
        lost = rng.random(n) < self.config.pdu_loss
        packets = tuple(None if lost[i] else p for i, p in enumerate(tx.packets))
        channel_uses = int(sum(self.packet_channel_uses(p) for p in tx.packets))
        return Reception(
            info=tx.info,
            packets=packets,
            channel_uses=channel_uses,
            report=LinkReport(pdus_sent=n, pdus_lost=int(lost.sum()), channel_uses=channel_uses),
        )
