"""PVSC (002_165f6aebfafa3581.txt) as scheme ``pvsc``: perception-aware deep-JSCC video semantic communication.

Modules: :mod:`.config` (architectures, rate sets, scheme options), :mod:`.nets` (DC blocks, context
extractor, ViT / contextual-ViT feature-to-symbol coder), :mod:`.model` (the P-frame and intra codecs,
eqs. 6–26), :mod:`.bitstream` (side-information PDUs, rate-map codecs), :mod:`.ratecontrol` (per-GOP preset
choice under the budget), :mod:`.scheme` (transmitter / receiver over the link), :mod:`.report` (typed
reports and hooks), :mod:`.trainable` (the ``tokcom.train`` adapter and recipes). Importing this package
does not import torch. docs/pvsc.md has the pipeline, the options and the deviations.
"""

from tokcom.registry import SCHEMES
from tokcom.schemes.pvsc.config import ARCHS, PvscArch, PvscConfig
from tokcom.schemes.pvsc.scheme import PvscScheme

SCHEMES.register("pvsc", "PVSC: perception-aware deep-JSCC video, spatio-temporal feature coding, per-GOP rate "
                 "control with one model (002_165f6aebfafa3581.txt)")(PvscScheme)

__all__ = ["ARCHS", "PvscArch", "PvscConfig", "PvscScheme"]
