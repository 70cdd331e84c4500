"""Frame interpolation: the decoder-side f_int of Resi-VidTok, eq. (21), 001_c16fa1dac0c35e06.txt (§III-F).

The interpolators (``rife``, ``flow``, ``blend``, ``auto``) and their registry live in
:mod:`tokcom.interp.base`; RIFE's network in :mod:`tokcom.interp.rife`, the flow fusion in
:mod:`tokcom.interp.flow`. Importing this package imports neither torch nor cv2.

    >>> interp = get_interpolator("auto")
    >>> mid = interp.interpolate(a, b, [0.5])[0]
"""

from __future__ import annotations

from tokcom.interp.base import (
    INTERPOLATORS,
    RIFE_WEIGHTS,
    BlendInterpolator,
    FlowInterpolator,
    Interpolator,
    RifeInterpolator,
    get_interpolator,
    interpolator_unavailable,
    list_interpolators,
)

__all__ = [
    "INTERPOLATORS",
    "RIFE_WEIGHTS",
    "BlendInterpolator",
    "FlowInterpolator",
    "Interpolator",
    "RifeInterpolator",
    "get_interpolator",
    "interpolator_unavailable",
    "list_interpolators",
]
