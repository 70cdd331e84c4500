"""Video TokenCom's options (``--set key=value``; docs/design/CLI.md), checked once at construction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tokcom.config import parse_float_list
from tokcom.errors import InputError
from tokcom.intent.masks import parse_box
from tokcom.link.mcs import named_set
from tokcom.video.flow import check_flow_method

DEFAULT_B_DELTA_SET = (16, 15, 14, 13, 12, 11, 10)  # 𝓑_n, §II-D-a


def _int_tuple(v: Any, what: str) -> tuple[int, ...]:
    if isinstance(v, str):
        try:
            v = parse_float_list(v)
        except InputError as e:
            raise InputError(f"{what}: {e}") from None
    try:
        out = tuple(round(float(x)) for x in v)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a list of integers; got {v!r}") from None
    return out


@dataclass(frozen=True)
class TokenComConfig:
    """TokenCom parameters (defaults from §III of 000_cfad1eb21f67e2e2.txt).

    Attributes:
        tokenizer: a registered DiscreteVideoTokenizer (``tokcom-dv4x8x8``; ``cosmos-dv4x8x8`` where present).
        fallback_tokenizers: coarser tokenizers to switch to, in order, when the rate budget cannot carry the
            video even at the cheapest configuration (§III-B: DV4x8x8 → DV8x16x16); comma-separated.
        intent: text intent p (CLIP heatmap, eqs. 1–5; needs CLIP weights).
        intent_box: first-frame box ``x0,y0,x1,y1`` in processed-frame pixels (offline intent).
        intent_mask: first-frame mask image (nonzero = intended).
        intent_mode: ``intent`` or ``random`` (§III-E ablation: the same number of intended tokens per token
            frame drawn at random, so the same ρ_s and B_Δ).
        clip_model: CLIP weights name or open_clip directory (ViT-B/32, p = 32, by default).
        clip_threshold: ℓ (eq. 3). clip_dilation: dilation (patches) of the patch mask (eq. 3 refinement).
        flow: optical flow for eq. (6): ``dis`` (OpenCV DIS).
        theta: θ (eq. 8).
        block: g, block size of the side-information motion vectors on the token grid (§II-E, eq. 33).
        mv_bits: B_mv, bits per block motion vector.
        b_delta_set: 𝓑_n, candidate B_Δ values (§II-D-a: 10…16).
        b_delta: fix B_Δ instead of optimising it.
        mcs_intended: 𝒦_s (named set, ``tokcom link`` MCS sets; §II-D-a: QPSK 1/3, QPSK 1/2).
        mcs_non_intended: 𝓜_n (QPSK 1/3, QPSK 1/2, 16QAM 1/2, 16QAM 3/4).
        extend_mcs: when no candidate of a class meets its BLER limit at the SNR (e.g. QPSK 1/3 below
            −1 dB), add the more robust rows of 38.214 Table 5.1.3.1-1 to that class (reported).
        alpha, beta: distortion model d = α·e^{−βB} (eq. 20; 1.0 and 0.2 in §III).
        w_d, w_t: weights of eq. (29) (0.5, 0.5).
        eta: η, share of the time–frequency resource for tokens (eq. 24).
        tokens_per_pdu: L_c (512 tokens: 1024-byte PDUs at 16 bits, as Table II's 1024–1280 bytes).
        pmax_intended: p_max^(s) (29d); None → the link's BLER target (0.002).
        pmax_non_intended: p_max^(n) (29e).
        decoded_fraction: a token frame counts as decoded when at least this share of its tokens arrived.
    """

    tokenizer: str = "tokcom-dv4x8x8"
    fallback_tokenizers: str | None = None
    intent: str | None = None
    intent_box: tuple[float, ...] | None = None
    intent_mask: str | None = None
    intent_mode: Literal["intent", "random"] = "intent"
    clip_model: str = "clip-vit-b-32"
    clip_threshold: float = 0.6
    clip_dilation: int = 0
    flow: str = "dis"
    theta: float = 0.3
    block: int = 4
    mv_bits: int = 6
    b_delta_set: tuple[int, ...] = DEFAULT_B_DELTA_SET
    b_delta: int | None = None
    mcs_intended: str = "tokencom-intended"
    mcs_non_intended: str = "tokencom-nonintended"
    extend_mcs: bool = True
    alpha: float = 1.0
    beta: float = 0.2
    w_d: float = 0.5
    w_t: float = 0.5
    eta: float = 1.0
    tokens_per_pdu: int = 512
    pmax_intended: float | None = None
    pmax_non_intended: float = 0.01
    decoded_fraction: float = 0.5

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)
        if self.intent_box is not None:
            set_("intent_box", parse_box(self.intent_box))
        if self.intent is not None and not str(self.intent).strip():
            raise InputError("--intent must be a non-empty text")
        if self.intent_mode not in ("intent", "random"):
            raise InputError(f"--set intent_mode must be intent or random; got {self.intent_mode!r}")
        set_("b_delta_set", _int_tuple(self.b_delta_set, "b_delta_set"))
        if not self.b_delta_set or any(not 2 <= b <= 32 for b in self.b_delta_set):
            raise InputError(f"b_delta_set values must be in 2..32; got {self.b_delta_set}")
        if self.b_delta is not None and not 2 <= int(self.b_delta) <= 32:
            raise InputError(f"b_delta must be in 2..32; got {self.b_delta}")
        named_set(self.mcs_intended)
        named_set(self.mcs_non_intended)
        check_flow_method(self.flow)
        if not 0 < self.clip_threshold < 1 or not 0 < self.theta <= 1:
            raise InputError("clip_threshold must be in (0, 1) and theta in (0, 1]")
        if self.block < 1 or self.tokens_per_pdu < 1 or self.tokens_per_pdu > 65535:
            raise InputError("block must be ≥ 1 and tokens_per_pdu in 1..65535")
        if not (self.w_d >= 0 and self.w_t >= 0 and self.w_d + self.w_t > 0):
            raise InputError("w_d, w_t must be ≥ 0 and not both 0")
        if not 0 < self.eta <= 1:
            raise InputError(f"eta must be in (0, 1]; got {self.eta}")
        for k in ("pmax_intended", "pmax_non_intended"):
            v = getattr(self, k)
            if v is not None and not 0 < v < 1:
                raise InputError(f"{k} must be in (0, 1); got {v}")
        if not 0 < self.decoded_fraction <= 1:
            raise InputError("decoded_fraction must be in (0, 1]")
        if self.alpha <= 0 or self.beta < 0:
            raise InputError("alpha must be > 0 and beta ≥ 0")

    def tokenizers(self) -> list[str]:
        extra = [s.strip() for s in (self.fallback_tokenizers or "").split(",") if s.strip()]
        return [self.tokenizer, *extra]
