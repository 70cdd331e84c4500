"""Analog (deep-JSCC) channel symbols over the AWGN and Rayleigh links, PVSC eqs. (1)–(4), 002_165f6aebfafa3581.txt.

::

    Transmission.symbols s ∈ ℂ^N (mean |s|² ≤ 1: the power constraint P = 1 per channel use, eq. 2)
      ─► y = h ⊙ s + n,  n ~ CN(0, N0), N0 = 10^(−SNR/10)                                   eq. (1)
         h = 1 (AWGN) or i.i.d. CN(0, 1) per block of L_co channel uses (Rayleigh block fading)
      ─► CSI ĥ = h + e, e ~ CN(0, σ_e²), σ_e² = 10^(NMSE/10)                                  eq. (3)
      ─► ŝ = ĥ* y / |ĥ|²  (ZF, eq. 4)  or the LMMSE estimate                                     eq. (4)
      ─► Reception.symbols (aligned with s)

The channel and equaliser are the bit-true PHY's (:func:`tokcom.link.phy.apply_channel`, one home of the
equations); symbols go through it in bounded chunks. ``post_eq_snr_db`` in the link report is measured on
the symbols themselves: ``10·log10(E|ĥ|² / E|ĥ·(ŝ − s)|²)`` (ZF; = ``E|s|² / E|ŝ − s|²`` over AWGN), whose
theory is ``(1 + σ_e²) / (N0 + σ_e²)`` over Rayleigh with ZF and ``1 / N0`` over AWGN.
"""

from __future__ import annotations

import math

import numpy as np

from tokcom.errors import InputError
from tokcom.link.phy import apply_channel, set_sionna_seed

MAX_SYMBOLS = 1 << 31
"""The most analog symbols one transmission may carry (an 8-GiB array of complex64 is surely a mistake)."""
CHUNK_SYMBOLS = 1 << 20
"""Symbols through the channel at a time (memory bound)."""


def check_symbols(symbols: np.ndarray, *, strict_power: bool = True) -> np.ndarray:
    """``[N]`` complex64 symbols as a link accepts them, else one-line InputError: finite, 1-D, not
    oversized, and within the power constraint (mean |s|² ≤ 1, PVSC eq. 2; a 1e-3 tolerance).

    ``strict_power=False`` (what a link applies; the pipeline checks the whole transmission strictly before
    the budget may cut it) allows the sampling fluctuation of a prefix of a normalised sequence: mean power
    ≤ 1 + 1e-3 + 5/√N.
    """
    s = np.asarray(symbols)
    if s.ndim != 1:
        raise InputError(f"analog symbols must be a 1-D array; got shape {s.shape}")
    if s.size > MAX_SYMBOLS:
        raise InputError(f"{s.size} analog symbols exceed the {MAX_SYMBOLS} a transmission may carry")
    if not np.iscomplexobj(s) and not np.issubdtype(s.dtype, np.floating):
        raise InputError(f"analog symbols must be complex; got {s.dtype}")
    s = s.astype(np.complex64, copy=False)
    if s.size and not np.isfinite(s.view(np.float32)).all():
        raise InputError("analog symbols contain NaN or inf")
    if s.size:
        power = float(np.mean(np.abs(s.astype(np.complex128)) ** 2))
        limit = 1.0 + 1e-3 + (0.0 if strict_power else 5.0 / math.sqrt(s.size))
        if power > limit:
            raise InputError(f"analog symbols have mean power {power:.4f} > 1 (the power constraint, eq. 2)")
    return s


def carry_symbols(symbols: np.ndarray, snr_db: float, spec, seed: int, device: str = "cpu"
                  ) -> tuple[np.ndarray, float | None]:
    """Send analog symbols through the channel and equaliser.

    Args:
        symbols: ``[N]`` complex64 (checked by :func:`check_symbols`).
        snr_db: Es/N0 per complex channel use.
        spec: :class:`tokcom.link.phy.ChannelSpec` (AWGN, or Rayleigh with L_co, CSI NMSE, ZF/LMMSE).
        seed: seeds the channel's noise, fading and CSI error.

    Returns:
        ``(ŝ [N] complex64, measured post-equalisation SNR in dB or None for no symbols)``.
    """
    import torch

    s = check_symbols(symbols, strict_power=False)
    out = np.empty_like(s)
    if s.size == 0:
        return out, None
    no = 10.0 ** (-float(snr_db) / 10.0)
    set_sionna_seed(int(seed))
    num = den = 0.0
    with torch.no_grad():
        for a in range(0, s.size, CHUNK_SYMBOLS):
            x = torch.from_numpy(np.ascontiguousarray(s[a:a + CHUNK_SYMBOLS]))[None].to(device)
            x_hat, no_eff = apply_channel(x, no, spec, device)
            xh = x_hat[0].to(torch.complex64).cpu().numpy()
            out[a:a + xh.size] = xh
            # channel power gain seen by the equaliser: |ĥ|² = N0 / no_eff for ZF, 1 over AWGN
            gain = (no / no_eff.expand(x_hat.shape)[0].double().cpu().numpy()) if spec.kind != "awgn" else 1.0
            ref = s[a:a + xh.size].astype(np.complex128)
            err = np.abs(xh.astype(np.complex128) - ref) ** 2
            num += float(np.sum(gain * np.abs(ref) ** 2))
            den += float(np.sum(gain * err))
    if num <= 0:  # silent symbols carry no signal power: no SNR to measure
        return out, None
    return out, (10.0 * math.log10(num / den) if den > 0 else math.inf)


def theory_post_eq_snr_db(snr_db: float, csi_nmse_db: float | None = None, fading: bool = False) -> float:
    """The measured quantity's expectation: ``1/N0`` over AWGN; ``(1+σ_e²)/(N0+σ_e²)`` over Rayleigh + ZF."""
    no = 10.0 ** (-float(snr_db) / 10.0)
    if not fading:
        return float(snr_db)
    var_e = 0.0 if csi_nmse_db is None else 10.0 ** (csi_nmse_db / 10.0)
    return 10.0 * math.log10((1.0 + var_e) / (no + var_e))
