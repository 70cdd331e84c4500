"""Entropy models and bit-exact entropy coding shared by the learned codecs (PVSC 002, TVC 003).

=========================  =================================================================================
``FactorizedPrior``        per-channel learned density for hyper-latents ẑ (Ballé 2018; eqs. (8)-(9), 002)
``GaussianConditional``    codes round(y - μ) with a σ scale table (eqs. (12)-(13), 002; TVC §3.2.1)
``CheckerboardGaussian``   two-step checkerboard context model for continuous latents (eqs. (10)-(11), 002)
``CheckerboardCategorical``  checkerboard model for FSQ code maps, lossless (TVC §3.2.2)
``write_adaptive``         order-0 adaptive (Krichevsky–Trofimov) coding of small-alphabet maps (b_k, 002)
=========================  =================================================================================

All coding goes through constriction's range coder (``pip install tokcom[entropy]``); docs/entropy.md has
the interfaces and measured numbers. Importing this package imports neither torch nor constriction.
"""

from __future__ import annotations

_LAZY = {
    "Decompressed": "tokcom.entropy.base",
    "EntropyOutput": "tokcom.entropy.base",
    "deterministic_cpu": "tokcom.entropy.base",
    "gaussian_likelihood": "tokcom.entropy.base",
    "lower_bound": "tokcom.entropy.base",
    "quantize": "tokcom.entropy.base",
    "FactorizedPrior": "tokcom.entropy.factorized",
    "GaussianConditional": "tokcom.entropy.gaussian",
    "CheckerboardGaussian": "tokcom.entropy.checkerboard",
    "anchor_mask": "tokcom.entropy.checkerboard",
    "CheckerboardCategorical": "tokcom.entropy.categorical",
    "fsq_to_levels": "tokcom.entropy.categorical",
    "levels_to_fsq": "tokcom.entropy.categorical",
    "QuantizedTables": "tokcom.entropy.tables",
    "quantize_pmf": "tokcom.entropy.tables",
    "scale_table": "tokcom.entropy.tables",
    "StreamReader": "tokcom.entropy.stream",
    "StreamWriter": "tokcom.entropy.stream",
    "adaptive_bits": "tokcom.entropy.adaptive",
    "read_adaptive": "tokcom.entropy.adaptive",
    "write_adaptive": "tokcom.entropy.adaptive",
}

__all__ = [
    "CheckerboardCategorical",
    "CheckerboardGaussian",
    "Decompressed",
    "EntropyOutput",
    "FactorizedPrior",
    "GaussianConditional",
    "QuantizedTables",
    "StreamReader",
    "StreamWriter",
    "adaptive_bits",
    "anchor_mask",
    "deterministic_cpu",
    "fsq_to_levels",
    "gaussian_likelihood",
    "levels_to_fsq",
    "lower_bound",
    "quantize",
    "quantize_pmf",
    "read_adaptive",
    "scale_table",
    "write_adaptive",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tokcom.entropy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
