"""Sweeps end to end: a 24-point sweep killed with SIGKILL and resumed gives exactly the records of an
uninterrupted run; the Ray backend on a real local head gives the same records as the local pool."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

SPEC = """\
schemes: [h264, h265]
inputs: [{clip}]
size: 64x64
frames: 6
channels: [erasure]
pdu_loss: [0.0, 0.3, 0.6]
bitrate: [30000, 60000, 120000, 240000]
seeds: [1]
metrics: [psnr, ssim]
options: {{h264: {{preset: ultrafast}}, h265: {{preset: ultrafast}}}}
"""


def _cmd(*args) -> list[str]:
    return [sys.executable, "-m", "tokcom", *map(str, args)]


def _records(out: Path) -> dict[str, dict]:
    p = subprocess.run(_cmd("results", out, "--json"), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    recs = json.loads(p.stdout)
    for r in recs:
        r.pop("timing")  # wall-clock seconds: the only field that may differ between runs
    return {r["point_key"]: r for r in recs}


def _count(out: Path) -> int:
    db = out / "results.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(str(db), timeout=5) as c:
            return int(c.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory, sample_path):
    d = tmp_path_factory.mktemp("spec")
    f = d / "sweep.yaml"
    f.write_text(SPEC.format(clip=sample_path))
    return f


@pytest.fixture(scope="module")
def reference(spec_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "sweep"
    p = subprocess.run(_cmd("sweep", spec_file, "--out", out, "--workers", 2, "--no-preview"),
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    recs = _records(out)
    assert len(recs) == 24
    return recs


def test_sigkill_and_resume_gives_the_same_24_records(spec_file, reference, tmp_path):
    out = tmp_path / "sweep"
    kills = 0
    for target in (3, 9, 15):
        proc = subprocess.Popen(_cmd("sweep", spec_file, "--out", out, "--workers", 2, "--no-preview"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 300
        while _count(out) < target and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    assert kills >= 2, "the sweep finished before it could be killed: make it bigger"
    assert 0 < _count(out) < 24
    p = subprocess.run(_cmd("sweep", spec_file, "--out", out, "--workers", 2, "--no-preview"),
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "stored before" in p.stderr
    got = _records(out)
    assert len(got) == 24 and got.keys() == reference.keys()
    for k in reference:
        assert got[k] == reference[k], k


def test_ray_backend_gives_the_same_records(spec_file, reference, tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "sweep"
    p = subprocess.run(_cmd("sweep", spec_file, "--out", out, "--backend", "ray", "--workers", 2,
                            "--no-preview"), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    got = _records(out)
    assert got == reference


def test_results_csv_and_report(reference, spec_file, tmp_path):
    out = tmp_path / "sweep"
    p = subprocess.run(_cmd("sweep", spec_file, "--out", out, "--workers", 2), capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    csv_text = subprocess.run(_cmd("results", out, "--csv"), capture_output=True, text=True).stdout
    lines = csv_text.strip().splitlines()
    assert len(lines) == 25 and "metric_psnr" in lines[0]
    html = (out / "index.html").read_text()
    assert "<img" in html and "<video" in html
    assert (out / "bdcbr.md").is_file() and "h265" in (out / "bdcbr.md").read_text()
    assert list((out / "plots").glob("psnr_vs_cbr_*.png"))


def test_results_of_a_directory_without_results(tmp_path):
    p = subprocess.run(_cmd("results", tmp_path), capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("tokcom: error:")
