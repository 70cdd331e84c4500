"""The convenience functions ``tokcom.get_scheme`` / ``get_link`` / ``list_*`` (exposed lazily by the package
so that ``import tokcom`` stays light)."""

from __future__ import annotations

from typing import Any

from tokcom.link.base import Link, build_link
from tokcom.registry import LINKS, METRICS, SCHEMES
from tokcom.schemes.base import Scheme, build_scheme


def get_scheme(name: str, **options: Any) -> Scheme:
    """A registered scheme built from keyword options (``tokcom.get_scheme("h265", preset="fast")``)."""
    return build_scheme(name, options)


def get_link(name: str, **options: Any) -> Link:
    """A registered link built from keyword options (``tokcom.get_link("erasure", pdu_loss=0.1)``)."""
    return build_link(name, options)


def list_schemes() -> list[str]:
    """Names of the registered schemes."""
    return SCHEMES.list()


def list_links() -> list[str]:
    """Names of the registered links."""
    return LINKS.list()


def list_metrics() -> list[str]:
    """Names of the registered metrics."""
    return METRICS.list()
