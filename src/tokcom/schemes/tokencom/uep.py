"""UEP-based joint bit-precision and MCS selection (TokenCom §II-D, Alg. 3, 000_cfad1eb21f67e2e2.txt).

Each token class c ∈ {s (intended), n (non-intended)} picks one configuration k = (B_k, m_k, r_k) from its
candidate set 𝒦_c. Per candidate (Alg. 3 lines 5–13)::

    g_k   = ρ_oh·m_k·r_k                          eq. (16)
    p_k   = BLER(m_k, r_k | γ) for a PDU of L_c·B_k + H_c bits   eq. (17)  (the link's BLER model)
    C_PDU = (L_c·B_k + H_c) / g_k,  T_PDU = C_PDU / W_B          eq. (18)
    c_k   = C_PDU / L_c,  τ_k = T_PDU / L_c                      eq. (19)
    d_k   = α·exp(−β·B_k)                                        eq. (20)

and the MILP (eqs. 21–29) over binary z_k^(c)::

    min  w_D·(D_tot − D_min)/(D_max − D_min + ε_D) + w_T·(τ_tot − T_min)/(T_max − T_min + ε_T)
    s.t. N_s Σ c_k^(s) z_k^(s) + N_n Σ c_k^(n) z_k^(n) ≤ R_max           (29a)
         Σ_k z_k^(c) = 1,  z ∈ {0,1}                                      (29b, 29c)
         Σ_k p_k^(s) z_k^(s) ≤ p_max^(s),  Σ_k p_k^(n) z_k^(n) ≤ p_max^(n)   (29d, 29e)

solved with ``scipy.optimize.milp`` (HiGHS). D_tot, τ_tot: eqs. (22)–(23); normalisation constants from the
class-wise extrema of the candidates that meet their class' BLER limit (eqs. 26–28). Alg. 3's SNR feasibility
γ ≥ γ_min(m) is the BLER limit itself: the BLER falls monotonically with γ, so "γ above the MCS' activation
threshold" and "BLER(m | γ) ≤ p_max" select the same candidates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tokcom.errors import InputError
from tokcom.link.accounting import per_token_resource, raw_spectral_efficiency
from tokcom.types import Mcs

CLASSES = ("intended", "non_intended")


@dataclass(frozen=True)
class Candidate:
    """One configuration k of a class: bits per token, MCS and its per-token costs (eqs. 16–20).

    Attributes:
        bits: B_k, source bits per token.
        mcs: (m_k, r_k).
        bler: p_k, the PDU BLER at the current SNR (eq. 17).
        spectral_efficiency: g_k = ρ_oh·m·r (eq. 16), bits per channel use.
        pdu_bits: L_c·B_k + H_c.
        resource: c_k, channel uses (Hz·s) per token (eq. 19).
        delay_s: τ_k, seconds per token (eq. 19).
        distortion: d_k = α·e^{−β·B_k} (eq. 20).
    """

    bits: int
    mcs: Mcs
    bler: float
    spectral_efficiency: float
    pdu_bits: int
    resource: float
    delay_s: float
    distortion: float

    def label(self) -> str:
        return f"B={self.bits} {self.mcs.modulation} {self.mcs.coderate:.3f}"


def make_candidates(bit_set: Sequence[int], mcs_set: Sequence[Mcs], *, tokens_per_pdu: int, header_bits: int,
                    overhead: float, bandwidth_hz: float, bler_fn: Callable[[Mcs, int], float],
                    alpha: float = 1.0, beta: float = 0.2,
                    pdu_uses: Callable[[Mcs, int], int] | None = None) -> list[Candidate]:
    """Alg. 3 lines 5–13 for one class: the candidates 𝓑_c × 𝓜_c with their costs (eqs. 16–20).

    Args:
        bit_set: 𝓑_c (``(B_full,)`` for the intended class).
        mcs_set: 𝓜_c.
        tokens_per_pdu: L_c.
        header_bits: H_c (PDU header + CRC bits).
        overhead: ρ_oh.
        bandwidth_hz: W_B (only scales the delays).
        bler_fn: ``bler_fn(mcs, pdu_bits)`` → BLER at the current SNR (eq. 17).
        alpha, beta: the distortion model of eq. (20).
        pdu_uses: ``pdu_uses(mcs, pdu_bits)`` → the channel uses the link charges for one PDU (TB mapping,
            CRC, ρ_oh). When given, C_PDU is this exact count instead of eq. (18)'s B/g_raw, so that a plan
            that meets (29a) also fits the budget the pipeline enforces (docs/deviations.md).
    """
    if tokens_per_pdu < 1 or header_bits < 0 or not bandwidth_hz > 0:
        raise InputError("tokens per PDU must be ≥ 1, header bits ≥ 0 and the bandwidth positive")
    out = []
    for b in bit_set:
        for m in mcs_set:
            pdu_bits = tokens_per_pdu * int(b) + header_bits
            if pdu_uses is not None:  # eq. (18) with the link's exact count of C_PDU, then eq. (19)
                c_pdu = float(pdu_uses(m, pdu_bits))
                c, tau = c_pdu / tokens_per_pdu, c_pdu / bandwidth_hz / tokens_per_pdu
            else:
                c, tau = per_token_resource(pdu_bits, tokens_per_pdu, m, overhead, bandwidth_hz)  # eqs. (18)-(19)
            out.append(Candidate(
                bits=int(b), mcs=m, bler=float(bler_fn(m, pdu_bits)),  # eq. (17)
                spectral_efficiency=raw_spectral_efficiency(m, overhead),  # eq. (16)
                pdu_bits=pdu_bits, resource=c, delay_s=float(tau),
                distortion=alpha * math.exp(-beta * int(b)),  # eq. (20)
            ))
    return out


@dataclass(frozen=True)
class UepProblem:
    """Problem (29): token counts, candidate lists, budget, weights and BLER limits.

    Attributes:
        n_tokens: (N_s, N_n).
        candidates: (𝒦_s, 𝒦_n).
        resource_budget: R_max in channel uses (Hz·s) (eq. 24); ``math.inf`` = unconstrained.
        w_d, w_t: weights of distortion and delay (w_D + w_T = 1 in the paper).
        bler_limits: (p_max^(s), p_max^(n)).
    """

    n_tokens: tuple[int, int]
    candidates: tuple[Sequence[Candidate], Sequence[Candidate]]
    resource_budget: float
    w_d: float = 0.5
    w_t: float = 0.5
    bler_limits: tuple[float, float] = (0.002, 0.01)

    def __post_init__(self) -> None:
        if any(len(c) == 0 for c in self.candidates):
            raise InputError("each token class needs at least one candidate configuration")
        if self.w_d < 0 or self.w_t < 0:
            raise InputError("the weights w_D, w_T must be ≥ 0")

    def reliable(self, c: int) -> list[int]:
        """Indices of class ``c``'s candidates that meet its BLER limit (29d/29e)."""
        lim = self.bler_limits[c]
        return [i for i, k in enumerate(self.candidates[c]) if k.bler <= lim]

    def normalisation(self) -> tuple[float, float, float, float]:
        """(D_min, D_max, T_min, T_max), eqs. (27)–(28), over the reliable candidates of each class (all of a
        class' candidates when none is reliable)."""
        dmin = dmax = tmin = tmax = 0.0
        for c in (0, 1):
            idx = self.reliable(c) or list(range(len(self.candidates[c])))
            d = [self.candidates[c][i].distortion for i in idx]
            t = [self.candidates[c][i].delay_s for i in idx]
            n = self.n_tokens[c]
            dmin += n * min(d)
            dmax += n * max(d)
            tmin += n * min(t)
            tmax += n * max(t)
        return dmin, dmax, tmin, tmax

    def totals(self, ks: int, kn: int) -> tuple[float, float, float]:
        """(D_tot, τ_tot, resource) for the choice (k_s, k_n): eqs. (22), (23), (25)."""
        a, b = self.candidates[0][ks], self.candidates[1][kn]
        ns, nn = self.n_tokens
        return (ns * a.distortion + nn * b.distortion, ns * a.delay_s + nn * b.delay_s,
                ns * a.resource + nn * b.resource)

    def objective(self, ks: int, kn: int) -> float:
        """J of eq. (29) with the normalisation of eq. (26)."""
        dmin, dmax, tmin, tmax = self.normalisation()
        d, t, _ = self.totals(ks, kn)
        return (self.w_d * (d - dmin) / (dmax - dmin + _eps(dmax))
                + self.w_t * (t - tmin) / (tmax - tmin + _eps(tmax)))

    def feasible(self, ks: int, kn: int) -> bool:
        _, _, r = self.totals(ks, kn)
        return (r <= self.resource_budget * (1 + 1e-12)
                and self.candidates[0][ks].bler <= self.bler_limits[0]
                and self.candidates[1][kn].bler <= self.bler_limits[1])


