"""Capacity references: Shannon capacity, the normal approximation, BICM mutual information of QAM.

All SNRs are Es/N0 per complex channel use (linear ``snr`` or ``snr_db``); rates are bits per complex
channel use. numpy/scipy only (no torch).

* Shannon: C(γ) = log2(1 + γ).
* Normal approximation (Polyanskiy–Poor–Verdú 2010, complex AWGN with Gaussian-like inputs): the largest
  number of information bits k that n channel uses carry with block error probability ε is
  k ≈ n·C − sqrt(n·V)·Q⁻¹(ε) + ½·log2 n, with dispersion V(γ) = (1 − (1+γ)⁻²)·log2²(e). Inverted, the
  BLER of a k-bit block in n uses is ε ≈ Q((n·C − k + ½·log2 n)/sqrt(n·V)). Practical codes do not beat it.
* BICM mutual information I_Qm(γ) of Gray-labelled square QAM (bit-interleaved, per symbol), used by the
  mutual-information effective-SNR mapping of the abstract PHY over fading (:mod:`tokcom.link.abstract`).
"""

from __future__ import annotations

import math

import numpy as np

LOG2E = math.log2(math.e)


def db2lin(x_db: float | np.ndarray) -> float | np.ndarray:
    return 10.0 ** (np.asarray(x_db, dtype=float) / 10.0)


def lin2db(x: float | np.ndarray) -> float | np.ndarray:
    return 10.0 * np.log10(np.asarray(x, dtype=float))


def qfunc(x: np.ndarray | float) -> np.ndarray | float:
    """Gaussian tail Q(x)."""
    from scipy.special import erfc

    return 0.5 * erfc(np.asarray(x, dtype=float) / math.sqrt(2.0))


def qinv(p: np.ndarray | float) -> np.ndarray | float:
    """Inverse Gaussian tail Q⁻¹(p)."""
    from scipy.special import erfcinv

    return math.sqrt(2.0) * erfcinv(2.0 * np.asarray(p, dtype=float))


def shannon_capacity(snr_db: float | np.ndarray) -> float | np.ndarray:
    """C = log2(1 + γ) bits per complex channel use."""
    return np.log2(1.0 + db2lin(snr_db))


def shannon_snr_db(spectral_efficiency: float | np.ndarray) -> float | np.ndarray:
    """The SNR (dB) at which C equals ``spectral_efficiency``."""
    return lin2db(2.0 ** np.asarray(spectral_efficiency, dtype=float) - 1.0)


def dispersion(snr_db: float | np.ndarray) -> float | np.ndarray:
    """Channel dispersion V(γ) = (1 − (1+γ)⁻²)·log2²(e) (bits² per complex channel use)."""
    g = db2lin(snr_db)
    return (1.0 - 1.0 / (1.0 + g) ** 2) * LOG2E**2


def normal_approx_rate(snr_db: float | np.ndarray, n: int, error_prob: float) -> float | np.ndarray:
    """Achievable rate (bits per channel use) at block length ``n`` channel uses and BLER ``error_prob``."""
    c = shannon_capacity(snr_db)
    v = dispersion(snr_db)
    return c - np.sqrt(v / n) * qinv(error_prob) + 0.5 * np.log2(n) / n


def normal_approx_bler(snr_db: float | np.ndarray, k: int, n: float) -> float | np.ndarray:
    """Lowest BLER of ``k`` information bits in ``n`` complex channel uses (normal approximation)."""
    c = shannon_capacity(snr_db)
    v = np.maximum(dispersion(snr_db), 1e-30)
    return qfunc((n * c - k + 0.5 * math.log2(max(n, 1.0))) / np.sqrt(n * v))


def normal_approx_snr_db(spectral_efficiency: float, n: int, error_prob: float) -> float:
    """The SNR (dB) at which the normal-approximation rate at (n, ε) equals ``spectral_efficiency``."""
    lo, hi = -30.0, 60.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if normal_approx_rate(mid, n, error_prob) < spectral_efficiency:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def qam_points(num_bits_per_symbol: int) -> np.ndarray:
    """Gray-labelled square QAM with unit average energy; point i carries the bits of i (MSB first).

    The labelling is the 38.211 §5.1 one (same as Sionna's ``Constellation("qam", Qm)``).
    """
    qm = int(num_bits_per_symbol)
    half = qm // 2
    idx = np.arange(2**qm)
    bits = (idx[:, None] >> np.arange(qm - 1, -1, -1)) & 1
    parts = []
    for off in (0, 1):  # real part from bits 0, 2, 4, ...; imaginary part from bits 1, 3, 5, ...
        p = 1 - 2 * bits[:, off::2]
        val = np.ones(idx.size) if half == 1 else 2.0 - p[:, half - 1]
        for j in range(half - 2, 0, -1):  # 38.211 nesting: 2^(half−j) − p_j·(...)
            val = 2.0 ** (half - j) - p[:, j] * val
        parts.append(p[:, 0] * val if half > 1 else p[:, 0] * 1.0)
    pts = parts[0] + 1j * parts[1]
    return pts / np.sqrt(np.mean(np.abs(pts) ** 2))


def bicm_mutual_information(num_bits_per_symbol: int, snr_db: np.ndarray, num_samples: int = 20000,
                            seed: int = 1234) -> np.ndarray:
    """BICM mutual information (bits per complex symbol) of Gray QAM over AWGN, by Monte Carlo.

    Args:
        num_bits_per_symbol: Qm.
        snr_db: ``[P]`` SNR points (Es/N0, dB).
        num_samples: noise samples per transmitted point and SNR.
        seed: fixed seed (the curve is a deterministic function of its arguments).

    Returns:
        ``[P]`` float64 in [0, Qm].
    """
    qm = int(num_bits_per_symbol)
    pts = qam_points(qm)
    m = pts.size
    bits = (np.arange(m)[:, None] >> np.arange(qm - 1, -1, -1)) & 1  # [M, Qm]
    rng = np.random.default_rng(seed)
    n_per = max(1, num_samples // m)
    out = []
    z = (rng.standard_normal((m, n_per)) + 1j * rng.standard_normal((m, n_per))) / math.sqrt(2.0)
    for s_db in np.atleast_1d(snr_db):
        no = 10.0 ** (-s_db / 10.0)
        y = pts[:, None] + math.sqrt(no) * z  # [M, N]
        d = -np.abs(y[:, :, None] - pts[None, None, :]) ** 2 / no  # [M, N, M] log-likelihoods
        dmax = d.max(axis=2, keepdims=True)
        e = np.exp(d - dmax)
        tot = e.sum(axis=2)
        loss = 0.0
        for b in range(qm):
            same = bits[:, b][:, None] == bits[None, :, b]  # [Mtx, Mcand]
            num = np.einsum("mnk,mk->mn", e, same.astype(float))
            loss += np.mean(np.log2(tot / np.maximum(num, 1e-300)))
        out.append(max(0.0, qm - loss))
    return np.asarray(out)
