"""Links: channels and physical layers (``LINKS`` registry). Importing this package registers them."""

from tokcom.link import (
    erasure,  # noqa: F401  (registers "erasure")
    links,  # noqa: F401  (registers "awgn", "rayleigh")
)
from tokcom.link.accounting import channel_use_budget
from tokcom.link.base import Link, build_link

__all__ = ["Link", "build_link", "channel_use_budget"]
