"""The report's BD-CBR table equals the `bjontegaard` package on the stored curves."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.experiments.report import bd_cbr_table, bd_table_markdown


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
    assert t["columns"] == ["a.mp4 @ snr_db=0", "a.mp4 @ snr_db=6"]
    for snr, col in ((0.0, t["columns"][0]), (6.0, t["columns"][1])):
        a = [r for r in recs if r["scheme"] == "h265" and r["config"]["snr_db"] == snr and r["valid"]]
        b = [r for r in recs if r["scheme"] == "tok" and r["config"]["snr_db"] == snr and r["valid"]]
        sign = 1.0 if metric == "psnr" else -1.0  # the package assumes higher-is-better quality
        ref = bd.bd_rate([r["cbr"] for r in a], [sign * r["metrics"][metric] for r in a],
                         [r["cbr"] for r in b], [sign * r["metrics"][metric] for r in b], method="akima")
        assert t["rows"]["tok"][col] == pytest.approx(ref, rel=1e-3, abs=1e-6)
    assert "tok" in bd_table_markdown(t)


def test_too_few_points_is_na():
    recs = [r for r in _curves() if r["cbr"] < 5e-3]  # three rate points per curve
    t = bd_cbr_table(recs, "psnr")
    assert all(v is None for v in t["rows"]["tok"].values())
