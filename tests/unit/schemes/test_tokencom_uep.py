"""TokenCom UEP (Alg. 3): the MILP equals brute force over all class configurations (acceptance 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokcom.link.mcs import named_set
from tokcom.schemes.tokencom.uep import UepProblem, brute_force, make_candidates, solve_milp


def _random_problem(rng: np.random.Generator) -> UepProblem:
    mcs_s, mcs_n = named_set("tokencom-intended"), named_set("tokencom-nonintended")
    bits = sorted(rng.choice(np.arange(8, 17), size=int(rng.integers(1, 8)), replace=False).tolist())
    blers = {m: float(rng.choice([0.0, 1e-4, 3e-3, 0.02, 0.5, 1.0])) for m in (*mcs_s, *mcs_n)}
    kw = {"tokens_per_pdu": int(rng.integers(16, 1024)), "header_bits": int(rng.integers(0, 200)),
              "overhead": float(rng.uniform(0.5, 1.0)), "bandwidth_hz": float(rng.uniform(1e5, 2e6)),
              "bler_fn": lambda m, _k: blers[m], "alpha": float(rng.uniform(0.5, 2)), "beta": float(rng.uniform(0.05, 0.4))}
    cs = make_candidates((16,), mcs_s, **kw)
    cn = make_candidates(bits, mcs_n, **kw)
    ns, nn = int(rng.integers(1, 20000)), int(rng.integers(0, 20000))
    full = ns * max(k.resource for k in cs) + nn * max(k.resource for k in cn)
    budget = math.inf if rng.random() < 0.1 else float(rng.uniform(0.2, 1.1)) * full
    w = float(rng.uniform(0, 1))
    return UepProblem((ns, nn), (cs, cn), budget, w, 1 - w, (float(rng.choice([1e-3, 2e-3, 0.05])),
                                                            float(rng.choice([1e-2, 0.1, 0.6]))))


@pytest.mark.parametrize("seed", range(3))
def test_milp_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    infeasible = 0
    for _ in range(80):
        prob = _random_problem(rng)
        a, b = solve_milp(prob), brute_force(prob)
        assert a.status == b.status
        if b.status == "infeasible":
            infeasible += 1
            continue
        assert prob.feasible(*a.choice)
        assert a.objective == pytest.approx(b.objective, rel=1e-7, abs=1e-9)
        if a.choice != b.choice:  # only ties may differ
            assert prob.objective(*a.choice) == pytest.approx(prob.objective(*b.choice), abs=1e-9)
    assert infeasible < 80  # the instances are not all degenerate


def test_candidate_costs_follow_eqs_16_to_20():
    m = named_set("tokencom-nonintended")[2]  # 16QAM 1/2
    (k,) = make_candidates((12,), (m,), tokens_per_pdu=100, header_bits=96, overhead=0.85,
                           bandwidth_hz=2e5, bler_fn=lambda _m, bits: bits * 1e-6, alpha=1.0, beta=0.2)
    g = 0.85 * 4 * 0.5
    assert k.spectral_efficiency == pytest.approx(g)  # eq. (16)
    assert k.pdu_bits == 100 * 12 + 96 and k.bler == pytest.approx(1296e-6)  # eq. (17)
    assert k.resource == pytest.approx(1296 / g / 100)  # eqs. (18)-(19)
    assert k.delay_s == pytest.approx(1296 / g / 2e5 / 100)
    assert k.distortion == pytest.approx(math.exp(-0.2 * 12))  # eq. (20)


def test_infeasible_budget_is_reported():
    mcs = named_set("tokencom-intended")
    kw = {"tokens_per_pdu": 512, "header_bits": 96, "overhead": 0.85, "bandwidth_hz": 1e5, "bler_fn": lambda *_: 0.0}
    prob = UepProblem((1000, 1000), (make_candidates((16,), mcs, **kw), make_candidates((10,), mcs, **kw)), 10.0)
    sol = solve_milp(prob)
    assert sol.status == "infeasible" and sol.choice is None