def _eps(scale: float) -> float:
    """ε_D, ε_T of eq. (26): a tiny guard relative to the quantity's scale."""
    return 1e-12 * max(1.0, abs(scale))


@dataclass(frozen=True)
class UepSolution:
    """Solver output. ``status``: ``optimal`` | ``infeasible``; ``choice`` = (k_s, k_n) indices or None."""

    status: str
    choice: tuple[int, int] | None
    objective: float | None
    distortion: float | None = None
    delay_s: float | None = None
    resource: float | None = None
    solve_s: float = 0.0
    message: str = ""


def solve_milp(problem: UepProblem) -> UepSolution:
    """Solve (29) exactly with ``scipy.optimize.milp`` (Alg. 3 line 14)."""
    import time

    from scipy.optimize import Bounds, LinearConstraint, milp

    cs, cn = problem.candidates
    ns, nn = problem.n_tokens
    dmin, dmax, tmin, tmax = problem.normalisation()
    sd, st = dmax - dmin + _eps(dmax), tmax - tmin + _eps(tmax)
    cand = list(cs) + list(cn)
    count = [ns] * len(cs) + [nn] * len(cn)
    # objective (29): linear in z once the constants D_min, T_min are dropped
    cost = np.array([problem.w_d * n * k.distortion / sd + problem.w_t * n * k.delay_s / st
                     for n, k in zip(count, cand)])
    rows, lo, hi = [], [], []
    if math.isfinite(problem.resource_budget):  # (29a)
        rows.append([n * k.resource for n, k in zip(count, cand)])
        lo.append(-np.inf)
        hi.append(problem.resource_budget)
    sel_s = [1.0] * len(cs) + [0.0] * len(cn)
    sel_n = [0.0] * len(cs) + [1.0] * len(cn)
    rows += [sel_s, sel_n]  # (29b)
    lo += [1, 1]
    hi += [1, 1]
    rows.append([k.bler if s else 0.0 for k, s in zip(cand, sel_s)])  # (29d)
    lo.append(-np.inf)
    hi.append(problem.bler_limits[0])
    rows.append([k.bler if s else 0.0 for k, s in zip(cand, sel_n)])  # (29e)
    lo.append(-np.inf)
    hi.append(problem.bler_limits[1])
    t0 = time.perf_counter()
    res = milp(cost, constraints=LinearConstraint(np.array(rows), lo, hi),
               integrality=np.ones(len(cand)), bounds=Bounds(0, 1))  # (29c)
    dt = time.perf_counter() - t0
    if res.status != 0 or res.x is None:
        return UepSolution("infeasible", None, None, solve_s=dt, message=str(res.message))
    x = np.round(res.x).astype(int)
    ks = int(np.argmax(x[: len(cs)]))
    kn = int(np.argmax(x[len(cs):]))
    d, t, r = problem.totals(ks, kn)
    return UepSolution("optimal", (ks, kn), problem.objective(ks, kn), d, t, r, dt, str(res.message))


def brute_force(problem: UepProblem) -> UepSolution:
    """Exhaustive search over all (k_s, k_n): the reference the MILP is tested against."""
    best = None
    for ks, kn in itertools.product(range(len(problem.candidates[0])), range(len(problem.candidates[1]))):
        if not problem.feasible(ks, kn):
            continue
        j = problem.objective(ks, kn)
        if best is None or j < best[0] - 1e-12:
            best = (j, ks, kn)
    if best is None:
        return UepSolution("infeasible", None, None)
    j, ks, kn = best
    d, t, r = problem.totals(ks, kn)
    return UepSolution("optimal", (ks, kn), j, d, t, r)
