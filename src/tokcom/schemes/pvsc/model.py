"""The PVSC codec, equation by equation (002_165f6aebfafa3581.txt §II-B, §III): the P-frame codec (temporal
contexts from the reference buffer) and the intra codec of the same family without temporal context (the
paper's I-frame model [24] has no public code; this is the substitute, see docs/pvsc.md).

Per P-frame t, with the buffer (F_{t−1}, C_{s,t−1}) of one end::

    (C_e, C_f) = C_ext(F_{t−1})                                   eqs. (6), (17)
    y = F_ext(x_t | C_f) ⊙ q_enc                                   eq. (7)
    z = H_enc(y);  b_z = AE(Q(z));  ẑ = AD(b_z)                    eqs. (8), (9)
    (w, μ0, σ0) = H_dec(ẑ, C_e)                                    eqs. (10), (18)
    anchors: ȳ0 = Q(y/w − μ0);  (μ1, σ1) = E_s(μ0, σ0, ȳ0 + μ0);  ȳ1 = Q(y/w − μ1)      eqs. (11), (12)
    P(ȳ) = (N(0, σ²) * U(−½, ½))(ȳ)                                eq. (13)
    k = RM(η Σ_c −log2 P(ȳ^(i,j,c))),  l = ⌈k/2⌉ complex symbols per unit; k → b_k      eq. (14)
    s = F_tx(ȳ, k | C_{s,t−1})   (power-normalised per frame)     eq. (15)
  receiver (ŝ) and transmitter buffer update (s, ideal channel) run the same function:
    (ȳ', C_s) = F_rx(ŝ, k | C_{s,t−1})                             eqs. (16), (22)
    (μ1', ·) = E_s(μ0, σ0, ȳ'_0 + μ0);  ỹ = w ⊙ (ȳ' + μ')          eqs. (19), (20), (23), (24)
    (x̂, F_t) = G(ỹ ⊙ q_dec | C_f)                                  eq. (21)
  training only: x̂^ideal = G(w ⊙ (ȳ + μ) | C_f^tx)                 eq. (26)

The preset vectors (q_enc, q_dec, q_feat, q_ctx_*; Fig. 3's q_ext^c, q_ext^f, q_G^i) are indexed by the
quality preset; a quality between two presets interpolates them (:func:`preset_vector`); η scales eq. (14).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom.entropy import CheckerboardGaussian, FactorizedPrior, anchor_mask, lower_bound
from tokcom.schemes.pvsc.bitstream import rate_map_bits
from tokcom.schemes.pvsc.config import PAD_MULTIPLE, Z_LIMIT, PvscArch, symbols_for
from tokcom.schemes.pvsc.nets import (
    ContextExtractor,
    FeatureExtractor,
    Generator,
    HyperDecoder,
    HyperEncoder,
    SymbolDecoder,
    SymbolEncoder,
    rate_key,
)

MODES = ("noise", "ste", "round")


def pad_frames(x: torch.Tensor, multiple: int = PAD_MULTIPLE) -> torch.Tensor:
    """``[..., H, W]`` replicate-padded on the bottom/right to multiples of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return x
    lead = x.shape[:-3]
    x4 = x.reshape(-1, *x.shape[-3:])
    return F.pad(x4, (0, pw, 0, ph), mode="replicate").reshape(*lead, x.shape[-3], h + ph, w + pw)


def snap_rates(ktilde: torch.Tensor, rates: tuple[int, ...]) -> torch.Tensor:
    """Rate matching (eq. 14, "RM" of Fig. 2): the index of the nearest value of ``rates`` per unit
    (``[*]`` float → ``[*]`` int64; ties go to the smaller rate; NaN → 0)."""
    r = torch.tensor(rates, dtype=ktilde.dtype, device=ktilde.device)
    k = torch.nan_to_num(ktilde.detach(), nan=0.0, posinf=float(rates[-1]), neginf=0.0).clamp(0, rates[-1])
    return torch.argmin((k[..., None] - r).abs(), dim=-1)


