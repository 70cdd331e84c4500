"""The "quality at the budget" table: which runs count, who wins, and how the table prints."""

from __future__ import annotations

from tokcom.experiments.quality import (
    QualityTable,
    primary_metric,
    quality_at_budget,
    quality_table_html,
    quality_table_markdown,
    winners_sentence,
)


def rec(scheme, cbr_target, snr_db, metrics, *, valid=True, over=False, cbr=None, clip="a.mp4"):
    return {"scheme": scheme, "input": f"/x/{clip}", "valid": valid, "over_budget": over,
            "cbr": cbr_target * 0.98 if cbr is None else cbr, "config": {"snr_db": snr_db, "cbr": cbr_target},
            "metrics": metrics}


def test_only_valid_in_budget_runs_win_and_direction_follows_the_metric():
    recs = [
        rec("h265", 0.01, 6.0, {"lpips_vgg": 0.10, "psnr": 40.0}, valid=False),  # best score, but invalid
        rec("pvsc", 0.01, 6.0, {"lpips_vgg": 0.30, "psnr": 30.0}),
        rec("tvc", 0.01, 6.0, {"lpips_vgg": 0.20, "psnr": 35.0}, over=True),  # over budget: never wins
        rec("h265", 0.02, 6.0, {"lpips_vgg": 0.05, "psnr": 45.0}),
        rec("pvsc", 0.02, 6.0, {"lpips_vgg": 0.25, "psnr": 31.0}),
    ]
    t = quality_at_budget(recs, "lpips_vgg")
    assert isinstance(t, QualityTable) and t.metric == "lpips_vgg" and t.axes == ("snr_db", "cbr")  # a fixed condition is still named
    assert [r.key["cbr"] for r in t.rows] == [0.01, 0.02] and all(r.key["input"] == "a.mp4" for r in t.rows)
    assert [r.winner.split()[0] for r in t.rows] == ["pvsc", "h265"]
    assert not t.rows[0].cells[next(c for c in t.curves if c.startswith("h265"))].counts
    p = quality_at_budget(recs, "psnr")  # higher is better
    assert [r.winner.split()[0] for r in p.rows] == ["pvsc", "h265"]
    s = winners_sentence(t)
    assert s.startswith("On lpips_vgg (lower is better), ") and "wins 1 of 2 settings" in s
    assert "(higher is better)" in winners_sentence(p)


def test_a_setting_nobody_wins_is_said_and_marked():
    recs = [rec("h265", 0.002, -4.0, {"lpips_vgg": 0.5}, over=True),
            rec("pvsc", 0.002, -4.0, {"lpips_vgg": 0.7}, valid=False),
            rec("pvsc", 0.002, 6.0, {}, cbr=None)]  # a metric that was not measured
    t = quality_at_budget(recs, "lpips_vgg")
    assert t.axes == ("snr_db", "cbr") and [r.winner for r in t.rows] == [None, None]
    assert winners_sentence(t).endswith("no scheme wins any setting; no scheme is valid within the budget in 2.")
    md = quality_table_markdown(t)
    assert "0.5 @ 0.00196 ⚠" in md and "0.7 @ 0.00196 ✗" in md and "– @ 0.00196" in md and "**" not in md
    html = quality_table_html(t)
    assert html.count("<tr>") == 3 and 'class="bad"' in html and "<b>" not in html.split("</p>", 1)[1]


def test_empty_and_primary_metric():
    t = quality_at_budget([], "psnr")
    assert t.rows == () and winners_sentence(t) == "" and quality_table_html(t) == ""
    assert primary_metric([rec("h265", 0.01, 6.0, {"psnr": 30.0, "dists": 0.2})]) == "dists"
    assert primary_metric([rec("h265", 0.01, 6.0, {"ssim": 0.9})]) == "ssim"
    assert primary_metric([]) is None
