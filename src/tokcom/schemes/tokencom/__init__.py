"""Video TokenCom (000_cfad1eb21f67e2e2.txt) as scheme ``tokencom``.

Modules: :mod:`.config` (options), :mod:`.scheme` (the system, Alg. 1–2 and the receiver), :mod:`.uep`
(Alg. 3: candidates, eqs. 16–29, MILP), :mod:`.bitstream` (token and side-information PDUs), :mod:`.report`
(typed reports). Importing this package does not import torch.
"""

from tokcom.registry import SCHEMES
from tokcom.schemes.tokencom.config import TokenComConfig
from tokcom.schemes.tokencom.scheme import TokenComScheme

SCHEMES.register("tokencom", "Video TokenCom: intent-guided multi-rate DV tokens, UEP MILP over MCS and B_Δ "
                 "(000_cfad1eb21f67e2e2.txt)")(TokenComScheme)

__all__ = ["TokenComConfig", "TokenComScheme"]
