"""The scheme interface: a complete source (+ channel) coding system, transmitter and receiver.

A scheme sees the link only through the :class:`~tokcom.types.LinkState` given to :meth:`Scheme.encode`
and the :class:`~tokcom.types.Reception` given to :meth:`Scheme.decode`. The receiver learns nothing from
the transmitter except what the reception carries (and the out-of-band ``StreamInfo``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
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
    example_options: ClassVar[Mapping[str, Any]] = {}
    """Options that let the scheme run on any clip without user input (the registry-driven smoke test uses
    them; e.g. TokenCom needs an intent). Empty when the defaults suffice."""

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

    def weights(self) -> dict[str, str]:
        """``{weight file name: sha256}`` of every weight file this configuration uses, known before a run
        (:mod:`tokcom.provenance`); ``"absent"`` for one that is not there. Default: none."""
        return {}

    # -- reporting hooks: a scheme describes its own records (the report never guesses from dict shapes) --
    reporting: ClassVar[Any] = None
    """A module holding the hooks below as plain functions (``summary``, ``curve_label``, ``describe`` for
    :meth:`describe_record`, ``report_sections``): each hook it has replaces the default, so a scheme keeps
    its reporting in its report module without one-line delegating methods."""

    @classmethod
    def _hook(cls, name: str) -> Any:
        return getattr(cls.reporting, name, None) if cls.reporting is not None else None

    @classmethod
    def summary(cls, record: Mapping[str, Any]) -> str:
        """A short description of a stored record's transmission choices (e.g. its MCS), for tables."""
        f = cls._hook("summary")
        return f(record) if f is not None else "–"

    @classmethod
    def curve_label(cls, record: Mapping[str, Any]) -> str:
        """The name of a record's curve in plots and tables (the scheme, plus what sets its variant apart)."""
        f = cls._hook("curve_label")
        return f(record) if f is not None else str(record.get("scheme", cls.name))

    @classmethod
    def describe_record(cls, record: Mapping[str, Any]) -> str:
        """One sentence on how a stored record's scheme was configured (for the report's "what ran")."""
        f = cls._hook("describe")
        if f is not None:
            return f(record)
        cfg = dict(record.get("config", {}).get("scheme", {}))
        cfg.pop("name", None)
        return ", ".join(f"{k} {v}" for k, v in sorted(cfg.items()) if v is not None)

    @classmethod
    def report_sections(cls, records: Sequence[Mapping[str, Any]], out_dir: Path) -> str:
        """HTML sections this scheme adds to a sweep report (its own tables and figures) from its records;
        files it writes go under ``out_dir``. Default: none."""
        f = cls._hook("report_sections")
        return f(records, out_dir) if f is not None else ""


def build_scheme(name: str, options: dict[str, Any] | None = None, *, device: str = "cpu") -> Scheme:
    """Instantiate the registered scheme ``name`` from loose options (unknown options → InputError)."""
    cls = SCHEMES.get(name)
    opts = {k: v for k, v in (options or {}).items() if v is not None}
    return cls(make_config(cls.Config, opts, what=f"scheme {name}"), device=device)
