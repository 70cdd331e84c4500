"""The link interface: a channel plus physical layer that carries a :class:`~tokcom.types.Transmission`.

A link never looks inside a payload. A scheme sees the link only through the :class:`LinkState` it gets
at encode time and the :class:`Reception` it gets back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from tokcom.config import config_dict, make_config
from tokcom.errors import InputError
from tokcom.link.accounting import channel_use_budget  # noqa: F401  (re-exported: tokcom.link.channel_use_budget)
from tokcom.registry import LINKS
from tokcom.reporting import OMIT, Report
from tokcom.types import LinkState, Mcs, Packet, Rate, Reception, StreamInfo, Transmission


@dataclass(frozen=True)
class StreamReport(Report):
    """One traffic class (``Packet.stream``) as the link carried it."""

    pdus_sent: int = 0
    pdus_lost: int = 0
    channel_uses: int = 0
    source_bits: int = 0
    mcs: Mcs | None = None
    bler: float | None = None
    tb_sizes: tuple[int, ...] = ()


@dataclass(frozen=True)
class LinkReport(Report):
    """What a link says about one transmission (``result.json`` ``link``, merged with the link's config).

    Fields a link does not have (an erasure link has no PHY) are left out of ``to_dict()``.
    """

    pdus_sent: int
    pdus_lost: int
    channel_uses: int
    phy: str = OMIT
    snr_db: float = OMIT
    mcs: Mcs = OMIT
    mcs_adapted: bool = OMIT
    mcs_candidates: str = OMIT
    bler_at_pdu_bits: float = OMIT
    bler_target_met: bool = OMIT
    overhead: float = OMIT
    streams: dict[str, StreamReport] = field(default_factory=dict)
    analog_symbols: int = OMIT
    post_eq_snr_db: float | None = OMIT


class Link(ABC):
    """A channel + PHY. Subclasses declare ``name`` and a frozen ``Config`` dataclass."""

    name: ClassVar[str]
    Config: ClassVar[type]

    def __init__(self, config: Any = None, **options: Any) -> None:
        if config is None:
            config = make_config(self.Config, options, what=f"channel {self.name}")
        elif options:
            raise TypeError("give either a config or keyword options, not both")
        self.config = config

    @abstractmethod
    def state(self, info: StreamInfo, rate: Rate = Rate()) -> LinkState:
        """The transmitter's view of the link for a video of ``info`` under ``rate``."""

    @abstractmethod
    def carry(self, tx: Transmission, rng: np.random.Generator) -> Reception:
        """Send ``tx`` through the channel; losses and noise drawn from ``rng``."""

    @abstractmethod
    def pdu_channel_uses(self, num_bits: int, mcs: Mcs | None = None) -> int:
        """Channel uses this link charges for one PDU of ``num_bits`` payload bits (``mcs`` None: the link's
        own choice). ``carry`` charges exactly this, and ``LinkState.pdu_channel_uses`` is this method."""

    def packet_channel_uses(self, packet: Packet) -> int:
        return self.pdu_channel_uses(int(packet.num_bits), packet.mcs)

    def describe(self) -> dict[str, Any]:
        """The ``result.json`` ``link`` block (channel name plus every config field)."""
        return {"channel": self.name, **config_dict(self.config)}


def build_link(name: str, options: dict[str, Any] | None = None) -> Link:
    """Instantiate the registered link ``name`` from loose options (unknown options → InputError)."""
    cls = LINKS.get(name)
    opts = {k: v for k, v in (options or {}).items() if v is not None}
    return cls(make_config(cls.Config, opts, what=f"channel {name}"))


def require_digital(tx: Transmission, name: str) -> None:
    if tx.symbols is not None:
        raise InputError(f"channel {name} carries PDUs only; this scheme sends analog symbols")
