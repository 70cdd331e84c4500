"""The registered tokenizers (``TOKENIZERS``): specs known without weights, loaders, ``load_tokenizer``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tokcom.registry import TOKENIZERS
from tokcom.tokenizers.base import VideoTokenizerSpec

__all__ = ["TokenizerEntry", "list_tokenizers", "load_tokenizer", "tokenizer_spec"]


@dataclass(frozen=True)
class TokenizerEntry:
    """A registered tokenizer: its spec (known without weights) and a loader.

    ``loader(name, device=..., dtype=..., path=..., **kw)`` returns the tokenizer object.
    """

    spec: VideoTokenizerSpec
    description: str
    loader: Callable[..., Any] = field(compare=False)
    source: str = ""

    def load(self, **kw: Any) -> Any:
        return self.loader(self.spec.name, **kw)


def _load_dv(name: str, **kw: Any) -> Any:
    from tokcom.tokenizers.dv import BuiltinDV

    return BuiltinDV.load(name, **kw)


def _load_cv(name: str, **kw: Any) -> Any:
    from tokcom.tokenizers.cv import BuiltinContinuous

    return BuiltinContinuous.load(name, **kw)


def _load_resitok(name: str, **kw: Any) -> Any:
    from tokcom.tokenizers.resitok import ResiTok

    return ResiTok.load(name, **kw)


def _load_cosmos(name: str, **kw: Any) -> Any:
    from tokcom.tokenizers.cosmos import load_cosmos

    return load_cosmos(name, **kw)


_FSQ16 = (8, 8, 8, 5, 5, 5)


def _register(entry: TokenizerEntry) -> None:
    TOKENIZERS.register(entry.spec.name, entry.description)(entry)


_register(TokenizerEntry(VideoTokenizerSpec("tokcom-dv4x8x8", "discrete", 4, 8, 64000, 6, _FSQ16),
                         "tokcom causal DV tokenizer 4x8x8, FSQ 64000 tokens (trained by tokcom, shipped)",
                         _load_dv, "shipped"))
_register(TokenizerEntry(VideoTokenizerSpec("tokcom-dv8x16x16", "discrete", 8, 16, 64000, 6, _FSQ16),
                         "tokcom causal DV tokenizer 8x16x16, FSQ 64000 tokens (trained by tokcom, shipped)",
                         _load_dv, "shipped"))
_register(TokenizerEntry(VideoTokenizerSpec("tokcom-cv8x16x16", "continuous", 8, 16, 0, 16, None),
                         "tokcom causal CV tokenizer 8x16x16, 16 continuous channels (TVC's pair of "
                         "tokcom-dv8x16x16; trained by tokcom, shipped)", _load_cv, "shipped"))
_register(TokenizerEntry(VideoTokenizerSpec("tokcom-resitok", "progressive", 1, 16, 4096, 4, (8, 8, 8, 8)),
                         "tokcom progressive per-frame 1D tokenizer, 4096 tokens, L=(H/16)(W/16), zero-flag",
                         _load_resitok, "shipped"))
for _id in ("DV4x8x8", "DV8x8x8", "DV8x16x16", "CV4x8x8", "CV8x8x8", "CV8x16x16"):
    _tf, _sf, _ = (int(v) for v in _id[2:].split("x"))
    _disc = _id.startswith("DV")
    _register(TokenizerEntry(
        VideoTokenizerSpec(f"cosmos-{_id.lower()}", "discrete" if _disc else "continuous", _tf, _sf,
                           64000 if _disc else 0, 6 if _disc else 16, _FSQ16 if _disc else None),
        f"NVIDIA Cosmos-Tokenizer-{_id} (TorchScript; hub or local folder)", _load_cosmos, "cosmos"))


def tokenizer_spec(name: str) -> VideoTokenizerSpec:
    """The spec of a registered tokenizer (no weights needed)."""
    return TOKENIZERS.get(name).spec


def list_tokenizers() -> list[str]:
    return TOKENIZERS.list()


def load_tokenizer(name: str, *, device: str = "cpu", dtype: str = "fp32", path: str | None = None,
                   **kw: Any) -> Any:
    """Load tokenizer ``name`` on ``device`` in ``dtype`` (``fp32`` | ``bf16``).

    Args:
        path: built-ins: a folder with ``<name>.safetensors`` + ``<name>.json`` instead of the shipped ones;
            Cosmos: a folder with ``encoder.jit`` and ``decoder.jit``.

    Raises:
        UnknownNameError: unknown name (lists the valid ones).
        WeightsUnavailable: weights absent and not fetchable here (one line).
    """
    return TOKENIZERS.get(name).load(device=device, dtype=dtype, path=path, **kw)
