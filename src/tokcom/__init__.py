"""tokcom — token-based semantic video communication over wireless links.

One framework for Video TokenCom, Resi-VidTok, PVSC and TVC next to x264/x265 + 5G NR baselines::

    import tokcom
    video = tokcom.load_video("clip.mp4", frames=60, size="256x256")
    result = tokcom.simulate("h265", video, "erasure", seed=0, rate=tokcom.Rate(bitrate_bps=1e5))

``import tokcom`` is light: heavy dependencies load with the stage that needs them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from tokcom.errors import DecodeError, InfeasibleError, InputError, TokcomError, WeightsUnavailable
from tokcom.types import (
    Decoded,
    LinkState,
    Mcs,
    Packet,
    Rate,
    Reception,
    Result,
    StreamInfo,
    Transmission,
    Video,
)

_LAZY = {
    "simulate": ("tokcom.pipeline", "simulate"),
    "load_video": ("tokcom.video.io", "read_video"),
    "read_video": ("tokcom.video.io", "read_video"),
    "save_video": ("tokcom.video.io", "write_video"),
    "write_video": ("tokcom.video.io", "write_video"),
    "build_scheme": ("tokcom.schemes.base", "build_scheme"),
    "build_link": ("tokcom.link.base", "build_link"),
    "compute_metrics": ("tokcom.metrics.base", "compute_metrics"),
    "get_scheme": ("tokcom.api", "get_scheme"),
    "get_link": ("tokcom.api", "get_link"),
    "list_schemes": ("tokcom.api", "list_schemes"),
    "list_links": ("tokcom.api", "list_links"),
    "list_metrics": ("tokcom.api", "list_metrics"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'tokcom' has no attribute {name!r}")


__all__ = [
    "DecodeError",
    "Decoded",
    "InfeasibleError",
    "InputError",
    "LinkState",
    "Mcs",
    "Packet",
    "Rate",
    "Reception",
    "Result",
    "StreamInfo",
    "TokcomError",
    "Transmission",
    "Video",
    "WeightsUnavailable",
    "__version__",
    "build_link",
    "build_scheme",
    "compute_metrics",
    "get_link",
    "get_scheme",
    "list_links",
    "list_metrics",
    "list_schemes",
    "load_video",
    "read_video",
    "save_video",
    "simulate",
    "write_video",
]
