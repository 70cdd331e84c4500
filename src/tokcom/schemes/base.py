"""The scheme interface: a complete source (+ channel) coding system, transmitter and receiver.

A scheme sees the link only through the :class:`~tokcom.types.LinkState` given to :meth:`Scheme.encode`
and the :class:`~tokcom.types.Reception` given to :meth:`Scheme.decode`. The receiver learns nothing from
the transmitter except what the reception carries (and the out-of-band ``StreamInfo``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from tokcom.config import config_dict, make_config
from tokcom.registry import SCHEMES
from tokcom.types import Decoded, LinkState, Reception, Transmission, Video


class Scheme(ABC):
    """Base class of every system. Subclasses declare ``name`` and a frozen ``Config`` dataclass.

    Args:
        config: an instance of ``Config``; or give its fields as keyword options.
        device: ``"cpu"`` (default) or ``"cuda"`` for the neural parts.
    """

    name: ClassVar[str]
    Config: ClassVar[type]

    def __init__(self, config: Any = None, *, device: str = "cpu", **options: Any) -> None:
        if config is None:
            config = make_config(self.Config, options, what=f"scheme {self.name}")
        elif options:
            raise TypeError("give either a config or keyword options, not both")
        self.config = config
        self.device = device

    @abstractmethod
    def encode(self, video: Video, state: LinkState, rng: np.random.Generator) -> Transmission:
        """Source (and channel) code ``video`` for a link in ``state``."""

    @abstractmethod
    def decode(self, rx: Reception, rng: np.random.Generator) -> Decoded:
        """Reconstruct a frame-aligned video from whatever arrived. Never raises on damaged input."""

    def describe(self) -> dict[str, Any]:
        """Every parameter that shaped the scheme (goes into ``result.json`` ``config.scheme``)."""
        return config_dict(self.config)


def build_scheme(name: str, options: dict[str, Any] | None = None, *, device: str = "cpu") -> Scheme:
    """Instantiate the registered scheme ``name`` from loose options (unknown options → InputError)."""
    cls = SCHEMES.get(name)
    opts = {k: v for k, v in (options or {}).items() if v is not None}
    return cls(make_config(cls.Config, opts, what=f"scheme {name}"), device=device)
