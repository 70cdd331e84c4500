"""The link interface: a channel plus physical layer that carries a :class:`~tokcom.types.Transmission`.

A link never looks inside a payload. A scheme sees the link only through the :class:`LinkState` it gets
at encode time and the :class:`Reception` it gets back.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from tokcom.config import config_dict, make_config
from tokcom.errors import InputError
from tokcom.registry import LINKS
from tokcom.types import LinkState, Rate, Reception, StreamInfo, Transmission


def channel_use_budget(info: StreamInfo, rate: Rate, bits_per_channel_use: float | None) -> int | None:
    """Complex channel uses available for the whole video under ``rate``.

    ``cbr`` → cbr·T·H·W·3 (Resi-VidTok eq. 1 / PVSC eq. 5); ``bandwidth_hz`` → B·duration (one complex
    symbol per Hz per second, TokenCom eqs. 18–19); ``bitrate_bps`` → bitrate·duration / bits-per-channel-use.
    """
    if rate.cbr is not None:
        return int(math.floor(rate.cbr * info.num_samples))
    if rate.bandwidth_hz is not None:
        return int(math.floor(rate.bandwidth_hz * info.duration_s))
    if rate.bitrate_bps is not None and bits_per_channel_use:
        return int(math.ceil(rate.bitrate_bps * info.duration_s / bits_per_channel_use))
    return None


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
