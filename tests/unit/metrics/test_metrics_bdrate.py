"""BD-rate / BD-quality against the ``bjontegaard`` package, and lower-is-better metrics."""

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.metrics.bdrate import RDCurve, bd_quality, bd_rate, bd_rate_bound, curve_from_results

bd = pytest.importorskip("bjontegaard")

# CBR-vs-metric curves shaped like the papers' (PSNR in dB, LPIPS lower is better).
CBR_A = [1e-4, 2e-4, 4e-4, 8e-4]
PSNR_A = [24.1, 26.3, 28.2, 29.9]
CBR_B = [0.8e-4, 1.7e-4, 3.5e-4, 7.5e-4]
PSNR_B = [24.6, 26.9, 28.8, 30.4]
LPIPS_A = [0.52, 0.41, 0.33, 0.27]
LPIPS_B = [0.47, 0.36, 0.29, 0.24]


@pytest.mark.parametrize("method", ["akima", "pchip"])
def test_bd_rate_equals_package(method):
    mine = bd_rate((CBR_A, PSNR_A), (CBR_B, PSNR_B), "psnr", method=method)
    ref = bd.bd_rate(CBR_A, PSNR_A, CBR_B, PSNR_B, method=method, min_overlap=0)
    assert abs(mine - ref) < 0.1 and mine < 0  # B saves rate
    q = bd_quality((CBR_A, PSNR_A), (CBR_B, PSNR_B), "psnr", method=method)
    assert abs(q - bd.bd_psnr(CBR_A, PSNR_A, CBR_B, PSNR_B, method=method, min_overlap=0)) < 1e-9 and q > 0


@pytest.mark.parametrize("method", ["akima", "pchip"])
def test_lower_is_better_metric(method):
    # the package asserts on a falling quality axis; tokcom negates, which leaves BD-rate unchanged
    with pytest.raises(AssertionError):
        bd.bd_rate(CBR_A, LPIPS_A, CBR_B, LPIPS_B, method=method, min_overlap=0)
    mine = bd_rate((CBR_A, LPIPS_A), (CBR_B, LPIPS_B), "lpips_alex", method=method)
    neg = bd.bd_rate(CBR_A, [-x for x in LPIPS_A], CBR_B, [-x for x in LPIPS_B], method=method, min_overlap=0)
    assert abs(mine - neg) < 0.1 and mine < 0  # B: lower LPIPS at every rate → saves rate
    # the same number from an independent route: integrate log10 rate over LPIPS with scipy directly
    from scipy.interpolate import Akima1DInterpolator, PchipInterpolator

    I = Akima1DInterpolator if method == "akima" else PchipInterpolator
    lo, hi = max(min(LPIPS_A), min(LPIPS_B)), min(max(LPIPS_A), max(LPIPS_B))
    fa = I(LPIPS_A[::-1], np.log10(CBR_A)[::-1])
    fb = I(LPIPS_B[::-1], np.log10(CBR_B)[::-1])
    avg = (fb.integrate(lo, hi) - fa.integrate(lo, hi)) / (hi - lo)
    assert abs(mine - 100 * (10 ** avg - 1)) < 0.1
    q = bd_quality((CBR_A, LPIPS_A), (CBR_B, LPIPS_B), "lpips_alex", method=method)
    assert q < 0  # test − anchor in LPIPS: negative = better
    assert abs(q + bd.bd_psnr(CBR_A, [-x for x in LPIPS_A], CBR_B, [-x for x in LPIPS_B], method=method,
                              min_overlap=0)) < 1e-9


def test_order_of_points_and_flag():
    a = bd_rate(list(zip(CBR_A, LPIPS_A))[::-1], list(zip(CBR_B, LPIPS_B)), False)
    b = bd_rate((CBR_A, LPIPS_A), (CBR_B, LPIPS_B), "dists")
    assert abs(a - b) < 1e-9
    assert abs(bd_rate((CBR_A, PSNR_A), (CBR_A, PSNR_A))) < 1e-9


def test_identity_and_errors():
    with pytest.raises(InputError):
        RDCurve.of(([1e-4], [20.0]))
    with pytest.raises(InputError):
        bd_rate((CBR_A, [1, 1, 2, 3]), (CBR_B, PSNR_B))
    with pytest.raises(InputError):
        bd_rate((CBR_A, PSNR_A), (CBR_B, PSNR_B), method="linear")


def test_curve_from_results():
    recs = [{"cbr": c, "valid": True, "metrics": {"lpips_alex": v}} for c, v in zip(CBR_A, LPIPS_A)]
    recs.append({"cbr": 1e-5, "valid": False, "metrics": {"lpips_alex": 0.9}})
    c = curve_from_results(recs, "lpips_alex")
    assert c.rate == tuple(CBR_A) and c.quality == tuple(LPIPS_A)


def test_bound_when_the_quality_ranges_do_not_overlap():
    """Disjoint quality ranges have no BD-rate; the bound is the worse curve's best point against the better
    curve's cheapest (its worst) point, in both metric directions and both orders of the curves."""
    anchor_lpips = ([2e-3, 5e-3, 1e-2, 2e-2], [0.31, 0.19, 0.13, 0.09])
    test_lpips = ([2e-3, 5e-3, 1e-2, 1.6e-2], [0.62, 0.47, 0.40, 0.38])
    assert np.isnan(bd_rate(anchor_lpips, test_lpips, "lpips_vgg"))
    b = bd_rate_bound(anchor_lpips, test_lpips, "lpips_vgg")
    assert b is not None and b.test_worse
    assert b.ratio == pytest.approx(1.6e-2 / 2e-3) and b.quality == pytest.approx(0.38)
    assert b.percent == pytest.approx(700.0) and str(b) == "> +700 %"
    m = bd_rate_bound(test_lpips, anchor_lpips, "lpips_vgg")  # the mirror: the test is better everywhere
    assert m is not None and not m.test_worse and m.ratio == pytest.approx(2e-3 / 1.6e-2) and str(m) == "< -88 %"
    # the same in PSNR (higher is better): 33 dB at 2e-3 beats 28 dB at 1.6e-2
    p = bd_rate_bound(([2e-3, 4e-3, 8e-3, 1.6e-2], [33, 36, 39, 42]), ([2e-3, 4e-3, 8e-3, 1.6e-2], [15, 22, 26, 28]),
                      "psnr")
    assert p is not None and p.test_worse and p.ratio == pytest.approx(8.0)


def test_no_bound_when_the_ranges_overlap_or_the_points_say_nothing():
    assert bd_rate_bound((CBR_A, PSNR_A), (CBR_B, PSNR_B), "psnr") is None  # overlapping: BD-rate exists
    # disjoint but the worse curve's best point is cheaper than the better curve's cheapest: no bound
    assert bd_rate_bound(([1e-2, 2e-2, 4e-2, 8e-2], [40, 42, 44, 46]), ([1e-3, 2e-3, 4e-3, 8e-3], [20, 24, 27, 30]),
                         "psnr") is None
