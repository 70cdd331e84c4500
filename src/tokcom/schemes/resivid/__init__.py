"""Resi-VidTok (``resivid``, 001_c16fa1dac0c35e06.txt): key-frame progressive tokens, differential top-K with an
MCS-first bit budget, frame interpolation.

Modules: :mod:`.config` (options), :mod:`.report` (typed reports), :mod:`.scheme` (key frames, budget split,
transmitter, receiver; its docstring has the pipeline). Importing this package registers the scheme.
"""

from tokcom.schemes.resivid.config import ResiVidConfig
from tokcom.schemes.resivid.scheme import ResiVidScheme, exact_budget_bits, key_frames, split_budget

__all__ = ["ResiVidConfig", "ResiVidScheme", "exact_budget_bits", "key_frames", "split_budget"]
