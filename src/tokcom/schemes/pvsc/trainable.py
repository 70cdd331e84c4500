"""PVSC on the training engine (002_165f6aebfafa3581.txt §II-C, §III-D, §IV-A): the adapter and its recipes.

::

    batch (B,3,T,H,W) ─► PvscModel.train_clip (frame 0 intra, the rest P-frames; one preset per clip)
       branch "ideal": recon = x̂^ideal (eq. 26), buffer F^ideal                        stage 1
       branch "full":  recon = x̂ (receiver, AWGN/Rayleigh), pairs ideal = x̂^ideal, tx = x̂^tx   stages 2–3
    terms: rate = L_rate (eq. 25 in channel uses per source sample); reconstructions carry ω_q in their gradient
    loss  = Σ_b ω_b Σ_{x^rec ∈ R_t} (λ_rec L1 + λ_per LPIPS + λ_adv hinge-GAN) + rate          eq. (27)

Eq. (27) weights the distortion of preset q by ω_q and adds the rate. The engine's generic terms are batch
means without per-clip weights, so the adapter scales the gradient that flows through each clip's
reconstructions by ω_q (:func:`omega_weighted`): the parameters get exactly eq. (27)'s gradient for a batch of
clips with mixed presets. (Dividing the rate by ω_q instead would give each preset the same minimiser on its
own, but not with shared parameters: clips of ω = 0.001 would get 1000× the weight and drive every preset
to zero rate.) Stage options: ``branch`` (ideal | full), ``quantization``
(noise | ste), ``snr_db`` (dB, or ``[lo, hi]``: uniform per step), ``channel`` (awgn | rayleigh), ``csi_nmse_db``, ``rate_set`` (overcomplete |
distilled), ``quality`` (−1: a random preset per clip; ``uniform``: a quality uniform over [0, Q−1] per clip),
``eta``, ``eta_scale`` (a factor on η, or ``[lo, hi]``: log-uniform per step).

Groups: ``analysis`` (F_ext), ``context`` (C_ext), ``entropy`` (H_enc, H_dec, factorized prior, E_s),
``synthesis`` (G), ``quality`` (the preset vectors), ``f_tx``, ``f_rx`` — each over both the intra and
the P-frame codec.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tokcom.errors import InputError
from tokcom.schemes.pvsc.config import LAMBDA_ADV, LAMBDA_PER, LAMBDA_REC, PvscArch, get_arch
from tokcom.schemes.pvsc.model import PvscModel, preset_vector
from tokcom.tokenizers.weights_io import save_weights
from tokcom.train.losses import psnr_db
from tokcom.train.model import StepContext, StepOutput, TrainableModel
from tokcom.train.recipe import Recipe, Stage, TrainableSpec, register_trainable

GROUPS = {"analysis": ("f_ext",), "context": ("c_ext",), "entropy": ("h_enc", "h_dec", "prior", "spatial"),
          "synthesis": ("g",), "f_tx": ("f_tx",), "f_rx": ("f_rx",)}


def omega_weighted(recon: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """eq. (27)'s ω_t on every distortion term of a clip, through the engine's batch-mean losses.

    ``recon`` ``(B, ...)``, ``omega`` ``[B]``: the same values, with the gradient that reaches the model through
    clip b scaled by ω_b. Every distortion term (L1, LPIPS, the generator's hinge term) is a function of the
    reconstruction against a constant target, so its gradient w.r.t. the parameters becomes ω_b times the
    clip's — exactly the gradient of Σ_b (ω_b D_b + R_b) — while the logged values stay unweighted."""
    w = omega.to(recon.dtype).view(-1, *([1] * (recon.dim() - 1)))
    return recon.detach() + (recon - recon.detach()) * w  # value: exactly recon; gradient: ω_b


def training_snr_db(option: Any, generator: torch.Generator | None = None) -> float:
    """The stage option ``snr_db``: one SNR (§IV-A's AWGN 10 dB), or ``[lo, hi]``: a fresh SNR per step, uniform
    in dB over the range (our multi-SNR fine-tune, one model over an SNR sweep; the paper fine-tunes one model per
    condition from the 10 dB one, §IV-A)."""
    if isinstance(option, (list, tuple)):
        if len(option) != 2 or not float(option[0]) <= float(option[1]):
            raise InputError(f"stage option snr_db must be a number or [lo, hi] with lo <= hi; got {option!r}")
        lo, hi = float(option[0]), float(option[1])
        return lo + (hi - lo) * float(torch.rand((), generator=generator))
    try:
        return float(option)
    except (TypeError, ValueError):
        raise InputError(f"stage option snr_db must be a number or [lo, hi]; got {option!r}") from None


def training_qualities(option: Any, num_qualities: int, b: int, generator: torch.Generator | None = None
                       ) -> torch.Tensor:
    """``[B]`` qualities from the stage option ``quality``: a preset index for every clip; −1 (default): a random
    preset per clip (int64; eq. (27)'s ω_t per preset); ``"uniform"``: a quality uniform over [0, Q−1] per clip
    (float32; between two presets the interpolated scaling vectors of :func:`model.preset_vector`) — the
    qualities rate control's ladder uses between the presets (:mod:`tokcom.schemes.pvsc.ratecontrol`)."""
    if option == "uniform":
        return torch.rand((b,), generator=generator) * (num_qualities - 1)
    try:
        q = int(option)
    except (TypeError, ValueError):
        raise InputError(f"stage option quality must be a preset index, -1 or 'uniform'; got {option!r}") from None
    if q < 0:
        return torch.randint(0, num_qualities, (b,), generator=generator)
    if q >= num_qualities:
        raise InputError(f"stage option quality must be < {num_qualities}; got {q}")
    return torch.full((b,), q, dtype=torch.int64)


def clip_omegas(omegas: tuple[float, ...], quality: torch.Tensor) -> torch.Tensor:
    """``[B]`` ω of eq. (27) per clip: a preset's own; between presets i and i+1 (l = q − i) the geometric
    interpolation ω_i^(1−l) · ω_{i+1}^l, the rule the scaling vectors interpolate by (:func:`model.preset_vector`)."""
    w = torch.tensor(omegas, dtype=torch.float32)[:, None]  # ω > 0: preset_vector's geometric branch
    return preset_vector(w, quality.detach().cpu()).reshape(-1)


def training_eta_scale(option: Any, generator: torch.Generator | None = None) -> float:
    """The stage option ``eta_scale``: a factor on η of eq. (14) (default 1), or ``[lo, hi]``: a fresh factor per
    step, log-uniform over the range (0 < lo <= hi) — rate control lowers η below the knee preset, so a model
    fine-tuned over the factors it will be asked for."""
    if isinstance(option, (list, tuple)):
        try:
            lo, hi = (float(v) for v in option)
        except (TypeError, ValueError):
            lo = hi = float("nan")
        if not (0 < lo <= hi and math.isfinite(hi)):
            raise InputError(f"stage option eta_scale must be a number or [lo, hi] with 0 < lo <= hi; got {option!r}")
        lo, hi = math.log(lo), math.log(hi)
        return math.exp(lo + (hi - lo) * float(torch.rand((), generator=generator)))
    try:
        v = float(option)
    except (TypeError, ValueError):
        v = float("nan")
    if not v > 0 or not math.isfinite(v):
        raise InputError(f"stage option eta_scale must be a positive number or [lo, hi]; got {option!r}")
    return v


def eta_range_top(option: Any) -> float:
    """The largest factor on η a (valid) stage option ``eta_scale`` draws: the number, or ``hi`` of ``[lo, hi]``."""
    return float(option[1]) if isinstance(option, (list, tuple)) else float(option)


def rung_step_options(fraction: Any, quality: Any, eta_scale: Any, generator: torch.Generator | None = None
                      ) -> tuple[Any, Any]:
    """The step's ``(quality, eta_scale)`` options: with probability ``preset_fraction`` (the stage option, in
    [0, 1]; default 0) the presets at η (quality −1: a random preset per clip, factor 1) — what rate control sends
    from CBR ≈ 0.01 up — otherwise the stage's own ``quality`` / ``eta_scale`` (e.g. the rungs between presets at a
    lowered η). One draw per step, so a batch shares its η (eq. (14)'s η is one number per forward pass)."""
    try:
        p = float(fraction)
    except (TypeError, ValueError):
        p = float("nan")
    if not 0.0 <= p <= 1.0:
        raise InputError(f"stage option preset_fraction must be a number in [0, 1]; got {fraction!r}")
    if p > 0.0 and float(torch.rand((), generator=generator)) < p:
        return -1, 1.0
    return quality, eta_scale


class PvscTrainable(TrainableModel):
    """The adapter: a :class:`PvscModel` with the overcomplete rate heads (§III-D stage 2).

    Args:
        name: ``pvsc-paper`` or ``pvsc-small``: the export's file name, which the scheme's ``model=paper`` /
            ``model=small`` loads.
        arch: the architecture name; further keyword options override its fields (``--arch c_y=96``).
    """

    find_unused_parameters = True  # stage 1 never runs F_tx / F_rx

    def __init__(self, name: str, arch: str | PvscArch, **overrides: Any) -> None:
        super().__init__()
        self.name = name
        self.arch = get_arch(arch, **overrides)
        self.model = PvscModel(self.arch, self.arch.overcomplete)
        self.eta_top = self.arch.eta_top  # the largest factor on η a step of this run has drawn from (export's arch)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        groups: dict[str, list[nn.Parameter]] = {g: [] for g in (*GROUPS, "quality")}
        for codec in (self.model.intra, self.model.inter):
            for g, mods in GROUPS.items():
                for m in mods:
                    mod = getattr(codec, m)
                    if mod is not None:
                        groups[g].extend(mod.parameters())
            groups["quality"].extend(p for n, p in codec.named_parameters(recurse=False))
        return groups

    def training_step(self, batch: torch.Tensor, ctx: StepContext) -> StepOutput:
        arch = self.arch
        b = batch.shape[0]
        quality_option, eta_option = rung_step_options(ctx.option("preset_fraction", 0.0), ctx.option("quality", -1),
                                                       ctx.option("eta_scale", 1.0), ctx.generator)
        quality = training_qualities(quality_option, arch.num_qualities, b, ctx.generator)
        branch = str(ctx.option("branch", "full"))
        if branch not in ("ideal", "full"):
            raise InputError(f"stage option branch must be ideal or full; got {branch!r}")
        rate_set = str(ctx.option("rate_set", "distilled"))
        if rate_set not in ("distilled", "overcomplete"):
            raise InputError(f"stage option rate_set must be distilled or overcomplete; got {rate_set!r}")
        rates = arch.overcomplete if rate_set == "overcomplete" else arch.rates
        nmse = ctx.option("csi_nmse_db", None)
        snr_db = training_snr_db(ctx.option("snr_db", 10.0), ctx.generator)
        eta_scale = training_eta_scale(eta_option, ctx.generator)
        self.eta_top = max(self.eta_top, eta_range_top(eta_option))
        out = self.model.train_clip(
            batch, quality, mode=str(ctx.option("quantization", "ste")), branch=branch,
            snr_db=snr_db, channel=str(ctx.option("channel", "awgn")),
            csi_nmse_db=float(nmse) if nmse is not None else None, rates=rates,
            eta=float(ctx.option("eta", arch.eta)) * eta_scale, generator=ctx.generator)
        omega = clip_omegas(arch.omegas, quality).to(batch.device)
        terms = {"rate": out["rate"].mean()}  # eq. (27): + L_rate(t), unweighted
        logs = {"cbr": float(out["rate"].detach().mean()), "bits_z": float(out["bits_z"].mean()),
                "bits_k": float(out["bits_k"].mean()), "k_mean": float(out["k_mean"].mean()),
                "psnr_ideal": psnr_db(out["ideal"], batch), "eta_scale": eta_scale,
                "quality": float(quality.to(torch.float32).mean())}
        if branch == "ideal":
            return StepOutput(recon=omega_weighted(out["ideal"], omega), target=batch, terms=terms, logs=logs)
        logs.update(psnr_tx=psnr_db(out["tx"], batch), psnr_rx=psnr_db(out["rx"], batch), snr_db=snr_db)
        return StepOutput(recon=omega_weighted(out["rx"], omega), target=batch,
                          pairs={"ideal": (omega_weighted(out["ideal"], omega), batch),
                                 "tx": (omega_weighted(out["tx"], omega), batch)},
                          terms=terms, logs=logs)

    def describe(self) -> dict[str, Any]:
        return {"arch": self.arch.to_dict(), "paper": "002_165f6aebfafa3581.txt",
                "params_distilled": int(sum(v.numel() for v in self.model.distilled_state().values())),
                "params_training": int(sum(p.numel() for p in self.model.parameters()))}

    def weights(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_weights(self, state: dict[str, torch.Tensor], source: str = "") -> None:
        """A checkpoint (every head) or an export (the distilled heads only: the other heads keep their
        initialisation). Weights of another symbol-coder width (``--arch d_model=…``: only F_tx / F_rx differ
        in shape) load everything else, and F_tx / F_rx start fresh (a note says so); anything else that does
        not fit is an error."""
        state = {k.removeprefix("model."): v for k, v in state.items()}
        own = self.model.state_dict()
        differ = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
        coder_fresh = bool(differ) and all(_coder_key(k) for k in differ)
        if coder_fresh:
            state = {k: v for k, v in state.items() if not _coder_key(k)}
            print(f"{source or 'weights'}: F_tx / F_rx have another shape here ({differ[0]}): they start fresh",
                  flush=True)
        elif differ:
            raise InputError(f"{source or 'weights'}: do not fit {self.name} ({self.arch.name}): shapes differ at "
                             f"{differ[:4]}")
        res = self.model.load_state_dict(state, strict=False)
        missing = [k for k in res.missing_keys if ".heads." not in k and not (coder_fresh and _coder_key(k))]
        if missing or res.unexpected_keys:
            bad = (missing + list(res.unexpected_keys))[:4]
            raise InputError(f"{source or 'weights'}: do not fit {self.name} ({self.arch.name}): {bad}")

    def export(self, directory: Path, record: dict[str, Any]) -> Path:
        """``<name>.safetensors`` (fp16; rate-set distillation: only the distilled set's heads) + ``.json``
        (arch, sha256, training record) — what ``--set weights=...`` and the shipped file load."""
        arch = replace(self.arch, eta_top=self.eta_top)  # what the symbol coder was trained for (rate control's top)
        meta = {"name": self.name, "arch": arch.to_dict(), "paper": "002_165f6aebfafa3581.txt",
                "training": record}
        return save_weights(self.name, self.model.distilled_state(), meta, directory)


def _coder_key(key: str) -> bool:
    """A state-dict key of the symbol coder F_tx / F_rx (``intra.f_tx.…``, ``inter.f_rx.…``)."""
    parts = key.split(".")
    return len(parts) > 1 and parts[1] in ("f_tx", "f_rx")


# --------------------------------------------------------------------------------------------- recipes
def _losses(perc: str, branch: str, gan: bool, pairs: tuple[str, ...] = ("", "ideal", "tx"),
            main_perc: str | None = None) -> dict[str, float]:
    """Eq. (27)'s weights over the reconstructions of a branch (the main pair is x̂ or x̂^ideal); ``main_perc``:
    another perceptual network on the main pair only."""
    out: dict[str, float] = {"rate": 1.0}
    names = ("",) if branch == "ideal" else pairs
    for p in names:
        pre = f"{p}." if p else ""
        out[f"{pre}l1"] = LAMBDA_REC
        out[f"{pre}{main_perc if main_perc and not p else perc}"] = LAMBDA_PER
        if gan:
            out[f"{pre}gan"] = LAMBDA_ADV
    return out


def _recipe(name: str, perc: str, steps: tuple[int, int, int, int, int], lr: float, lr_fine: float,
            frames: tuple[int, int, int, int, int], description: str, **geometry: int) -> Recipe:
    s1, s2, s3, s4, s5 = steps
    f1, f2, f3, f4, f5 = frames
    ideal = {"branch": "ideal"}
    full = {"branch": "full", "quantization": "ste", "snr_db": 10.0, "channel": "awgn"}
    warm = max(1, min(1000, s1 // 20))
    return Recipe(name, (
        # stage 1 (§III-D): only the ideal decoding branch; F_tx / F_rx frozen; noise, then STE + GAN
        Stage("ideal-noise", s1, lr=lr, warmup=warm, frames=f1, freeze=("f_tx", "f_rx"),
              losses=_losses(perc, "ideal", False), options={**ideal, "quantization": "noise"}, **geometry),
        Stage("ideal-ste-gan", s2, lr=lr, warmup=0, frames=f2, freeze=("f_tx", "f_rx"), gan=True,
              gan_start=min(200, s2 // 10), losses=_losses(perc, "ideal", True),
              options={**ideal, "quantization": "ste"}, **geometry),
        # stage 2: the ideal branch fixed, F_tx / F_rx over AWGN 10 dB with the overcomplete rate set
        Stage("channel", s3, lr=lr, warmup=max(1, min(warm, s3 // 20)), frames=f3, train=("f_tx", "f_rx"),
              losses=_losses(perc, "full", False, ("", "tx")), options={**full, "rate_set": "overcomplete"},
              reset_optimizer=True, **geometry),
        # stage 3: everything at a lower lr, then rate-set distillation (the distilled set only)
        Stage("joint", s4, lr=lr_fine, warmup=0, frames=f4, gan=True, losses=_losses(perc, "full", True),
              options={**full, "rate_set": "overcomplete"}, **geometry),
        Stage("distill", s5, lr=lr_fine, warmup=0, frames=f5, gan=True, losses=_losses(perc, "full", True),
              options={**full, "rate_set": "distilled"}, **geometry),
    ), description=description, betas=(0.9, 0.999))


# §IV-A: Adam (0.9, 0.999), lr 1e-4 then 1e-5 for the end-to-end fine-tune, batch 8, 256² crops, GOP curriculum
# to 7, LPIPS-VGG, AWGN 10 dB. The step counts are ours (the paper gives none).
PAPER_RECIPE = _recipe("paper", "lpips_vgg", (200_000, 200_000, 150_000, 100_000, 50_000), 1e-4, 1e-5,
                       (2, 3, 5, 7, 7), "§III-D three stages (ideal noise → STE+GAN → channel-aware coding with "
                       "the overcomplete rate set → joint fine-tune at 1e-5 → rate-set distillation), GOP 2→7")
# CPU-sized: 128² crops, batch 4, GOP 2→5, LPIPS-alex (a 10× cheaper network than VGG on CPU), higher lr; a long
# noise stage (the shipped model's: its PSNR_ideal had flattened by then) and a short adversarial one (it cost
# PSNR without lowering LPIPS-alex in the first run)
SMALL_RECIPE = _recipe("default", "lpips_alex", (7000, 1000, 1200, 300, 200), 5e-4, 5e-5, (2, 3, 4, 5, 5),
                       "the paper's stages on a CPU budget: 128² crops, GOP 2→5, LPIPS-alex, lr 5e-4 / 5e-5")


def _multisnr_options(snr_db: tuple[float, float]) -> dict:
    """Stage options of the multi-SNR fine-tunes: the full branch over AWGN at an SNR drawn per step from
    ``snr_db`` (uniform in dB), STE quantisation, the distilled rate set (an export has only its heads)."""
    return {"branch": "full", "quantization": "ste", "channel": "awgn", "rate_set": "distilled",
            "snr_db": list(snr_db)}


RUNG_OPTIONS = {"quality": "uniform", "eta_scale": [0.125, 1.0]}
"""Stage options that train over the operating points rate control picks from (its ``eta`` ladder): a quality
uniform over [0, Q−1] per clip (the interpolated presets) and η × a factor log-uniform in [1/8, 1] per step (the
knee's and the low rungs' lowered η). The paper trains each preset at one η; its rate control uses only those."""
RUNG_OPTIONS_WIDE = {"quality": "uniform", "eta_scale": [0.125, 2.5]}
""":data:`RUNG_OPTIONS` with η up to 2.5 × the model's: more symbols per unit than η gives, the ladder's rungs above
the top preset (``ratecontrol.TOP_ETA_SCALES``). At the top preset the symbol coder, not the source codec, is
where the session-15 model lost most (validation clip cockatoo, 256², 24 frames, 6 dB, q4: x̂^ideal 28.35 dB /
LPIPS-vgg 0.319, x̂^tx 25.24 / 0.414, x̂ 24.42 / 0.437; ``benchmarks/bench_pvsc_ceiling.py``), and a model
trained at η only gets worse with more."""


def _rung_options(snr_db: tuple[float, float], rungs: dict | None, preset_fraction: float) -> dict:
    """The multi-SNR stage options, over rate control's operating points too when ``rungs`` is given (the presets at
    η on a ``preset_fraction`` of the steps, :func:`rung_step_options`)."""
    options = {**_multisnr_options(snr_db), **(rungs or {})}
    if rungs and preset_fraction:
        options["preset_fraction"] = preset_fraction
    return options


def _channel_multisnr_stage(perc: str, steps: int, lr: float, frames: int, snr_db: tuple[float, float],
                            name: str = "channel-multisnr", rungs: dict | None = None, preset_fraction: float = 0.0,
                            **geometry: int) -> Stage:
    """§III-D's stage 2 over the multi-SNR channel: F_tx / F_rx alone (fresh Adam, short warm-up) on the x̂ and x̂^tx
    pairs and the rate term, no adversarial term; ``rungs`` / ``preset_fraction`` as :func:`_rung_options`."""
    return Stage(name, steps, lr=lr, warmup=max(1, min(50, steps // 20)), frames=frames, train=("f_tx", "f_rx"),
                 losses=_losses(perc, "full", False, ("", "tx")),
                 options=_rung_options(snr_db, rungs, preset_fraction), reset_optimizer=True, **geometry)


def _joint_multisnr_stage(perc: str, steps: int, lr: float, frames: int, snr_db: tuple[float, float],
                          warmup: int = 0, reset_optimizer: bool = False, main_perc: str | None = None,
                          name: str = "joint-multisnr", rungs: dict | None = None, preset_fraction: float = 0.0,
                          **geometry: int) -> Stage:
    """Everything trained over the multi-SNR channel, the three reconstructions, no adversarial term; ``rungs``:
    the stage options that train over rate control's operating points too (:data:`RUNG_OPTIONS` or
    :data:`RUNG_OPTIONS_WIDE`), the presets at η on a ``preset_fraction`` of the steps (:func:`rung_step_options`)."""
    return Stage(name, steps, lr=lr, warmup=warmup, frames=frames,
                 losses=_losses(perc, "full", False, main_perc=main_perc),
                 options=_rung_options(snr_db, rungs, preset_fraction),
                 reset_optimizer=reset_optimizer, **geometry)


def _multisnr_recipe(name: str, perc: str, steps: tuple[int, int], lr: float, lr_fine: float,
                     frames: tuple[int, int], snr_db: tuple[float, float], **geometry: int) -> Recipe:
    """A fine-tune of an exported model (``--init-from``) over a range of AWGN SNRs, one drawn per step:
    F_tx / F_rx first, then everything at a lower lr, without the adversarial term (a fresh discriminator
    would need its own warm-up), on the distilled rate set (an export has only its heads)."""
    return Recipe(name, (
        _channel_multisnr_stage(perc, steps[0], lr, frames[0], snr_db, **geometry),
        _joint_multisnr_stage(perc, steps[1], lr_fine, frames[1], snr_db, **geometry),
    ), description=f"fine-tune over AWGN SNR uniform in [{snr_db[0]:g}, {snr_db[1]:g}] dB per step: F_tx/F_rx, "
                   "then everything at a lower lr (no GAN; distilled rate set) — the shipped pvsc-small's last step",
        betas=(0.9, 0.999))


def _channel_rungs_recipe(name: str, perc: str, steps: int, lr: float, frames: int, snr_db: tuple[float, float],
                          **geometry: int) -> Recipe:
    """The symbol coder alone (F_tx / F_rx; the source codec and its entropy model frozen) over a range of AWGN
    SNRs and over rate control's operating points — half the steps the presets at η, half the rungs
    (:data:`RUNG_OPTIONS`): stage 2 of §III-D again, for an exported model whose coder had seen the rungs only
    through the joint stages."""
    return Recipe(name, (
        _channel_multisnr_stage(perc, steps, lr, frames, snr_db, name="channel-multisnr-rungs", rungs=RUNG_OPTIONS,
                                preset_fraction=0.5, **geometry),
    ), description=f"the symbol coder F_tx/F_rx alone over AWGN SNR uniform in [{snr_db[0]:g}, {snr_db[1]:g}] dB, "
                   "half the steps the presets at η, half rate control's rungs (qualities uniform in [0, Q−1], "
                   "η × [0.125, 1]); from an export, distilled rate set, no GAN", betas=(0.9, 0.999))


def _multisnr_joint_recipe(name: str, perc: str, steps: int, lr: float, frames: int,
                           snr_db: tuple[float, float], main_perc: str | None = None, **geometry: int) -> Recipe:
    """A further joint stage from a multi-SNR export (``--init-from``): everything, a fresh optimizer with a short
    warm-up, the same SNR range, no adversarial term; ``main_perc``: the main pair's perceptual network."""
    stage = "joint-multisnr" + ("" if main_perc is None else "-" + main_perc.split("_")[-1])
    on_main = "" if main_perc is None else f", {main_perc.replace('_', '-').upper()} on x̂"
    return Recipe(name, (_joint_multisnr_stage(perc, steps, lr, frames, snr_db, warmup=50, reset_optimizer=True,
                                               main_perc=main_perc, name=stage, **geometry),),
                  description=f"a further joint fine-tune over AWGN SNR uniform in [{snr_db[0]:g}, {snr_db[1]:g}] dB "
                              f"from a multi-SNR export (no GAN; distilled rate set{on_main})", betas=(0.9, 0.999))


def _multisnr_joint_gan_recipe(name: str, perc: str, steps: int, lr: float, frames: int,
                               snr_db: tuple[float, float], main_perc: str, disc_warmup: int,
                               rungs: dict | None = None, preset_fraction: float = 0.0, **geometry: int) -> Recipe:
    """:func:`_multisnr_joint_recipe` with eq. (27)'s hinge adversarial term (λ_adv) on x̂, the reconstruction
    the receiver shows. An export has no discriminator, so for the first ``disc_warmup`` steps a fresh one learns
    while the generator trains without its term (the ``gan`` stage flag trains it; no ``gan`` weight reaches the
    generator, like VQGAN's ``disc_start``), then the generator gets the term. Under ``--budget anneal`` both
    stages shrink in proportion. ``rungs``: the stage options that train over rate control's operating points
    too (:data:`RUNG_OPTIONS`, :data:`RUNG_OPTIONS_WIDE`), with the presets at η on a ``preset_fraction`` of the
    steps."""
    base = _joint_multisnr_stage(perc, disc_warmup, lr, frames, snr_db, warmup=50, reset_optimizer=True,
                                 main_perc=main_perc, name="joint-multisnr-disc-warmup", rungs=rungs,
                                 preset_fraction=preset_fraction, **geometry)
    warm = replace(base, gan=True, schedule="constant")
    adv = replace(base, name="joint-multisnr-gan", steps=steps - disc_warmup, warmup=0, reset_optimizer=False,
                  gan=True, losses={**base.loss_weights, "gan": LAMBDA_ADV})
    over = (f", over qualities uniform in [0, Q−1] and η × [{rungs['eta_scale'][0]:g}, "
            f"{rungs['eta_scale'][1]:g}] (rate control's rungs)") if rungs else ""
    if rungs and preset_fraction:
        over += f", the presets at η on {preset_fraction:.0%} of the steps"
    return Recipe(name, (warm, adv), description=f"a further joint fine-tune over AWGN SNR uniform in "
                  f"[{snr_db[0]:g}, {snr_db[1]:g}] dB{over} from a multi-SNR export, "
                  f"{main_perc.replace('_', '-').upper()} "
                  f"and the hinge adversarial term on x̂ (a fresh discriminator learns for the first {disc_warmup} "
                  f"steps before the generator sees its term; distilled rate set)", betas=(0.9, 0.999),
                  disc_lr_ratio=2.0)


# the shipped pvsc-small = the small recipe's 10-dB model (session 7) + `multisnr` (session 8, --init-from its
# export) + `multisnr-joint` (session 9, --init-from that export, --max-minutes 95: 2725 of the 3000 steps)
# + `multisnr-joint-vgg` (session 10, --init-from that export, --max-minutes 90: 654 of the 3000 steps)
# + `multisnr-joint-gan` (session 11, --init-from that export, --max-minutes 85: 523 of the 3000 steps)
MULTISNR_SMALL = _multisnr_recipe("multisnr", "lpips_alex", (1500, 1000), 2e-4, 5e-5, (4, 5), (-4.0, 14.0))
MULTISNR_PAPER = _multisnr_recipe("multisnr", "lpips_vgg", (50_000, 50_000), 1e-4, 1e-5, (7, 7), (-4.0, 14.0))
MULTISNR_JOINT_SMALL = _multisnr_joint_recipe("multisnr-joint", "lpips_alex", 3000, 5e-5, 5, (-4.0, 14.0))
MULTISNR_JOINT_PAPER = _multisnr_joint_recipe("multisnr-joint", "lpips_vgg", 50_000, 1e-5, 7, (-4.0, 14.0))
# session 10: the same stage with the paper's (and the evaluation's) LPIPS-VGG on the main pair x̂ — LPIPS-alex on
# the ideal and tx pairs keeps a CPU step at ~7 s (VGG on all three: ~17 s); shipped after 654 of 3000 steps
MULTISNR_JOINT_VGG_SMALL = _multisnr_joint_recipe("multisnr-joint-vgg", "lpips_alex", 3000, 5e-5, 5, (-4.0, 14.0),
                                                  main_perc="lpips_vgg")

# session 11: the same with the adversarial term the multi-SNR fine-tunes had left out (λ_adv 0.1 on x̂ only: D on
# one reconstruction keeps a CPU step near the VGG recipe's); a tenth of the steps warm the discriminator up
MULTISNR_JOINT_GAN_SMALL = _multisnr_joint_gan_recipe("multisnr-joint-gan", "lpips_alex", 3000, 5e-5, 5, (-4.0, 14.0),
                                                      main_perc="lpips_vgg", disc_warmup=300)
MULTISNR_JOINT_GAN_PAPER = _multisnr_joint_gan_recipe("multisnr-joint-gan", "lpips_vgg", 50_000, 1e-5, 7,
                                                      (-4.0, 14.0), main_perc="lpips_vgg", disc_warmup=5000)
# session 12: the GAN fine-tune over rate control's operating points (interpolated qualities, lowered η): the
# rungs it picks at low CBR were never trained, and on the validation clips some were worse than cheaper ones
MULTISNR_RUNGS_SMALL = _multisnr_joint_gan_recipe("multisnr-rungs", "lpips_alex", 3000, 5e-5, 5, (-4.0, 14.0),
                                                  main_perc="lpips_vgg", disc_warmup=300, rungs=RUNG_OPTIONS)
MULTISNR_RUNGS_PAPER = _multisnr_joint_gan_recipe("multisnr-rungs", "lpips_vgg", 50_000, 1e-5, 7, (-4.0, 14.0),
                                                  main_perc="lpips_vgg", disc_warmup=5000, rungs=RUNG_OPTIONS)
# session 13: half the steps on the presets at η, the rest over the rungs — the rungs-only run (session 12) improved
# every low rung on the validation clips but lost up to 0.02 LPIPS-vgg at CBR 0.01 / 0.02 (the presets at η)
MULTISNR_RUNGS_MIX_SMALL = _multisnr_joint_gan_recipe("multisnr-rungs-mix", "lpips_alex", 3000, 5e-5, 5, (-4.0, 14.0),
                                                      main_perc="lpips_vgg", disc_warmup=300, rungs=RUNG_OPTIONS,
                                                      preset_fraction=0.5)
MULTISNR_RUNGS_MIX_PAPER = _multisnr_joint_gan_recipe("multisnr-rungs-mix", "lpips_vgg", 50_000, 1e-5, 7, (-4.0, 14.0),
                                                      main_perc="lpips_vgg", disc_warmup=5000, rungs=RUNG_OPTIONS,
                                                      preset_fraction=0.5)
# session 16: the mix with η up to 2.5 × on the rung steps, so that the symbol coder learns to use more symbols per
# unit than η gives: the top preset's budget beyond q4 at η bought nothing (docs/pvsc.md, "Above q4")
MULTISNR_RUNGS_WIDE_SMALL = _multisnr_joint_gan_recipe("multisnr-rungs-wide", "lpips_alex", 3000, 5e-5, 5,
                                                       (-4.0, 14.0), main_perc="lpips_vgg", disc_warmup=300,
                                                       rungs=RUNG_OPTIONS_WIDE, preset_fraction=0.5)
MULTISNR_RUNGS_WIDE_PAPER = _multisnr_joint_gan_recipe("multisnr-rungs-wide", "lpips_vgg", 50_000, 1e-5, 7,
                                                       (-4.0, 14.0), main_perc="lpips_vgg", disc_warmup=5000,
                                                       rungs=RUNG_OPTIONS_WIDE, preset_fraction=0.5)

# session 17: the symbol coder alone over the rungs (the shipped model's F_tx / F_rx had trained on them only in the
# joint stages); run with --max-minutes 80 from the session-15 export (3228 of 6000 steps)
MULTISNR_CHANNEL_RUNGS_SMALL = _channel_rungs_recipe("multisnr-channel-rungs", "lpips_alex", 6000, 1e-4, 4,
                                                     (-4.0, 14.0))
MULTISNR_CHANNEL_RUNGS_PAPER = _channel_rungs_recipe("multisnr-channel-rungs", "lpips_vgg", 50_000, 1e-4, 7,
                                                     (-4.0, 14.0))

register_trainable(TrainableSpec("pvsc-paper", lambda opts: PvscTrainable("pvsc-paper", "paper", **opts),
                                 {"default": PAPER_RECIPE, "paper": PAPER_RECIPE, "multisnr": MULTISNR_PAPER,
                                  "multisnr-joint": MULTISNR_JOINT_PAPER, "multisnr-joint-gan": MULTISNR_JOINT_GAN_PAPER,
                                  "multisnr-rungs": MULTISNR_RUNGS_PAPER,
                                  "multisnr-rungs-mix": MULTISNR_RUNGS_MIX_PAPER,
                                  "multisnr-rungs-wide": MULTISNR_RUNGS_WIDE_PAPER,
                                  "multisnr-channel-rungs": MULTISNR_CHANNEL_RUNGS_PAPER},
                                 frames=7, crop=256, batch=8,
                                 description="PVSC (002) paper architecture, C_y = C_z = 128: the three-stage "
                                             "recipe of §III-D"))
register_trainable(TrainableSpec("pvsc-small", lambda opts: PvscTrainable("pvsc-small", "small", **opts),
                                 {"default": SMALL_RECIPE, "paper": PAPER_RECIPE, "multisnr": MULTISNR_SMALL,
                                  "multisnr-joint": MULTISNR_JOINT_SMALL, "multisnr-joint-vgg": MULTISNR_JOINT_VGG_SMALL,
                                  "multisnr-joint-gan": MULTISNR_JOINT_GAN_SMALL, "multisnr-rungs": MULTISNR_RUNGS_SMALL,
                                  "multisnr-rungs-mix": MULTISNR_RUNGS_MIX_SMALL,
                                  "multisnr-rungs-wide": MULTISNR_RUNGS_WIDE_SMALL,
                                  "multisnr-channel-rungs": MULTISNR_CHANNEL_RUNGS_SMALL},
                                 frames=5, crop=128, batch=4,
                                 description="PVSC (002) small architecture (~2 M parameters): the §III-D "
                                             "stages sized for a CPU"))
