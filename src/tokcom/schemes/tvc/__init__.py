"""TVC (003_299bbe4b0e9ae1eb.txt): dual-stream tokenized video compression at ultra-low bitrate.

Modules: :mod:`.config` (architectures, scheme options), :mod:`.mask` (the fixed 3-D mask of eq. (1), MAGE
training masks), :mod:`.streams` (continuous stream: hyperprior + checkerboard Gaussian CCM; discrete stream:
masked FSQ code map + categorical checkerboard CCM), :mod:`.bitstream` (per-GoP PDUs), :mod:`.nets`
(masked-token predictor, ControlNet-style fusion decoder), :mod:`.model` (the whole model, per-GoP coding),
:mod:`.trainable` (the ``tokcom.train`` adapter and the §3.5 recipe), :mod:`.scheme` and :mod:`.report`.
Importing this package does not import torch. docs/tvc.md has the pipeline and what is missing.
"""

from tokcom.registry import SCHEMES
from tokcom.schemes.tvc.config import ARCHS, TvcArch, TvcConfig
from tokcom.schemes.tvc.scheme import TvcScheme

SCHEMES.register("tvc", "TVC: dual-stream tokenized video compression (masked FSQ code map + continuous latents, "
                 "checkerboard CCMs, token prediction, ControlNet fusion; 003_299bbe4b0e9ae1eb.txt)")(TvcScheme)

__all__ = ["ARCHS", "TvcArch", "TvcConfig", "TvcScheme"]
