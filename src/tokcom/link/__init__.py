"""Links: channels and physical layers (``LINKS`` registry). Importing this package registers them."""

from tokcom.link.base import Link, build_link, channel_use_budget
from tokcom.link import erasure  # noqa: F401  (registers "erasure")
from tokcom.link import links  # noqa: F401  (registers "awgn", "rayleigh")

__all__ = ["Link", "build_link", "channel_use_budget"]
