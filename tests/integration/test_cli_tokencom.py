"""`tokcom run --scheme tokencom` from the command line: result.json, recon and the intent pictures."""

from __future__ import annotations

import json

import cv2

from tests.integration.test_cli_run import tokcom


def test_tokencom_cli_run_writes_intent_pictures(tmp_path, sample_path):
    out = tmp_path / "tc"
    p = tokcom("run", "--scheme", "tokencom", "--input", sample_path, "--start", 192, "--frames", 9,
               "--size", "128x128", "--channel", "awgn", "--snr-db", 6, "--bandwidth-hz", 340000,
               "--intent-box", "32,4,125,100", "--out", out, "--json", "--metric", "psnr")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert json.loads((out / "result.json").read_text()) == res
    sr = res["scheme_report"]
    assert res["scheme"] == "tokencom" and res["valid"] and sr["uep"]["status"] == "optimal"
    assert {"psnr", "psnr_roi_in", "psnr_roi_out"} <= set(res["metrics"])
    for name in ("intent_first_frame", "intent_propagated", "intent_tokens"):
        img = cv2.imread(str(out / res["artifacts"][name]))
        assert img is not None and img.shape[2] == 3
    assert (out / "recon.mkv").is_file()
    # a text intent offline: one line, exit 2, suggests the box, nothing left behind
    bad = tmp_path / "bad"
    p = tokcom("run", "--scheme", "tokencom", "--input", sample_path, "--frames", 5, "--size", "64x64",
               "--channel", "awgn", "--intent", "a bicycle", "--out", bad)
    if p.returncode == 2:  # CLIP weights absent (the usual offline case)
        assert len(p.stderr.strip().splitlines()) == 1 and "--intent-box" in p.stderr
        assert not bad.exists()
