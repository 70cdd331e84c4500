"""Schemes (``SCHEMES`` registry): one module per system. Importing this package registers them."""

from tokcom.schemes import (
    h26x,  # noqa: F401  (registers h264, h265)
    pvsc,  # noqa: F401  (registers pvsc)
    resivid,  # noqa: F401  (registers resivid)
    tokencom,  # noqa: F401  (registers tokencom)
    tvc,  # noqa: F401  (registers tvc)
)
from tokcom.schemes.base import Scheme, build_scheme

__all__ = ["Scheme", "build_scheme"]
