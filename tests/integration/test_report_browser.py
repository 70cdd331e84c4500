"""The HTML report renders in headless Chromium (Debian's chromium): no console messages, every image and
video loads, and a screenshot is kept in test-artifacts/ (or $TOKCOM_ARTIFACTS)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("TOKCOM_REQUIRE_CHROMIUM"):
            pytest.fail("TOKCOM_REQUIRE_CHROMIUM is set but no chromium is installed")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return exe


def test_demo_report_renders_in_chromium(tmp_path):
    exe = _chromium()
    out = tmp_path / "demo"
    p = subprocess.run([sys.executable, "-m", "tokcom", "demo", "--quick", "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    url = (out / "index.html").resolve().as_uri()
    dom = subprocess.run([exe, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [ln for ln in dom.stderr.splitlines() if ":CONSOLE" in ln]
    assert not console, console
    m = re.search(r'data-media="images (\d+)/(\d+), videos (\d+)/(\d+)"', dom.stdout)
    assert m, "the page's media self-check did not run"
    img_ok, img_n, vid_ok, vid_n = map(int, m.groups())
    assert img_n >= 2 and img_ok == img_n, m.group(0)
    assert vid_n >= 5 and vid_ok == vid_n, m.group(0)  # original + 4 reconstructions
    art = Path(os.environ.get("TOKCOM_ARTIFACTS", REPO / "test-artifacts"))
    art.mkdir(parents=True, exist_ok=True)
    shot = art / "demo-report.png"
    s = subprocess.run([exe, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1280,1800",
                        f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
    assert s.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000
