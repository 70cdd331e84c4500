"""PVSC configurations: the network architecture (``paper`` / ``small``), the rate sets, and the scheme options.

Paper: 002_165f6aebfafa3581.txt (§III, §IV-A). Importing this module imports neither torch nor numpy-heavy
code: the scheme registry reads it at start-up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from tokcom.errors import InputError

# §IV-A, 002_165f6aebfafa3581.txt: the rate set after rate-set distillation, for C_y = 128
PAPER_RATE_SET: tuple[int, ...] = (0, 4, 8, 12, 16, 20, 24, 28, 36, 44, 52, 60, 68, 84, 100, 128)
# §IV-A: ω_t of the quality presets (one learnable channel-wise scaling vector set per preset)
PAPER_OMEGAS: tuple[float, ...] = (0.001, 0.10, 0.21, 0.42, 0.88)
PAPER_ETA = 0.2  # §IV-A: η of eqs. (14), (25)
# §IV-A: eq. (27)'s weights — reconstruction (L1), perceptual (LPIPS), adversarial (hinge GAN)
LAMBDA_REC, LAMBDA_PER, LAMBDA_ADV = 1.0, 0.8, 0.1
PAD_MULTIPLE = 64  # y at 1/16, z at 1/64 of the frame: frames are padded (replicate) to a multiple of 64
QUALITY_RESOLUTION = 256
"""A quality between two presets is sent (and used at both ends) in steps of 1/256 of the interval."""
QUALITY_RUNGS = 8
"""Rate control's rungs per preset interval: q4, q3.875, …, q0.125, q0 (interpolated scaling vectors)."""
Z_LIMIT = 1024.0
"""|ẑ| is clamped to this at both ends (trained hyper-latents stay within tens): a CRC-valid but hostile b_z
whose escape codes decode to huge values cannot overflow the hyper decoder."""


def scaled_rate_set(c_y: int) -> tuple[int, ...]:
    """The paper's distilled rate set scaled from C_y = 128 to ``c_y`` (even values, distinct, 0 and C_y kept).

    ``c_y = 128`` gives :data:`PAPER_RATE_SET` exactly."""
    out: list[int] = []
    for k in PAPER_RATE_SET:
        v = 2 * round(k * c_y / 256)
        if not out or v > out[-1]:
            out.append(v)
    top = c_y + (c_y % 2)  # an odd C_y: its last symbol carries one dimension
    if out[-1] < top:
        out.append(top)
    return tuple(out)


def overcomplete_rate_set(c_y: int) -> tuple[int, ...]:
    """The overcomplete set of training stage 2 (§III-D: ``{i}_{i=0}^{C_y}``), even values only: an odd ``k``
    occupies the same ``l = ⌈k/2⌉`` complex channel uses as ``k + 1``."""
    return tuple(range(0, c_y + 1, 2))


def snap_quality(q: float) -> float:
    """A quality as the side PDU carries it: the nearest multiple of 1/:data:`QUALITY_RESOLUTION`, an ``int``
    when it is a preset (so presets print, compare and serialise as before)."""
    v = round(float(q) * QUALITY_RESOLUTION) / QUALITY_RESOLUTION
    return int(v) if v.is_integer() else v


def symbols_for(k: int) -> int:
    """``l = ⌈k/2⌉`` complex channel symbols of a spatial unit with symbol-length factor ``k`` (§II-B)."""
    return (int(k) + 1) // 2


