"""compute_metrics defaults, light imports, CLIP availability and the ``tokcom metrics`` command."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tokcom.metrics import compute_metrics, default_metrics
from tokcom.registry import METRICS


def test_import_does_not_load_torch():
    code = ("import sys, tokcom, tokcom.metrics, tokcom.models, tokcom.cli.models, tokcom.cli.metrics;"
            "bad = [m for m in ('torch', 'safetensors', 'open_clip', 'bjontegaard') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_registry_and_defaults():
    names = METRICS.list()
    for n in ("psnr", "psnr_y", "ssim", "ssim_gauss", "ms_ssim", "lpips_alex", "lpips_vgg", "dists", "fvd",
              "clip_score"):
        assert n in names
    d = default_metrics()
    assert {"psnr", "psnr_y", "ssim", "ms_ssim", "lpips_alex", "clip_score"} <= set(d)
    assert not {"fvd", "lpips_vgg", "dists", "ssim_gauss"} & set(d)  # opt in (docs/metrics.md)


def test_clip_reports_why(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path))
    a = np.zeros((1, 32, 32, 3), np.uint8)
    vals, un = compute_metrics(a, a, ["clip_score"])
    assert not vals and "\n" not in un["clip_score"]
    assert "open_clip" in un["clip_score"] or "tokcom models fetch clip-vit-b-32" in un["clip_score"]


def _write(path, frames):
    import av

    with av.open(str(path), "w") as o:
        s = o.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "bgr0"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                o.mux(p)
        for p in s.encode():
            o.mux(p)


def test_metrics_command(tmp_path):
    pytest.importorskip("tokcom.video")
    import typer
    from typer.testing import CliRunner

    from tokcom.cli.metrics import metrics_cmd

    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (3, 32, 48, 3), dtype=np.uint8)
    dist = np.clip(ref.astype(int) + rng.integers(-5, 6, ref.shape), 0, 255).astype(np.uint8)
    _write(tmp_path / "a.mkv", ref)
    _write(tmp_path / "b.mkv", dist)
    app = typer.Typer()
    app.command()(metrics_cmd)
    r = CliRunner().invoke(app, ["--ref", str(tmp_path / "a.mkv"), "--dist", str(tmp_path / "b.mkv"),
                                 "--metric", "psnr,ssim", "--metric", "fvd", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["frames"] == 3 and set(out["metrics"]) == {"psnr", "ssim"}
    assert "fvd" in out["metrics_unavailable"]
    err = ((ref.astype(float) - dist) ** 2).reshape(3, -1).mean(1)
    assert abs(out["metrics"]["psnr"] - np.mean(10 * np.log10(255 ** 2 / err))) < 1e-6
    r = CliRunner().invoke(app, ["--ref", str(tmp_path / "a.mkv"), "--dist", str(tmp_path / "b.mkv"),
                                 "--metric", "nope", "--json"])
    assert r.exit_code != 0 and "valid" in str(r.exception)


def test_direction_has_one_home():
    """Tables, plots and BD-rate read a metric's direction from its registered class; ROI variants follow
    their base metric (the report once called lpips_alex_roi_in higher-is-better)."""
    from tokcom.experiments.quality import quality_at_budget, winners_sentence
    from tokcom.metrics.base import higher_is_better

    for name in METRICS.list():
        assert higher_is_better(name) == METRICS.get(name).higher_is_better
        assert higher_is_better(name + "_roi_in") == higher_is_better(name + "_roi_out") == higher_is_better(name)
    assert higher_is_better("not_a_metric")
    recs = [{"scheme": s, "input": "a.mp4", "valid": True, "cbr": 0.01, "config": {"snr_db": 6.0, "cbr": 0.01},
             "metrics": {"lpips_alex_roi_in": v}} for s, v in (("h265", 0.2), ("pvsc", 0.4))]
    t = quality_at_budget(recs, "lpips_alex_roi_in")
    assert t.rows[0].winner.startswith("h265") and "(lower is better)" in winners_sentence(t)
