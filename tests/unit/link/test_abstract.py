"""Abstract PHY: shipped BLER table, gap model, MIESM, agreement with the bit-true PHY."""

import itertools

import numpy as np
import pytest

from tokcom.link import abstract
from tokcom.link import capacity as cap
from tokcom.link.mcs import mcs_table


def test_table_has_provenance_and_all_table1_rows():
    t = abstract.load_table()
    for key in ("generated_by", "sionna_version", "seed", "k", "max_blocks"):
        assert key in t
    labels = {c["label"] for c in t["curves"]}
    assert {f"table1-{i}" for i in range(29)} <= labels
    assert any(c["source"].startswith("sionna") for c in t["curves"])  # Sionna's shipped 256QAM curves
    for c in t["curves"]:
        if c["source"] == "tokcom":
            errs = [p[2] for p in c["points"]]
            assert max(errs) > 0 and min(errs) == 0  # walked through the waterfall


def test_bler_monotone_in_snr_rate_and_above_normal_approximation():
    snr = np.arange(-10.0, 30.0, 0.25)
    for m in mcs_table(1):
        b = abstract.bler(m.num_bits_per_symbol, m.coderate, snr, 1024)
        assert np.all(np.diff(b) <= 1e-12)
        assert b[0] > 0.99 and b[-1] < 1e-6
        lay_na = cap.normal_approx_bler(snr, 1032, 1032 / m.spectral_efficiency)
        assert np.all(b >= lay_na * 0.999 - 1e-15)
    # at a fixed SNR, BLER grows with spectral efficiency within the table
    at = [float(abstract.bler(m.num_bits_per_symbol, m.coderate, 8.0, 1024)) for m in mcs_table(1)]
    assert at[0] < 1e-6 and at[-1] > 0.99
    for q in (2, 4, 6):  # within a modulation, BLER grows with the code rate
        sub = [b for m, b in zip(mcs_table(1), at) if m.num_bits_per_symbol == q]
        assert all(b1 <= b2 + 1e-12 for b1, b2 in itertools.pairwise(sub))


def test_block_length_and_code_blocks():
    # longer blocks: steeper waterfall (lower BLER above the 50 % point), and C code blocks compound
    s = 2.0
    short = float(abstract.bler(2, 0.5, s, 256))
    long_ = float(abstract.bler(2, 0.5, s, 3824))
    assert long_ < short
    one = float(abstract.block_bler(2, 0.5, 1.5, 1000, 1000, 1))
    two = float(abstract.block_bler(2, 0.5, 1.5, 2000, 2000, 2))
    assert two == pytest.approx(1 - (1 - one) ** 2)


def test_miesm():
    # equal block SNRs map to themselves; spread SNRs map below their mean (concavity of MI)
    assert abstract.effective_snr_db(4, np.full(10, 7.0)) == pytest.approx(7.0, abs=0.05)
    eff = abstract.effective_snr_db(4, np.array([0.0, 14.0]))
    assert 0.0 < eff < 7.0
    rng = np.random.default_rng(0)
    snrs, w = abstract.fading_block_snrs_db(10.0, 1000, 10, None, rng)
    assert snrs.size == 100 and w.sum() == 1000
    good = abstract.fading_bler_mean(4, 0.5, 10.0, 1024, 1, -20.0, num_draws=100)
    bad = abstract.fading_bler_mean(4, 0.5, 10.0, 1024, 1, -10.0, num_draws=100)
    perfect = abstract.fading_bler_mean(4, 0.5, 10.0, 1024, 1, None, num_draws=100)
    assert perfect <= good < bad


@pytest.mark.slow
def test_abstract_matches_bit_true_within_factor_2():
    """Acceptance 3: QPSK/16QAM/64QAM, two code rates each, points with bit-true BLER in [1e-3, 0.5]."""
    pytest.importorskip("sionna")
    from tokcom.link.phy import simulate_bler

    k, nb = 1024, 500
    cases = [(2, 0.3), (2, 602 / 1024), (4, 0.5), (4, 616 / 1024), (6, 567 / 1024), (6, 772 / 1024)]
    checked = 0
    for qm, r in cases:
        # SNRs where the abstract model predicts 30 %, 8 % and 1.5 %
        grid = np.arange(-10, 30, 0.01)
        b = np.maximum(abstract.bler(qm, r, grid, k), 1e-300)
        snrs = [float(grid[np.argmin(np.abs(np.log(b) - np.log(t)))]) for t in (0.3, 0.08, 0.015)]
        pts = simulate_bler(qm, r, k, snrs, num_blocks=nb, seed=2024)
        for p in pts:
            if 1e-3 <= p["bler"] <= 0.5 and p["errors"] >= 5:
                a = float(abstract.bler(qm, r, p["snr_db"], k))
                print(f"Qm={qm} R={r:.4f} SNR={p['snr_db']:.2f} bit-true {p['bler']:.4f} ({p['errors']}/{p['blocks']}) "
                      f"abstract {a:.4f} ratio {a / p['bler']:.2f}")
                assert 0.5 <= a / p["bler"] <= 2.0, (qm, r, p, a)
                checked += 1
    assert checked >= 15