@dataclass(frozen=True)
class PvscArch:
    """The PVSC network (002_165f6aebfafa3581.txt §III-A, Figs. 2–4) — both the P-frame codec and the intra codec.

    Attributes:
        name: ``paper`` or ``small`` (or a user's name).
        c_y: C_y, channels of the semantic feature y (1/16 resolution; §IV-A: 128).
        c_z: C_z, channels of the hyper-latent z (1/64 resolution; §IV-A: 128).
        width: channels of the 1/8-resolution features (after pixel-unshuffle by 8), the generator's
            intermediate feature F_t and the temporal contexts.
        ctx_channels: channels of the entropy context C_e (1/16).
        hyper_width: width of H_enc / H_dec.
        enc_blocks, dec_blocks, ctx_blocks: DC blocks in F_ext, G and C_ext (1/8 resolution).
        low_blocks: DC blocks at 1/16 after F_ext's last downsampling and before G's first upsampling.
        cb_hidden: width of the checkerboard spatial prior E_s (eq. 11).
        d_model, heads, depth, mlp_ratio, window: the ViT feature-to-symbol coder (F_tx / F_rx, §III-A):
            token width, attention heads, blocks per coder (the P-frame coder alternates ViT and
            contextual-ViT blocks), MLP expansion and the attention window in spatial units.
        rates: the symbol-length set (eq. 14's rate matching); ``()`` → :func:`scaled_rate_set` of C_y.
        omegas: ω_t of the quality presets (eq. 27; one scaling-vector set per preset).
        eta: η of eqs. (14) and (25).
        quality_spread: initial encoder scales of the presets, 2^(spread·(q − centre)) (the decoder's start
            as the inverses); learned afterwards.
        eta_top: the largest factor on η the symbol coder was trained for (1: η only, the paper's training):
            rate control's rungs above the top preset send the top preset at η × a factor up to this
            (``ratecontrol.TOP_ETA_SCALES``); a model trained at η only gets worse with more symbols per unit.
            Not part of the network: recorded by the training run in the export.
    """

    name: str = "small"
    c_y: int = 64
    c_z: int = 32
    width: int = 96
    ctx_channels: int = 24
    hyper_width: int = 32
    enc_blocks: int = 3
    dec_blocks: int = 5
    ctx_blocks: int = 2
    low_blocks: int = 1
    cb_hidden: int = 24
    d_model: int = 48
    heads: int = 4
    depth: int = 2
    mlp_ratio: float = 2.0
    window: int = 8
    rates: tuple[int, ...] = ()
    omegas: tuple[float, ...] = PAPER_OMEGAS
    eta: float = PAPER_ETA
    quality_spread: float = 0.5
    eta_top: float = 1.0

    def __post_init__(self) -> None:
        for k in ("c_y", "c_z", "width", "ctx_channels", "hyper_width", "cb_hidden", "d_model", "heads", "depth",
                  "window"):
            if int(getattr(self, k)) < 1:
                raise InputError(f"pvsc arch: {k} must be ≥ 1; got {getattr(self, k)}")
        if self.d_model % self.heads:
            raise InputError(f"pvsc arch: d_model {self.d_model} is not a multiple of heads {self.heads}")
        rates = tuple(int(r) for r in (self.rates or scaled_rate_set(self.c_y)))
        if rates != tuple(sorted(set(rates))) or rates[0] != 0 or rates[-1] > 2 * ((self.c_y + 1) // 2) \
                or len(rates) > 256:
            raise InputError(f"pvsc arch: rates must be increasing from 0 to at most C_y; got {rates}")
        object.__setattr__(self, "rates", rates)
        object.__setattr__(self, "omegas", tuple(float(w) for w in self.omegas))
        if not self.omegas or any(not (w > 0 and math.isfinite(w)) for w in self.omegas):
            raise InputError(f"pvsc arch: omegas must be positive; got {self.omegas}")
        if not self.eta > 0:
            raise InputError(f"pvsc arch: eta must be > 0; got {self.eta}")
        if not (1.0 <= float(self.eta_top) and math.isfinite(self.eta_top)):
            raise InputError(f"pvsc arch: eta_top must be a finite number ≥ 1; got {self.eta_top}")
        object.__setattr__(self, "eta_top", float(self.eta_top))

    @property
    def num_qualities(self) -> int:
        return len(self.omegas)

    @property
    def overcomplete(self) -> tuple[int, ...]:
        return tuple(sorted(set(overcomplete_rate_set(self.c_y)) | set(self.rates)))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rates"], d["omegas"] = list(self.rates), list(self.omegas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PvscArch:
        known = {f for f in cls.__dataclass_fields__}
        bad = sorted(set(d) - known)
        if bad:
            raise InputError(f"pvsc arch: unknown fields {bad}")
        vals = dict(d)
        for k in ("rates", "omegas"):
            if k in vals:
                vals[k] = tuple(vals[k])
        return cls(**vals)


# §IV-A: C_y = C_z = 128. The rest is ours (the paper gives no widths): 1/8-resolution DC blocks as in
# DCVC-RT, a 4-block ViT coder per direction. Measured: benchmarks/bench_pvsc.py, docs/pvsc.md.
ARCHS: dict[str, PvscArch] = {
    "paper": PvscArch(name="paper", c_y=128, c_z=128, width=128, ctx_channels=96, hyper_width=128, enc_blocks=3,
                      dec_blocks=4, ctx_blocks=2, low_blocks=1, cb_hidden=128, d_model=256, heads=8, depth=4,
                      mlp_ratio=4.0, window=8),
    "small": PvscArch(),
}


def get_arch(name: str | PvscArch, **overrides: Any) -> PvscArch:
    """A named architecture (``paper`` / ``small``), with field overrides."""
    if isinstance(name, PvscArch):
        arch = name
    else:
        if name not in ARCHS:
            raise InputError(f"unknown pvsc model {name!r}; valid: {', '.join(ARCHS)}")
        arch = ARCHS[name]
    if overrides:
        vals = {k: (tuple(v) if k in ("rates", "omegas") else v) for k, v in overrides.items()}
        bad = sorted(set(vals) - set(PvscArch.__dataclass_fields__))
        if bad:
            raise InputError(f"pvsc arch: unknown options {bad}")
        arch = replace(arch, **vals)
    return arch


WEIGHTS_CHOICES = ("shipped", "random")


@dataclass(frozen=True)
class PvscConfig:
    """Options of the ``pvsc`` scheme (defaults from 002_165f6aebfafa3581.txt where it gives them).

    Attributes:
        model: the architecture, ``small`` (CPU-sized, shipped as ``pvsc-small``) or ``paper`` (C_y = C_z = 128).
        weights: ``shipped`` (``src/tokcom/schemes/pvsc/weights/pvsc-<model>.safetensors``, sha256-pinned; a
            missing file is a one-line ``WeightsUnavailable``), ``random`` (a deterministic random
            initialisation from ``seed``: untrained, reported as such) or a path to a ``.safetensors`` file
            exported by ``tokcom train`` (its ``.json`` beside it).
        seed: the seed of ``weights=random``.
        gop: GOP length in frames: the first frame of each GOP is intra-coded, the rest are P-frames
            (Table I: 4, 8, 12).
        quality: a fixed quality (0 … 4, highest = best) instead of rate control: a preset, or a value between
            two (e.g. 0.5: the scaling vectors interpolated, steps of 1/256); None: rate control picks per GOP
            the highest quality on its ladder (presets and :data:`QUALITY_RUNGS` rungs between neighbours) whose
            symbols and side information fit the budget (the best preset when there is no budget).
        ladder: rate control's candidates below the best preset (:mod:`tokcom.schemes.pvsc.ratecontrol`):
            ``eta`` (the qualities down to preset q1, then η lowered at q1, then a few low rungs; chosen on the
            validation clips) or ``quality`` (all qualities down to q0, then η lowered at q0; session 8's).
        rate_choice: how rate control chooses among the rungs that fit: ``fit`` (the highest that fits, §III-C
            as written) or ``received`` (the one whose reception the transmitter simulates at the link's SNR
            with the lowest eq. (27) loss, walking down from the highest that fits;
            :mod:`tokcom.schemes.pvsc.received`). They differ only where noisy symbols cost more than they
            bring (low SNR); over a link without an analog channel, or with a fixed ``quality``, both are
            ``fit``.
        choice_net: the perceptual network of ``rate_choice=received``'s loss: ``lpips-alex`` (the small
            recipe's) or ``lpips-vgg`` (the paper's, the evaluation's).
        eta: η of eq. (14) (None: the model's, 0.2).
        eta_top: rate control's rungs above the top preset send it at η × the factors of
            :data:`~tokcom.schemes.pvsc.ratecontrol.TOP_ETA_SCALES` up to this one (None: the model's own
            ``eta_top``, what its training covered; 1: none, the top preset at η is the best rung).
        rate_map_codec: how the rate map k_t becomes b_k: ``arith`` (order-0 adaptive range coding in ẑ's
            stream, :mod:`tokcom.entropy.adaptive`), ``deflate`` (4-bit indices when ≤ 16 levels + raw DEFLATE,
            the compression inside PNG without its ~60-byte container) or ``png`` (cv2.imencode, as the paper).
        side_mcs: MCS of the side-information PDUs: ``link`` (the link's adapted MCS) or ``robust`` (the
            most efficient 38.214 Table 5.1.3.1-1 row predicted to lose < 1e-4 of such PDUs).
        on_loss: a frame whose side information is lost or damaged is replaced by the last reconstruction;
            ``freeze`` also drops the reference buffer so the rest of the GOP freezes until the next
            I-frame; ``skip`` keeps decoding later P-frames against the last good buffer.
        digital_bits: over a link without an analog channel (``erasure``) each symbol's real and imaginary
            parts are quantised to this many bits and sent in PDUs (a tokcom fallback, not the paper).
        symbol_clip: received symbols are sanitised: NaN/inf → 0, magnitudes clipped to this.
    """

    model: Literal["small", "paper"] = "small"
    weights: str = "shipped"
    seed: int = 0
    gop: int = 8
    quality: float | None = None
    ladder: Literal["eta", "quality"] = "eta"
    rate_choice: Literal["fit", "received"] = "fit"
    choice_net: Literal["lpips-alex", "lpips-vgg"] = "lpips-alex"
    eta: float | None = None
    eta_top: float | None = None
    rate_map_codec: Literal["arith", "deflate", "png"] = "arith"
    side_mcs: Literal["link", "robust"] = "link"
    on_loss: Literal["freeze", "skip"] = "freeze"
    digital_bits: int = 8
    symbol_clip: float = 8.0

    def __post_init__(self) -> None:
        if self.model not in ARCHS:
            raise InputError(f"--set model must be one of {', '.join(ARCHS)}; got {self.model!r}")
        if self.gop < 1:
            raise InputError(f"--set gop must be ≥ 1; got {self.gop}")
        n_q = ARCHS[self.model].num_qualities
        if self.quality is not None:
            if not (isinstance(self.quality, (int, float)) and math.isfinite(self.quality)
                    and 0 <= self.quality <= n_q - 1):
                raise InputError(f"--set quality must be a number in 0..{n_q - 1}; got {self.quality}")
            object.__setattr__(self, "quality", snap_quality(self.quality))
        if self.eta is not None and not (self.eta > 0 and math.isfinite(self.eta)):
            raise InputError(f"--set eta must be a positive number; got {self.eta}")
        if self.eta_top is not None and not (self.eta_top >= 1 and math.isfinite(self.eta_top)):
            raise InputError(f"--set eta_top must be a number ≥ 1; got {self.eta_top}")
        if not 2 <= int(self.digital_bits) <= 16:
            raise InputError(f"--set digital_bits must be in 2..16; got {self.digital_bits}")
        if not self.symbol_clip > 0:
            raise InputError(f"--set symbol_clip must be > 0; got {self.symbol_clip}")
        if not str(self.weights).strip():
            raise InputError("--set weights must be shipped, random or a .safetensors path")
