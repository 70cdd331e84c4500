"""Abstract PHY: BLER(modulation, code rate, SNR, block length) from tabulated link-level curves.

Where the curves come from (``tables/bler_awgn.json``, shipped with the package):

* **tokcom's own curves** — Monte Carlo with the bit-true PHY (:mod:`tokcom.link.phy`) over AWGN for every
  row of 38.214 Table 5.1.3.1-1 and the TokenCom named MCS (QPSK 1/3, QPSK 1/2, 16QAM 1/2, 16QAM 3/4), at
  one payload size (``k`` in the file, 1024 bits → TB size 1032). ``tokcom link tables`` regenerates them;
  the file records the command, seed, block counts and Sionna version.
* **Sionna's shipped curves** (``sionna/sys/bler_tables/PDSCH_table2.json``, code block size 1000) for the
  256QAM rows of Table 5.1.3.1-2, which the Monte Carlo grid does not cover.

Each curve is summarised by a three-parameter *gap model* fitted by binomial maximum likelihood to its
(SNR, blocks, errors) points: the normal approximation shifted by an SNR gap and stretched by a slope
factor, with its own slope below BLER 0.5 (LDPC waterfalls flatten in the tail),

    A(γ) = (n·C(γ/g) − k + ½·log2 n) / sqrt(n·V(γ/g)),   g = 10^(gap_db/10),
    BLER(γ) = Q(s·A) for A < 0 (BLER > 0.5),   Q(s_tail·A) for A ≥ 0,

with n the complex channel uses and k the TB bits of the block (:mod:`tokcom.link.capacity`). The model is
monotone in SNR, exact in shape where the curve was measured, and carries the block-length dependence of
the normal approximation to other sizes (the interpolation over block length). Between tabulated code
rates of one modulation, ``gap_db`` and ``s`` are interpolated linearly in R (clamped at the ends). A
transport block of C code blocks fails if any fails: TBLER = 1 − (1 − BLER_cb)^C.

Fading (abstract mode): mutual-information effective-SNR mapping (MIESM). Per coherence block i of the PDU
the post-equaliser SNR γ_i is drawn (|h̄_i|²/(no + σ²_res), see :func:`tokcom.link.phy.apply_channel`);
the BICM mutual information I_Qm(γ_i) of the modulation is averaged over the PDU's symbols and mapped back,
γ_eff = I_Qm⁻¹(mean I_Qm(γ_i)); the PDU is lost with BLER(Qm, R, γ_eff, k).

PDUs are lost i.i.d. with that BLER: TokenCom eq. (17), 000_cfad1eb21f67e2e2.txt.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tokcom.errors import InputError
from tokcom.link import capacity as cap
from tokcom.link.phy import tb_layout

TABLE_FILE = "bler_awgn.json"


@dataclass(frozen=True)
class Curve:
    """One fitted BLER curve (AWGN) of a (Qm, R)."""

    num_bits_per_symbol: int
    coderate: float
    gap_db: float
    slope: float
    source: str
    slope_tail: float | None = None


def gap_model_bler(snr_db: np.ndarray | float, k: float, n: float, gap_db: float, slope: float,
                   slope_tail: float | None = None) -> np.ndarray:
    """BLER of the gap model (module docstring) for a block of ``k`` bits in ``n`` complex channel uses."""
    s = np.asarray(snr_db, dtype=float) - gap_db
    c = cap.shannon_capacity(s)
    v = np.maximum(cap.dispersion(s), 1e-30)
    a = (n * c - k + 0.5 * math.log2(max(n, 2.0))) / np.sqrt(n * v)
    st = slope if slope_tail is None else slope_tail
    return cap.qfunc(np.where(a < 0, slope * a, st * a))  # BLER > 0.5 uses ``slope``, the tail ``slope_tail``


def fit_gap_model(points: list[tuple[float, int, int]], k: float, n: float,
                  slope: float | None = None) -> tuple[float, float]:
    """Binomial ML fit of (gap_db, slope) to ``[(snr_db, blocks, errors), ...]`` (``slope`` given: gap only)."""
    return _fit(points, k, n, slope)[:2]


def fit_gap_model_tail(points: list[tuple[float, int, int]], k: float, n: float) -> tuple[float, float, float]:
    """Binomial ML fit of (gap_db, slope, slope_tail): separate slopes above and below BLER 0.5."""
    from scipy.optimize import minimize

    g0, s0 = _fit(points, k, n, None)[:2]
    snr = np.array([p[0] for p in points], dtype=float)
    nb = np.array([p[1] for p in points], dtype=float)
    ne = np.array([p[2] for p in points], dtype=float)

    def nll(theta: np.ndarray) -> float:
        p = np.clip(gap_model_bler(snr, k, n, theta[0], math.exp(theta[1]), math.exp(theta[2])), 1e-12, 1 - 1e-12)
        return float(-(ne * np.log(p) + (nb - ne) * np.log1p(-p)).sum())

    res = minimize(nll, np.array([g0, math.log(s0), math.log(s0)]), method="Nelder-Mead",
                   options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 4000})
    return float(res.x[0]), float(math.exp(res.x[1])), float(math.exp(res.x[2]))


def _fit(points: list[tuple[float, int, int]], k: float, n: float, slope: float | None) -> tuple[float, float]:
    from scipy.optimize import minimize

    snr = np.array([p[0] for p in points], dtype=float)
    nb = np.array([p[1] for p in points], dtype=float)
    ne = np.array([p[2] for p in points], dtype=float)

    def nll(theta: np.ndarray) -> float:
        sl = slope if slope is not None else math.exp(theta[1])
        p = np.clip(gap_model_bler(snr, k, n, theta[0], sl), 1e-12, 1 - 1e-12)
        return float(-(ne * np.log(p) + (nb - ne) * np.log1p(-p)).sum())

    best = None
    for g0 in np.arange(-1.0, 8.0, 0.5):
        for ls in (-1.0, -0.5, 0.0):
            v = nll(np.array([g0, ls]))
            if best is None or v < best[0]:
                best = (v, g0, ls)
    res = minimize(nll, np.array(best[1:]), method="Nelder-Mead",
                   options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 2000})
    return float(res.x[0]), float(slope if slope is not None else math.exp(res.x[1]))


def _table_path() -> Path:
    return Path(str(resources.files("tokcom.link") / "tables" / TABLE_FILE))


@lru_cache(maxsize=4)
def load_table(path: str | None = None) -> dict[str, Any]:
    """The shipped BLER table (JSON) as a dict."""
    p = Path(path) if path else _table_path()
    if not p.exists():
        raise InputError(f"BLER table {p} is missing; regenerate it with: tokcom link tables")
    return json.loads(p.read_text())


@lru_cache(maxsize=4)
def curves(path: str | None = None) -> dict[int, list[Curve]]:
    """Fitted curves per Qm, sorted by code rate."""
    out: dict[int, list[Curve]] = {}
    for c in load_table(path)["curves"]:
        if c.get("fit") is None:
            continue
        out.setdefault(int(c["num_bits_per_symbol"]), []).append(
            Curve(int(c["num_bits_per_symbol"]), float(c["coderate"]), float(c["fit"]["gap_db"]),
                  float(c["fit"]["slope"]), str(c.get("source", "tokcom")),
                  float(c["fit"].get("slope_tail", c["fit"]["slope"]))))
    for q, curves in out.items():
        # one entry per rate (own curves win over Sionna's when both exist)
        by_rate: dict[float, Curve] = {}
        for c in sorted(curves, key=lambda c: c.source != "tokcom"):
            by_rate.setdefault(round(c.coderate, 6), c)
        out[q] = sorted(by_rate.values(), key=lambda c: c.coderate)
    return out


def curve_params(num_bits_per_symbol: int, coderate: float) -> tuple[float, float, float]:
    """(gap_db, slope, slope_tail) of (Qm, R), interpolated linearly in R between tabulated rates (clamped)."""
    cs = curves().get(int(num_bits_per_symbol))
    if not cs:
        raise InputError(f"no BLER curves for {num_bits_per_symbol} bits per symbol")
    rates = np.array([c.coderate for c in cs])
    gaps = np.array([c.gap_db for c in cs])
    slopes = np.array([c.slope for c in cs])
    tails = np.array([c.slope_tail if c.slope_tail is not None else c.slope for c in cs])
    return (float(np.interp(coderate, rates, gaps)), float(np.interp(coderate, rates, slopes)),
            float(np.interp(coderate, rates, tails)))


def block_bler(num_bits_per_symbol: int, coderate: float, snr_db: np.ndarray | float, tb_size: int,
               num_symbols: int, num_cb: int = 1) -> np.ndarray:
    """TB error rate for a TB of ``tb_size`` bits in ``num_symbols`` data symbols split in ``num_cb`` CBs.

    Args:
        snr_db: scalar or ``[P]`` (effective) SNR in dB.

    Returns:
        BLER, same shape as ``snr_db`` (float64).
    """
    gap, slope, slope_tail = curve_params(num_bits_per_symbol, coderate)
    k_cb, n_cb = tb_size / num_cb, num_symbols / num_cb
    cb = gap_model_bler(snr_db, k_cb, n_cb, gap, slope, slope_tail)
    # no practical code beats the normal approximation: keep the fitted tail above it
    cb = np.maximum(cb, cap.normal_approx_bler(snr_db, k_cb, n_cb))
    return 1.0 - (1.0 - cb) ** num_cb


def bler(num_bits_per_symbol: int, coderate: float, snr_db: np.ndarray | float, k: int) -> np.ndarray:
    """AWGN BLER of a PDU of ``k`` payload bits at MCS (Qm, R) (TB sizing as in the bit-true PHY)."""
    lay = tb_layout(int(k), int(num_bits_per_symbol), float(coderate))
    return block_bler(num_bits_per_symbol, coderate, snr_db, lay.tb_size, lay.num_symbols, lay.num_cb)


# --- MIESM over fading ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _mi_curves() -> tuple[np.ndarray, dict[int, np.ndarray]]:
    t = load_table()["bicm_mi"]
    grid = np.asarray(t["snr_db"], dtype=float)
    return grid, {int(q): np.maximum.accumulate(np.asarray(v, dtype=float)) for q, v in t["mi"].items()}


def bicm_mi(num_bits_per_symbol: int, snr_db: np.ndarray) -> np.ndarray:
    """Tabulated BICM mutual information (bits/symbol) at ``snr_db`` (interpolated, clamped)."""
    grid, mi = _mi_curves()
    return np.interp(snr_db, grid, mi[int(num_bits_per_symbol)])


def effective_snr_db(num_bits_per_symbol: int, snr_db: np.ndarray, weights: np.ndarray | None = None
                     ) -> float:
    """MIESM: γ_eff = I⁻¹(mean_i I(γ_i)) for per-coherence-block SNRs ``snr_db`` ``[N]`` (dB)."""
    grid, mi = _mi_curves()
    curve = mi[int(num_bits_per_symbol)]
    vals = np.interp(np.asarray(snr_db, dtype=float), grid, curve)
    m = float(np.average(vals, weights=weights))
    # invert the (non-decreasing) curve; make it strictly increasing for np.interp
    c = curve + np.arange(curve.size) * 1e-12
    return float(np.interp(m, c, grid))


def fading_block_snrs_db(snr_db: float, num_symbols: int, coherence_channel_uses: int,
                         csi_nmse_db: float | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Post-equaliser SNRs (dB) of the coherence blocks of one PDU and their symbol counts.

    Rayleigh block fading h ~ CN(0,1) per block (PVSC eq. 1), ĥ = h + e (eq. 3); the SNR is the LMMSE one,
    |h̄|²/(no + σ²_res) with h̄ = ĥ/(1+σe²), σ²_res = σe²/(1+σe²).
    """
    lco = int(coherence_channel_uses)
    nblk = -(-num_symbols // lco)
    counts = np.full(nblk, lco, dtype=float)
    counts[-1] = num_symbols - lco * (nblk - 1)
    h = (rng.standard_normal(nblk) + 1j * rng.standard_normal(nblk)) / math.sqrt(2.0)
    var_e = 0.0 if csi_nmse_db is None else 10.0 ** (csi_nmse_db / 10.0)
    if var_e > 0:
        h = h + math.sqrt(var_e / 2.0) * (rng.standard_normal(nblk) + 1j * rng.standard_normal(nblk))
    h_bar = h / (1.0 + var_e)
    no = 10.0 ** (-snr_db / 10.0)
    sinr = np.abs(h_bar) ** 2 / (no + var_e / (1.0 + var_e))
    return 10.0 * np.log10(np.maximum(sinr, 1e-30)), counts


FADING_CLT_BLOCKS = 64  # from this many coherence blocks per PDU, the PDU's mean MI is drawn by the CLT


def fading_bler_mean(num_bits_per_symbol: int, coderate: float, snr_db: float, k: int,
                     coherence_channel_uses: int, csi_nmse_db: float | None, num_draws: int = 400,
                     seed: int = 0) -> float:
    """Average PDU loss over Rayleigh block fading (MIESM), by drawing ``num_draws`` channel realisations.

    A PDU of few coherence blocks (< :data:`FADING_CLT_BLOCKS`) draws every block of every realisation. With
    many blocks (fast fading, e.g. L_co = 1: thousands per PDU) the PDU's mean mutual information is a mean
    of that many i.i.d. terms, so it is drawn from the normal law the central limit theorem gives it (mean and
    variance of I over 8192 drawn blocks, variance divided by the effective block count): the same result
    without drawing millions of blocks per MCS.
    """
    lay = tb_layout(int(k), int(num_bits_per_symbol), float(coderate))
    rng = np.random.default_rng(seed)
    grid, mi = _mi_curves()
    curve = mi[int(num_bits_per_symbol)]
    lco = int(coherence_channel_uses)
    nblk = -(-lay.num_symbols // lco)
    if nblk < FADING_CLT_BLOCKS:
        draws = [fading_block_snrs_db(snr_db, lay.num_symbols, lco, csi_nmse_db, rng) for _ in range(num_draws)]
        snrs = np.stack([d[0] for d in draws])  # [draws, blocks]
        w = draws[0][1]
        m = (np.interp(snrs, grid, curve) * w).sum(axis=1) / w.sum()  # mean I over the PDU's symbols
    else:
        pool, _ = fading_block_snrs_db(snr_db, 8192, 1, csi_nmse_db, rng)  # 8192 independent blocks
        i_pool = np.interp(pool, grid, curve)
        counts = np.full(nblk, float(lco))
        counts[-1] = lay.num_symbols - lco * (nblk - 1)
        n_eff = counts.sum() ** 2 / (counts ** 2).sum()
        m = i_pool.mean() + i_pool.std() / np.sqrt(n_eff) * rng.standard_normal(num_draws)
        m = np.clip(m, curve[0], curve[-1])
    effs = np.interp(m, curve + np.arange(curve.size) * 1e-12, grid)  # I⁻¹, as effective_snr_db
    return float(np.mean(block_bler(num_bits_per_symbol, coderate, effs, lay.tb_size,
                                    lay.num_symbols, lay.num_cb)))