def symbol_lengths(kidx: torch.Tensor, rates: tuple[int, ...]) -> torch.Tensor:
    """``l = ⌈k/2⌉`` complex symbols per unit for rate indices ``kidx`` (int64, same shape)."""
    lut = torch.tensor([symbols_for(k) for k in rates], dtype=torch.int64, device=kidx.device)
    return lut[kidx]


def dims_mask(kidx: torch.Tensor, rates: tuple[int, ...]) -> torch.Tensor:
    """``[*, 2·l_max]`` float mask of the real dimensions a unit uses (its first ``2⌈k/2⌉``)."""
    lmax = max(symbols_for(k) for k in rates)
    n = 2 * symbol_lengths(kidx, rates)
    return (torch.arange(2 * lmax, device=kidx.device) < n[..., None]).to(torch.float32)


def power_normalise(real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Scale each frame's symbols to mean power 1 per complex channel use (eq. 2 with P = 1).

    ``real``/``mask``: ``[B, h, w, 2·l_max]``; a frame without symbols stays zero."""
    real = real * mask
    dims = mask.sum(dim=(1, 2, 3))
    power = real.pow(2).sum(dim=(1, 2, 3)) / (dims / 2).clamp_min(1.0)
    scale = torch.where(dims > 0, torch.rsqrt(power.clamp_min(1e-12)), torch.zeros_like(power))
    return real * scale.view(-1, 1, 1, 1)


def preset_vector(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """The channel-wise scaling vectors of qualities ``q`` ``[B]`` from the presets' ``p`` ``[Q, C]``, as
    ``[B, C, 1, 1]``.

    Integer ``q``: the preset's row (training, and every preset at inference). Floating ``q`` between presets
    i and i+1, l = q − i: the exponential interpolation of gain vectors for continuous rate adaptation,
    v = v_i^(1−l) · v_{i+1}^l (Cui et al., "Asymmetric Gained Deep Image Compression With Continuous Rate
    Adaptation", CVPR 2021; ours, the paper names only its presets) — per channel, with the sign kept;
    channels whose sign differs between the two presets interpolate linearly."""
    if not torch.is_floating_point(q):
        return p[q][:, :, None, None]
    i = q.floor().clamp(0, p.shape[0] - 2).to(torch.int64)
    lam = (q - i.to(q.dtype)).clamp(0.0, 1.0).to(p.dtype)[:, None]
    a, b = p[i], p[i + 1]
    tiny = torch.finfo(p.dtype).tiny
    geo = torch.sign(a) * a.abs().clamp_min(tiny).pow(1 - lam) * b.abs().clamp_min(tiny).pow(lam)
    return torch.where(a * b > 0, geo, a + (b - a) * lam)[:, :, None, None]


def quality_tensor(q: float, device: torch.device | str) -> torch.Tensor:
    """``[1]`` quality for :func:`preset_vector`: int64 for a preset (exactly its row), float32 between two."""
    q = float(q)
    if q.is_integer():
        return torch.tensor([int(q)], device=device)
    return torch.tensor([q], dtype=torch.float32, device=device)


@dataclass
class Reference:
    """One end's reference buffer: F_{t−1} ``[B, width, H/8, W/8]`` and C_{s,t−1} ``[B, H/16, W/16, d]``."""

    feat: torch.Tensor
    state: torch.Tensor | None

    def finite(self) -> bool:
        """No NaN/inf in the buffer (a hostile side PDU can drive the networks out of range)."""
        return bool(torch.isfinite(self.feat).all()) and (self.state is None or bool(torch.isfinite(self.state).all()))


class PvscCodec(nn.Module):
    """One PVSC frame codec: ``temporal=True`` is the P-frame codec, ``False`` the intra codec.

    Args:
        arch: the architecture.
        temporal: condition on the reference buffer (context extractor, contextual ViT blocks).
        heads: the rates that get rate embeddings and FC layers (the distilled set, or the overcomplete
            set while training stage 2).
    """

    def __init__(self, arch: PvscArch, temporal: bool, heads: tuple[int, ...]) -> None:
        super().__init__()
        self.arch, self.temporal = arch, temporal
        self.c_ext = ContextExtractor(arch) if temporal else None
        self.f_ext = FeatureExtractor(arch, temporal)
        self.h_enc = HyperEncoder(arch)
        self.h_dec = HyperDecoder(arch, temporal)
        self.prior = FactorizedPrior(arch.c_z)
        self.spatial = CheckerboardGaussian(arch.c_y, arch.cb_hidden)
        self.f_tx = SymbolEncoder(arch, temporal, heads)
        self.f_rx = SymbolDecoder(arch, temporal, heads)
        self.g = Generator(arch, temporal)
        nq = arch.num_qualities
        s = 2.0 ** (arch.quality_spread * (torch.arange(nq, dtype=torch.float32) - (nq - 1) / 2))
        self.q_enc = nn.Parameter(s[:, None].repeat(1, arch.c_y))  # F_ext's output scale per preset
        self.q_dec = nn.Parameter((1 / s)[:, None].repeat(1, arch.c_y))  # q_G^0: G's input scale
        self.q_feat = nn.Parameter(torch.ones(nq, arch.width))  # q_G^1: scale of F_t
        if temporal:
            self.q_ctx_f = nn.Parameter(torch.ones(nq, arch.width))  # q_ext^f
            self.q_ctx_e = nn.Parameter(torch.ones(nq, arch.ctx_channels))  # q_ext^c

    # -- the equations ----------------------------------------------------------------------------------
    def context(self, ref: Reference | None, q: torch.Tensor):
        """eqs. (6)/(17): (C_e, C_f) from F_{t−1}; (None, None) for the intra codec."""
        if not self.temporal:
            return None, None
        c_e, c_f = self.c_ext(ref.feat)
        return c_e * preset_vector(self.q_ctx_e, q), c_f * preset_vector(self.q_ctx_f, q)

    def analysis(self, x: torch.Tensor, c_f: torch.Tensor | None, q: torch.Tensor) -> torch.Tensor:
        """eq. (7): y = F_ext(x | C_f), scaled by the preset's channel-wise vector."""
        return self.f_ext(x, c_f) * preset_vector(self.q_enc, q)

    def quantise(self, y: torch.Tensor, w: torch.Tensor, mu0: torch.Tensor, s0: torch.Tensor, mode: str,
                 generator: torch.Generator | None = None):
        """eqs. (11)–(13): the two-step checkerboard spatial prior and probabilistic quantisation.

        Returns ``(ȳ, μ, σ, P(ȳ))``, each ``[B, C_y, h, w]``: ȳ = Q(y/w − μ) (eq. 12; ``noise`` adds
        U(−½, ½) instead), μ/σ = (μ0, σ0) at anchors and E_s's (μ1, σ1) elsewhere (eq. 11), and the
        likelihood of eq. (13)."""
        if mode not in MODES:
            raise ValueError(f"quantisation mode must be one of {MODES}; got {mode!r}")
        yw = y / w
        hyper = torch.cat([mu0, s0], dim=1)
        anchor = anchor_mask(yw.shape[-2], yw.shape[-1], yw.device)
        u = None
        if mode == "noise":
            u = (torch.rand(yw.shape, generator=generator) - 0.5).to(yw.device, yw.dtype)
            v_anchor = yw + u
        else:
            v_anchor = _round(yw - mu0, mode) + mu0
        mu1, s1 = self.spatial.nonanchor_params(v_anchor * anchor, hyper)  # eq. (11)
        mu = torch.where(anchor, mu0, mu1)
        sigma = torch.where(anchor, lower_bound(s0, self.spatial.gaussian.scale_bound), s1)
        ybar = yw - mu + u if u is not None else _round(yw - mu, mode)  # eq. (12)
        lik = self.spatial.gaussian.likelihood(ybar + mu, sigma, mu)  # eq. (13)
        return ybar, mu, sigma, lik

    def symbol_length(self, lik: torch.Tensor, eta: float) -> torch.Tensor:
        """eq. (14) before rate matching: k̃ = η Σ_c −log2 P(ȳ^(i,j,c)), ``[B, h, w]``."""
        return -float(eta) * torch.log2(lik).sum(dim=1)

    def encode_symbols(self, ybar: torch.Tensor, kidx: torch.Tensor, rates: tuple[int, ...],
                       state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """eq. (15): (real symbol dimensions ``[B, h, w, 2·l_max]``, power-normalised; their mask)."""
        mask = dims_mask(kidx, rates)
        return power_normalise(self.f_tx(ybar, kidx, rates, state), mask), mask

    def dequantise(self, ybar: torch.Tensor, w: torch.Tensor, mu0: torch.Tensor, s0: torch.Tensor) -> torch.Tensor:
        """eqs. (19)–(20) / (23)–(24): E_s on the recovered anchors gives μ1; ỹ = w ⊙ (ȳ + μ)."""
        anchor = anchor_mask(ybar.shape[-2], ybar.shape[-1], ybar.device)
        y_anchor = torch.where(anchor, ybar + mu0, torch.zeros((), device=ybar.device, dtype=ybar.dtype))
        mu1, _ = self.spatial.nonanchor_params(y_anchor, torch.cat([mu0, s0], dim=1))
        return w * (ybar + torch.where(anchor, mu0, mu1))

    def synthesis(self, y_tilde: torch.Tensor, c_f: torch.Tensor | None, q: torch.Tensor):
        """eq. (21): (x̂, F_t) = G(ỹ | C_f) with the preset's input and feature scales."""
        return self.g(y_tilde * preset_vector(self.q_dec, q), c_f, preset_vector(self.q_feat, q))

    def decode(self, z_hat: torch.Tensor, received: torch.Tensor, kidx: torch.Tensor, rates: tuple[int, ...],
               ref: Reference | None, q: torch.Tensor) -> tuple[torch.Tensor, Reference]:
        """The receiver (eqs. 16–21) — and, with the sent symbols, the transmitter's buffer update (eqs. 22–24).

        ``received``: real dimensions ``[B, h, w, 2·l_max]``; returns (x̂ ``[B, 3, H, W]``, the new buffer)."""
        c_e, c_f = self.context(ref, q)  # eq. (17)
        w, mu0, s0 = self.h_dec(z_hat, c_e)  # eq. (18)
        ybar, state = self.f_rx(received, kidx, rates, ref.state if ref is not None else None)  # eq. (16)
        x_hat, feat = self.synthesis(self.dequantise(ybar, w, mu0, s0), c_f, q)  # eqs. (19)–(21)
        return x_hat, Reference(feat, state)


def clamp_hyper(z_hat: torch.Tensor) -> torch.Tensor:
    """ẑ as both ends use it (eq. 9 followed by the :data:`Z_LIMIT` clamp)."""
    return z_hat.clamp(-Z_LIMIT, Z_LIMIT)


def _round(x: torch.Tensor, mode: str) -> torch.Tensor:
    q = torch.round(x)
    return x + (q - x).detach() if mode == "ste" else q


# ------------------------------------------------------------------------------------------------ model
@dataclass
class FrameCode:
    """What the transmitter makes of one frame.

    Attributes:
        z_hat: ẑ (eq. 9), ``[1, C_z, H/64, W/64]`` float32 integers on CPU: what b_z codes
            (:func:`tokcom.schemes.pvsc.bitstream.encode_streams`).
        kidx: the rate map k_t as indices into the rate set, ``[H/16, W/16]`` uint8.
        symbols: s_t, ``[L]`` complex64, L = Σ⌈k/2⌉, mean power 1.
        ktilde_mean: mean k̃ of eq. (14) before rate matching (diagnostics).
    """

    z_hat: torch.Tensor
    kidx: np.ndarray
    symbols: np.ndarray
    ktilde_mean: float


def pack_symbols(real: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Real dimensions ``[1, h, w, 2·l_max]`` + mask → ``[L]`` complex64 in raster order of the units."""
    v = real.detach().to("cpu", torch.float32).reshape(-1)[mask.detach().cpu().reshape(-1) > 0].numpy()
    return np.ascontiguousarray(v.reshape(-1, 2)).view(np.complex64).reshape(-1).copy()


def unpack_symbols(sym: np.ndarray, kidx: torch.Tensor, rates: tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`pack_symbols`: ``[L]`` complex64 → ``[1, h, w, 2·l_max]`` float32 (CPU)."""
    mask = dims_mask(kidx, rates).cpu()
    out = torch.zeros(mask.numel(), dtype=torch.float32)
    flat = np.ascontiguousarray(np.asarray(sym, np.complex64)).view(np.float32)
    sel = mask.reshape(-1) > 0
    out[sel] = torch.from_numpy(flat.copy())
    return out.view(*mask.shape)


class PvscModel(nn.Module):
    """The intra codec and the P-frame codec, with the rate sets.

    Args:
        arch: the architecture.
        heads: rates with rate embeddings / FC layers (default: the distilled set ``arch.rates``; training
            builds the overcomplete set).
    """

    def __init__(self, arch: PvscArch, heads: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.arch = arch
        self.heads = tuple(sorted(set(heads or arch.rates)))
        self.intra = PvscCodec(arch, False, self.heads)
        self.inter = PvscCodec(arch, True, self.heads)

    def codec(self, intra: bool) -> PvscCodec:
        return self.intra if intra else self.inter

    def check_rates(self, rates: tuple[int, ...]) -> tuple[int, ...]:
        missing = sorted(set(rates) - set(self.heads))
        if missing:
            raise ValueError(f"rates {missing} have no rate heads in this model (heads: {self.heads})")
        return tuple(rates)

    # -- inference (the scheme) ---------------------------------------------------------------------------
    @torch.no_grad()
    def encode_frame(self, x: torch.Tensor, ref: Reference | None, q: float, eta: float,
                     carry: Callable[[np.ndarray], np.ndarray] | None = None
                     ) -> tuple[FrameCode, torch.Tensor, Reference]:
        """Transmitter, one frame ``x`` ``[1, 3, H, W]`` in [-1, 1] (H, W multiples of 64).

        ``carry``: what the receiver gets of the sent symbols over an ideal channel (its clipping, a digital
        carriage's quantisation); None = the symbols themselves.

        Returns (the frame's code, x̂^tx, the transmitter's new buffer), the latter two from the receiver's
        own path on the carried symbols (eqs. 22–24), so that an ideal channel gives identical buffers."""
        codec = self.codec(ref is None)
        rates = self.arch.rates
        qt = quality_tensor(q, x.device)
        c_e, c_f = codec.context(ref, qt)  # eq. (6)
        y = codec.analysis(x, c_f, qt)  # eq. (7)
        z = codec.h_enc(y)  # eq. (8)
        z_int = clamp_hyper(torch.round(z.detach().cpu()).to(torch.int64).to(torch.float32))  # eq. (9)
        z_hat = z_int.to(x.device)
        w, mu0, s0 = codec.h_dec(z_hat, c_e)  # eq. (10)
        ybar, _, _, lik = codec.quantise(y, w, mu0, s0, "round")  # eqs. (11)–(13)
        ktilde = codec.symbol_length(lik, eta)  # eq. (14)
        kidx = snap_rates(ktilde, rates)  # rate matching
        real, mask = codec.encode_symbols(ybar, kidx, rates, ref.state if ref is not None else None)  # eq. (15)
        sym = pack_symbols(real, mask)
        # eqs. (22)–(24): the buffer update runs the receiver's path on exactly what is sent
        x_tx, new_ref = self.decode_frame(z_hat, carry(sym) if carry is not None else sym,
                                          kidx[0].to(torch.uint8).cpu().numpy(), ref, q)
        code = FrameCode(z_int, kidx[0].to(torch.uint8).cpu().numpy(), sym, float(ktilde.mean()))
        return code, x_tx, new_ref

    @torch.no_grad()
    def decode_frame(self, z_hat: torch.Tensor, symbols: np.ndarray, kidx: np.ndarray, ref: Reference | None,
                     q: float, intra: bool | None = None) -> tuple[torch.Tensor, Reference]:
        """Receiver, one frame: ẑ ``[1, C_z, h/4, w/4]``, the frame's received symbols ``[L]`` complex64, the
        rate map ``[h, w]`` uint8 → (x̂ ``[1, 3, H, W]`` in [-1, 1], the new buffer). ``intra`` defaults to
        "no reference"."""
        codec = self.codec(ref is None if intra is None else intra)
        rates = self.arch.rates
        device = z_hat.device
        # one memory layout at both ends: the transmitter's ẑ comes out of a convolution (channels-last
        # strides), the receiver's out of the range decoder; convolutions over different layouts differ in
        # the last bit, and the buffers (eqs. 22–24) must be the same bits
        z_hat = z_hat.contiguous()
        ki = torch.from_numpy(np.asarray(kidx, np.int64))[None].to(device)
        received = unpack_symbols(symbols, ki.cpu(), rates).to(device)
        x_hat, new_ref = codec.decode(z_hat, received, ki, rates, ref, quality_tensor(q, device))
        return x_hat.clamp(-1, 1).nan_to_num(0.0), new_ref

    def frame_symbols(self, kidx: np.ndarray) -> int:
        """L = Σ⌈k/2⌉ for a rate map (uint8 indices into the rate set)."""
        lut = np.array([symbols_for(k) for k in self.arch.rates], np.int64)
        return int(lut[np.asarray(kidx, np.int64)].sum())

    # -- training (the ideal, transmitter and receiver branches over a GOP clip) ---------------------------
    def train_clip(self, x: torch.Tensor, quality: torch.Tensor, *, mode: str = "ste", branch: str = "full",
                   snr_db: float = 10.0, channel: str = "awgn", csi_nmse_db: float | None = None,
                   rates: tuple[int, ...] | None = None, eta: float | None = None,
                   generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One GOP clip ``x`` ``(B, 3, T, H, W)`` in [-1, 1], frame 0 intra-coded, the rest P-frames.

        Args:
            quality: ``[B]`` int64 preset per clip, or float32 qualities between presets (interpolated vectors).
            mode: quantisation in the ideal branch (``noise`` then ``ste``, §III-D).
            branch: ``ideal`` (stage 1: only eq. 26, the buffer is F^ideal) or ``full`` (the ideal,
                transmitter and receiver reconstructions, eq. 27's R_t).
            snr_db, channel, csi_nmse_db: the training channel of the receiver branch (AWGN 10 dB first, §IV-A).
            rates: the rate set of rate matching (default: the model's distilled set; stage 2: the
                overcomplete set).

        Returns:
            ``ideal``/``tx``/``rx`` reconstructions ``(B, 3, T, H, W)`` (tx/rx only in ``full``), ``rate``
            ``[B]`` (eq. 25 in channel uses per source sample, i.e. the CBR it costs: k̃/2 per unit plus
            η/2 per side bit), ``bits_z``, ``bits_k`` and ``k_mean`` ``[B]``.
        """
        b, _, t_len, h0, w0 = x.shape
        rates = self.check_rates(tuple(rates or self.arch.rates))
        eta = float(eta if eta is not None else self.arch.eta)
        xp = pad_frames(x)
        samples = 3 * h0 * w0
        q = quality.to(x.device)
        recon: dict[str, list[torch.Tensor]] = {"ideal": [], "tx": [], "rx": []}
        rate = x.new_zeros(b)
        bits_z_sum = x.new_zeros(b)
        bits_k_sum = x.new_zeros(b)
        k_sum = x.new_zeros(b)
        ref_tx: Reference | None = None
        ref_rx: Reference | None = None
        for t in range(t_len):
            codec = self.codec(t == 0)
            xt = xp[:, :, t]
            c_e, c_f = codec.context(ref_tx, q)  # eq. (6)
            y = codec.analysis(xt, c_f, q)  # eq. (7)
            z = codec.h_enc(y)  # eq. (8)
            if mode == "noise":
                z_hat = z + (torch.rand(z.shape, generator=generator) - 0.5).to(z.device, z.dtype)
            else:
                z_hat = _round(z, mode)  # eq. (9) (the arithmetic coder is lossless)
            bits_z = -torch.log2(codec.prior.likelihood(z_hat)).sum(dim=(1, 2, 3))
            w, mu0, s0 = codec.h_dec(z_hat, c_e)  # eq. (10)
            ybar, mu, _, lik = codec.quantise(y, w, mu0, s0, mode, generator)  # eqs. (11)–(13)
            ktilde = codec.symbol_length(lik, eta)  # eq. (14), before rate matching
            kidx = snap_rates(ktilde, rates)
            bits_k = torch.tensor([float(rate_map_bits(kidx[i].to(torch.uint8).cpu().numpy(), len(rates))) for i in range(b)],
                                  device=x.device)
            # eq. (25): Σ k + η b(k) − η log2 p(ẑ), in real dimensions → /2 for complex channel uses
            rate = rate + (ktilde.sum(dim=(1, 2)) + eta * (bits_z + bits_k)) / (2 * samples)
            bits_z_sum, bits_k_sum = bits_z_sum + bits_z.detach(), bits_k_sum + bits_k
            k_sum = k_sum + ktilde.detach().mean(dim=(1, 2))
            x_ideal, feat_ideal = codec.synthesis(w * (ybar + mu), c_f, q)  # eq. (26)
            recon["ideal"].append(x_ideal)
            if branch == "ideal":
                ref_tx = Reference(feat_ideal, None)
                continue
            state_tx = ref_tx.state if ref_tx is not None else None
            real, mask = codec.encode_symbols(ybar, kidx, rates, state_tx)  # eq. (15)
            noisy = channel_noise(real, mask, snr_db, channel, csi_nmse_db, generator)  # eqs. (1)–(4)
            x_tx, ref_tx = codec.decode(z_hat, real, kidx, rates, ref_tx, q)  # eqs. (22)–(24)
            x_rx, ref_rx = codec.decode(z_hat, noisy, kidx, rates, ref_rx, q)  # eqs. (16)–(21)
            recon["tx"].append(x_tx)
            recon["rx"].append(x_rx)
        out = {k: torch.stack(v, dim=2)[..., :h0, :w0] for k, v in recon.items() if v}
        out.update(rate=rate / t_len, bits_z=bits_z_sum / t_len, bits_k=bits_k_sum / t_len, k_mean=k_sum / t_len)
        return out

    # -- rate-set distillation (§III-D) -----------------------------------------------------------------
    def distilled_state(self, rates: tuple[int, ...] | None = None) -> dict[str, torch.Tensor]:
        """The state dict with only the rate heads of ``rates`` (default: the distilled set): what is shipped."""
        keep = {rate_key(k) for k in (rates or self.arch.rates)}
        out = {}
        for name, v in self.state_dict().items():
            parts = name.split(".")
            if "heads" in parts:
                i = parts.index("heads")
                if i + 1 < len(parts) and parts[i + 1] not in keep:
                    continue
            out[name] = v
        return out


def channel_noise(real: torch.Tensor, mask: torch.Tensor, snr_db: float, channel: str = "awgn",
                  csi_nmse_db: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """The training channel, eqs. (1)–(4): AWGN, or Rayleigh (L_co = 1) with CSI error and ZF equalisation.

    ``real``/``mask``: ``[B, h, w, 2·l_max]`` (pairs of dimensions are complex symbols)."""
    no = 10.0 ** (-float(snr_db) / 10.0)

    def randn() -> torch.Tensor:
        return torch.randn(real.shape, generator=generator).to(real.device, real.dtype)

    if channel == "awgn":
        return (real + randn() * math.sqrt(no / 2)) * mask
    if channel != "rayleigh":
        raise ValueError(f"training channel must be awgn or rayleigh; got {channel!r}")
    s = torch.view_as_complex(real.reshape(*real.shape[:-1], -1, 2).contiguous())
    shp = s.shape

    def cn(var: float) -> torch.Tensor:
        return torch.view_as_complex((torch.randn(*shp, 2, generator=generator) * math.sqrt(var / 2)).contiguous()
                                     ).to(real.device)

    hch = cn(1.0)
    y = hch * s + cn(no)
    h_est = hch + (cn(10.0 ** (csi_nmse_db / 10.0)) if csi_nmse_db is not None else 0)
    s_hat = h_est.conj() * y / (h_est.abs().pow(2).clamp_min(1e-6))  # ZF, eq. (4)
    return torch.view_as_real(s_hat).reshape(real.shape) * mask
