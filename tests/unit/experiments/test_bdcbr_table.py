"""The report's BD-CBR table equals the `bjontegaard` package on the stored curves; disjoint curves get a bound."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.experiments.bdcbr import bd_cbr_table, bd_table_html, bd_table_markdown


def _rec(scheme, cbr, psnr, lpips, snr, valid=True, clip="a.mp4"):
    return {"scheme": scheme, "input": clip, "cbr": cbr, "valid": valid,
            "metrics": {"psnr": psnr, "lpips_alex": lpips}, "config": {"snr_db": snr}}


def _curves():
    rng = np.random.default_rng(3)
    recs = []
    for snr in (0.0, 6.0):
        for i, cbr in enumerate([1e-3, 2e-3, 4e-3, 8e-3]):
            base = 28 + 3 * i + snr / 3
            recs.append(_rec("h265", cbr, base, 0.4 - 0.06 * i, snr))
            recs.append(_rec("tok", cbr * 0.8, base + rng.normal(0, 0.3), 0.37 - 0.06 * i, snr))
    recs.append(_rec("tok", 2e-2, 60.0, 0.01, 0.0, valid=False))  # invalid points never count
    return recs


@pytest.mark.parametrize("metric", ["psnr", "lpips_alex"])
def test_table_equals_the_bjontegaard_package(metric):
    bd = pytest.importorskip("bjontegaard")
    recs = _curves()
    t = bd_cbr_table(recs, metric)
    assert t.columns == ("a.mp4 @ snr_db=0", "a.mp4 @ snr_db=6")
    for snr, col in ((0.0, t.columns[0]), (6.0, t.columns[1])):
        a = [r for r in recs if r["scheme"] == "h265" and r["config"]["snr_db"] == snr and r["valid"]]
        b = [r for r in recs if r["scheme"] == "tok" and r["config"]["snr_db"] == snr and r["valid"]]
        sign = 1.0 if metric == "psnr" else -1.0  # the package assumes higher-is-better quality
        ref = bd.bd_rate([r["cbr"] for r in a], [sign * r["metrics"][metric] for r in a],
                         [r["cbr"] for r in b], [sign * r["metrics"][metric] for r in b], method="akima")
        cell = t.rows["tok"][col]
        assert cell.value == pytest.approx(ref, rel=1e-3, abs=1e-6) and cell.bound is None and cell.points == (4, 4)
    assert "tok" in bd_table_markdown(t)


def test_too_few_points_is_na():
    recs = [r for r in _curves() if r["cbr"] < 5e-3]  # three rate points per curve
    t = bd_cbr_table(recs, "psnr")
    assert all(c.value is None and c.bound is None for c in t.rows["tok"].values())
    assert t.average("tok") is None and "n/a" in bd_table_markdown(t)


def test_disjoint_curves_carry_the_bound():
    """pvsc-small against h265 on bikes (session 15's held-out numbers): no overlap in LPIPS-vgg, so the cell is
    n/a with the bound the points imply — 1.63e-2 / 1.95e-3 = 8.4× the baseline's CBR at pvsc's best quality."""
    recs = []
    for cbr_h, lp_h, cbr_p, lp_p in ((1.95e-3, 0.313, 1.90e-3, 0.622), (4.89e-3, 0.188, 4.94e-3, 0.472),
                                     (9.76e-3, 0.133, 9.93e-3, 0.399), (1.98e-2, 0.091, 1.63e-2, 0.381)):
        recs.append({"scheme": "h265", "input": "bikes.mp4", "cbr": cbr_h, "valid": True, "metrics": {"lpips_vgg": lp_h}})
        recs.append({"scheme": "pvsc", "input": "bikes.mp4", "cbr": cbr_p, "valid": True, "metrics": {"lpips_vgg": lp_p}})
    t = bd_cbr_table(recs, "lpips_vgg")
    cell = t.rows["pvsc"]["bikes.mp4"]
    assert cell.value is None and cell.bound is not None and cell.bound.test_worse
    assert cell.bound.ratio == pytest.approx(1.63e-2 / 1.95e-3)
    assert str(cell) == "n/a (> +736 %)"
    assert "n/a (&gt; +736 %)" in bd_table_html(t) and "n/a (> +736 %)" in bd_table_markdown(t)
    # the bound is a statement about points: h265 over budget at its cheapest rate (cityCC0) leaves three, still
    # enough for it — 1.98e-2 / 4.98e-3 = 3.98× — where a BD-CBR would need four
    recs = [dict(r, over_budget=(r["scheme"] == "h265" and r["cbr"] < 2e-3)) for r in recs]
    cell = bd_cbr_table(recs, "lpips_vgg").rows["pvsc"]["bikes.mp4"]
    assert cell.points == (4, 3) and cell.bound is not None and cell.bound.ratio == pytest.approx(1.63e-2 / 4.89e-3)
