"""The conventional baselines ``h264`` (libx264) and ``h265`` (libx265) through PyAV, packetised into PDUs.

Modules: :mod:`.config` (options, presets), :mod:`.report` (typed reports), :mod:`.scheme` (the closed rate
loop, best MCS per SNR, packetisation, the concealing receiver; its docstring has the pipeline). Importing
this package registers both schemes.
"""

from tokcom.schemes.h26x.config import BEST, PRESETS, H26xConfig
from tokcom.schemes.h26x.scheme import H26xScheme, H264Scheme, H265Scheme

__all__ = ["BEST", "PRESETS", "H26xConfig", "H26xScheme", "H264Scheme", "H265Scheme"]
