"""Resi-VidTok's options (001_c16fa1dac0c35e06.txt §III-B, §IV-A); validated on construction."""

from __future__ import annotations

from dataclasses import dataclass

from tokcom.coding.topk import CRC_BITS
from tokcom.errors import InputError
from tokcom.link.mcs import named_set
from tokcom.tokenizers import tokenizer_spec

INTERPOLATORS = ("auto", "rife", "flow", "blend")
BATCH_PIXELS = 256 * 256  # ``batch_frames`` is per this many pixels a frame (activations scale with pixels)
DEFAULT_BLER_TARGET = 0.002  # §IV-A-c, 001_c16fa1dac0c35e06.txt


@dataclass(frozen=True)
class ResiVidConfig:
    """Resi-VidTok parameters (defaults from 001_c16fa1dac0c35e06.txt §III-B, §IV-A).

    Attributes:
        tokenizer: a registered *progressive* tokenizer (``tokcom-resitok``: L = 256 at 256², 4096 values).
        stride: S, key-frame stride (§III-B; the paper's balanced choice is 8).
        gop: N, GOP length in frames (§IV-A: 32); the running token state restarts at each GOP.
        interpolator: f_int of eq. (21): ``auto`` (RIFE v3.9 when its weights are cached, else the DIS-flow
            fallback), ``rife``, ``flow`` or ``blend`` (linear cross-fade).
        gop_level_k: use one prefix depth K^(g) = min_t K*_t for every key frame of a GOP (eq. 15).
        bler_target: ε of eq. (8); None → the link's target, else 0.002.
        value_bits: b_val of eq. (12); None → the tokenizer's bits per token (12).
        crc_bits: frame CRC: 16 (CRC-16/CCITT), 32 (CRC-32) or 0 (none: zero-flag padding of short bodies).
        mcs_table: 38.214 Table 5.1.3.1-x the per-frame MCS is chosen from (1, 2 or 3).
        mcs_set: a named MCS set instead of the table (``resivid-table1`` = the paper's Table I rows).
        batch_frames: frames per tokenizer/decoder batch at 256² (memory bound, not a rate parameter); larger
            frames get proportionally fewer (:data:`BATCH_PIXELS`), at least one.
    """

    tokenizer: str = "tokcom-resitok"
    stride: int = 8
    gop: int = 32
    interpolator: str = "auto"
    gop_level_k: bool = False
    bler_target: float | None = None
    value_bits: int | None = None
    crc_bits: int = 16
    mcs_table: int = 1
    mcs_set: str | None = None
    batch_frames: int = 16

    def __post_init__(self) -> None:
        if self.stride < 1:
            raise InputError(f"--stride must be ≥ 1; got {self.stride}")
        if self.gop < 1:
            raise InputError(f"--gop must be ≥ 1; got {self.gop}")
        if self.interpolator not in INTERPOLATORS:
            raise InputError(f"interpolator must be one of {', '.join(INTERPOLATORS)}; got {self.interpolator!r}")
        if self.bler_target is not None and not 0.0 < self.bler_target < 1.0:
            raise InputError(f"bler-target must be in (0, 1); got {self.bler_target}")
        if self.value_bits is not None and not 1 <= self.value_bits <= 32:
            raise InputError(f"value-bits must be in 1..32; got {self.value_bits}")
        if self.crc_bits not in CRC_BITS:
            raise InputError(f"crc-bits must be one of {', '.join(map(str, CRC_BITS))}; got {self.crc_bits}")
        if self.mcs_table not in (1, 2, 3):
            raise InputError(f"mcs-table must be 1, 2 or 3; got {self.mcs_table}")
        if self.mcs_set is not None and self.mcs_set.strip().lower() in ("", "none", "table"):
            object.__setattr__(self, "mcs_set", None)
        if self.mcs_set is not None:
            named_set(self.mcs_set)  # unknown → InputError listing the valid sets
        if self.batch_frames < 1:
            raise InputError(f"batch-frames must be ≥ 1; got {self.batch_frames}")
        spec = tokenizer_spec(self.tokenizer)  # unknown → UnknownNameError listing the valid ones
        if spec.kind != "progressive":
            raise InputError(f"resivid needs a progressive tokenizer (e.g. tokcom-resitok); {self.tokenizer} is "
                             f"{spec.kind}")
        if self.value_bits is not None and self.value_bits < spec.bits_per_token:
            raise InputError(f"value-bits {self.value_bits} cannot carry {spec.codebook_size} token values "
                             f"(needs ≥ {spec.bits_per_token})")
