"""TVC configurations: the networks (``small`` / ``paper``) and the scheme options.

Paper: 003_299bbe4b0e9ae1eb.txt (§3, §4.1). Importing this module imports neither torch nor numpy: the scheme
registry reads it at start-up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from tokcom.errors import InputError

PAPER = "003_299bbe4b0e9ae1eb.txt"
FSQ_LEVELS: tuple[int, ...] = (8, 8, 8, 5, 5, 5)  # the Cosmos / tokcom DV tokenizers' FSQ (64000 tokens)


TOKENIZER_PAIRS = ("tokcom", "cosmos")


@dataclass(frozen=True)
class TvcArch:
    """The TVC networks around the two frozen tokenizers (003 §3.1–3.4).

    Attributes:
        name: ``small`` (CPU-sized) or ``paper`` (our guess at the paper's sizes: it publishes none).
        temporal_factor, spatial_factor: the tokenizers' 8×16×16 (§3.5 stage 1: T = 8, H/H' = W/W' = 16).
        tokenizer_width: width of tokcom's DV/CV nets (64: ``tokcom-dv8x16x16`` / ``tokcom-cv8x16x16``).
        levels: the DV tokenizer's FSQ levels (the code map's alphabet per dimension, §3.2.2).
        latent_channels: d_C of the continuous latent y^C (16).
        downsample: §3.2.1's spatial downsampling of the GoP before the continuous tokenizer (y^C at
            H/(16·s) × W/(16·s)).
        hyper_channels, hyper_hidden: the continuous CCM's hyperprior ẑ (one stride-2 stage below y^C).
        ccm_hidden: width of the discrete (categorical) CCM's context net.
        d_model, heads, depth, mlp_ratio: the masked-token Transformer (§3.3).
        proj_width: width of the token projection (the tokenizer-encoder-like causal block, §3.3).
        head: ``factorized`` (one softmax per FSQ dimension, Σ levels = 39 logits) or ``index`` (one softmax
            over the 64000 token indices, the paper's "index map").
        max_latent_frames, max_grid: sizes of the learnable temporal / row / column position embeddings.
        tokenizers: ``tokcom`` (tokcom-dv8x16x16 + tokcom-cv8x16x16, whose decoder layers the fusion decoder
            re-uses) or ``cosmos`` (cosmos-dv8x16x16 + cosmos-cv8x16x16, frozen TorchScript: the control branch
            is injected at the pixel scale only, :class:`~tokcom.schemes.tvc.nets.PixelFusion`).
        pos_train_grid: training crops (8×8 tokens at 128² px) sit at a random offset inside the first
            ``pos_train_grid`` rows / columns of the position tables, so that every row and column of a frame up
            to ``16·pos_train_grid`` px is trained (16: 256² frames); rows beyond stay near their initial values.
    """

    name: str = "small"
    temporal_factor: int = 8
    spatial_factor: int = 16
    tokenizer_width: int = 64
    levels: tuple[int, ...] = FSQ_LEVELS
    latent_channels: int = 16
    downsample: int = 2
    hyper_channels: int = 32
    hyper_hidden: int = 64
    ccm_hidden: int = 64
    d_model: int = 128
    heads: int = 4
    depth: int = 4
    mlp_ratio: float = 4.0
    proj_width: int = 64
    head: Literal["factorized", "index"] = "factorized"
    max_latent_frames: int = 32
    max_grid: int = 160
    pos_train_grid: int = 16
    tokenizers: Literal["tokcom", "cosmos"] = "tokcom"

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(int(v) for v in self.levels))
        for k in ("temporal_factor", "spatial_factor", "tokenizer_width", "latent_channels", "downsample",
                  "hyper_channels", "hyper_hidden", "ccm_hidden", "d_model", "heads", "depth", "proj_width",
                  "max_latent_frames", "max_grid", "pos_train_grid"):
            if int(getattr(self, k)) < 1:
                raise InputError(f"tvc arch: {k} must be ≥ 1; got {getattr(self, k)}")
        if self.d_model % self.heads:
            raise InputError(f"tvc arch: d_model {self.d_model} is not a multiple of heads {self.heads}")
        if self.tokenizers not in TOKENIZER_PAIRS:
            raise InputError(f"tvc arch: tokenizers must be one of {', '.join(TOKENIZER_PAIRS)}; got {self.tokenizers!r}")
        if self.head not in ("factorized", "index"):
            raise InputError(f"tvc arch: head must be factorized or index; got {self.head!r}")
        if not self.levels or min(self.levels) < 2:
            raise InputError(f"tvc arch: FSQ levels must be ≥ 2; got {self.levels}")

    @property
    def codebook_size(self) -> int:
        return math.prod(self.levels)

    @property
    def pad_multiple(self) -> int:
        """Frames are padded (replicate) to a multiple of this in H and W: the continuous stream's grid is
        1/(16·s) and its hyperprior halves it once more."""
        return self.spatial_factor * self.downsample * 2

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["levels"] = list(self.levels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TvcArch:
        bad = sorted(set(d) - set(cls.__dataclass_fields__))
        if bad:
            raise InputError(f"tvc arch: unknown fields {bad}")
        return cls(**{k: (tuple(v) if k == "levels" else v) for k, v in d.items()})


ARCHS: dict[str, TvcArch] = {
    "small": TvcArch(),
    # the paper gives no widths; a MAGE-base-like Transformer over the index map (§3.3)
    "paper": TvcArch(name="paper", hyper_channels=64, hyper_hidden=128, ccm_hidden=128, d_model=512, heads=8,
                     depth=8, proj_width=192, head="index"),
}


def get_arch(name: str | TvcArch, **overrides: Any) -> TvcArch:
    arch = name if isinstance(name, TvcArch) else ARCHS.get(name)
    if arch is None:
        raise InputError(f"unknown tvc model {name!r}; valid: {', '.join(ARCHS)}")
    if overrides:
        bad = sorted(set(overrides) - set(TvcArch.__dataclass_fields__))
        if bad:
            raise InputError(f"tvc arch: unknown options {bad}")
        arch = replace(arch, **{k: (tuple(v) if k == "levels" else v) for k, v in overrides.items()})
    return arch


# eq. (1)'s mask interval (the paper gives none). A prime: with an interval that divides the token grid's width
# (16 = the width at 256²) the visible tokens line up into column stripes the predictor cannot fill from
# neighbours; 17 spreads them diagonally (measured on the validation clip cockatoo, docs/tvc.md: +1.2 … +3.6 dB).
DEFAULT_MASK_INTERVAL = 17


def visible_per_interval(mask_rate: float, mask_interval: int) -> int:
    """``n_visible`` for a target mask rate: eq. (1), 003_299bbe4b0e9ae1eb.txt, solved for n_visible and
    rounded (the effective rate is ``1 − n_visible / interval``)."""
    # eq. (1), 003_299bbe4b0e9ae1eb.txt: Mask Rate = 1 − n_visible / Mask Interval
    return round((1.0 - float(mask_rate)) * int(mask_interval))


# Rate control's ladder (``rate_control=ladder``): operating points (Δ, mask rate) from the best (most bits) to
# the cheapest. With a channel-use budget each GoP takes the first one whose two PDUs fit its share
# (tokcom.schemes.ratecontrol); mask rate 1 sends no discrete PDU (every token predicted from ŷ^C).
# The rungs are the points of TRAINING_POINTS that no other beat at a lower rate on the validation clips
# (cockatoo.mp4, vtest.avi; docs/tvc.md); training draws from all of TRAINING_POINTS.
TRAINING_POINTS: tuple[tuple[float, float], ...] = (
    (0.5, 0.0), (0.5, 0.25), (1.0, 0.25), (1.0, 0.5), (2.0, 0.5), (2.0, 0.75), (4.0, 0.75), (4.0, 1.0),
    (8.0, 1.0), (16.0, 1.0), (32.0, 1.0))
RATE_LADDER: tuple[tuple[float, float], ...] = (
    (0.5, 0.0), (1.0, 0.25), (1.0, 0.5), (2.0, 0.5), (2.0, 0.75), (4.0, 1.0))


@dataclass(frozen=True)
class TvcConfig:
    """Options of the ``tvc`` scheme (``--set key=value``).

    Attributes:
        model: the architecture (``small`` or ``paper``).
        weights: ``shipped`` (``src/tokcom/schemes/tvc/weights/tvc-<model>.safetensors``; none exist yet, so a
            one-line ``WeightsUnavailable``), ``random`` (a seeded random initialisation of everything, the
            tokenizers included: untrained, reported as such) or a path to an exported ``.safetensors``.
        seed: the seed of ``weights=random``.
        gop: frames per GoP, ``1 + 8k`` (each GoP is tokenized on its own, §3.1; 17 = 1 + 2·8).
        mask_rate: the discrete stream's mask rate of eq. (1) (0: every token sent; 1: none, the Transformer
            predicts all of them from the continuous stream).
        mask_interval: the mask interval of eq. (1); ``n_visible = round((1 − mask_rate)·interval)`` (17: see
            :data:`DEFAULT_MASK_INTERVAL`).
        quant_step: the uniform quantisation step of y^C (§3.2.1); larger = fewer bits.
        predict_steps: iterations of the receiver's deterministic masked-token decoding (fixed schedule).
        code_map: False = the "no code-map compression" ablation (Fig. 6): visible tokens sent as raw 16-bit
            indices instead of the CCM-coded FSQ code map.
        cross_attention, spatiotemporal, fusion: the other Fig. 6 ablations (off: no cross-attention to ŷ^C;
            no temporal attention nor position embeddings; the discrete-stream decoder alone).
        tokenizers: ``tokcom`` (the shipped pair) or ``cosmos`` (cosmos-dv8x16x16 + cosmos-cv8x16x16 from
            ``cosmos_dv`` / ``cosmos_cv`` folders, else the Cosmos cache / hub; the TVC weights are then
            ``tvc-<model>-cosmos``).
        cosmos_dv, cosmos_cv: folders holding a Cosmos tokenizer's ``encoder.jit`` / ``decoder.jit`` ("" = the
            default locations).
        rate_control: with a channel-use budget (``--cbr`` / ``--bandwidth-hz`` / ``--bitrate``), ``ladder``
            picks per GoP the best point of :data:`RATE_LADDER` that fits the GoP's share (``quant_step`` and
            ``mask_rate`` are then ignored); ``fixed`` codes every GoP at ``quant_step`` / ``mask_rate`` and the
            pipeline leaves what does not fit unsent (the discrete PDUs first). Without a budget both are fixed.
    """

    model: Literal["small", "paper"] = "small"
    weights: str = "shipped"
    seed: int = 0
    gop: int = 17
    mask_rate: float = 0.5
    mask_interval: int = DEFAULT_MASK_INTERVAL
    quant_step: float = 1.0
    predict_steps: int = 4
    code_map: bool = True
    cross_attention: bool = True
    spatiotemporal: bool = True
    fusion: bool = True
    rate_control: Literal["ladder", "fixed"] = "ladder"
    tokenizers: Literal["tokcom", "cosmos"] = "tokcom"
    cosmos_dv: str = ""
    cosmos_cv: str = ""

    def __post_init__(self) -> None:
        if self.model not in ARCHS:
            raise InputError(f"--set model must be one of {', '.join(ARCHS)}; got {self.model!r}")
        tf = ARCHS[self.model].temporal_factor
        if self.gop < 1 or (self.gop - 1) % tf:
            raise InputError(f"--set gop must be 1 + {tf}k frames (1, {1 + tf}, {1 + 2 * tf}, …); got {self.gop}")
        if not 0.0 <= float(self.mask_rate) <= 1.0:
            raise InputError(f"--set mask_rate must be in [0, 1]; got {self.mask_rate}")
        if not 1 <= int(self.mask_interval) <= 4096:
            raise InputError(f"--set mask_interval must be in 1..4096; got {self.mask_interval}")
        if not (math.isfinite(self.quant_step) and 1 / 256 <= self.quant_step <= 255):
            raise InputError(f"--set quant_step must be in [1/256, 255]; got {self.quant_step}")
        if not 1 <= int(self.predict_steps) <= 64:
            raise InputError(f"--set predict_steps must be in 1..64; got {self.predict_steps}")
        if not str(self.weights).strip():
            raise InputError("--set weights must be shipped, random or a .safetensors path")

    @property
    def weights_name(self) -> str:
        """The weight files' stem: ``tvc-<model>`` or ``tvc-<model>-cosmos``."""
        return f"tvc-{self.model}" + ("-cosmos" if self.tokenizers == "cosmos" else "")

    @property
    def n_visible(self) -> int:
        return visible_per_interval(self.mask_rate, self.mask_interval)
