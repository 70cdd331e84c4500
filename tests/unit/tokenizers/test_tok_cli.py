"""`tokcom tokenizer eval --json` (CLI.md contract) and `tokcom tokenizer list`."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")
from typer.testing import CliRunner

from tokcom.cli.tokenizer import tokenizer_app


def test_list_json():
    r = CliRunner().invoke(tokenizer_app, ["list", "--json"])
    assert r.exit_code == 0
    assert {row["name"] for row in json.loads(r.output)} >= {"tokcom-dv4x8x8", "tokcom-resitok", "cosmos-cv8x16x16"}


def test_eval_dv_json(sample_path):
    r = CliRunner().invoke(tokenizer_app, ["eval", "--tokenizer", "tokcom-dv4x8x8", "--input", str(sample_path),
                                           "--size", "64x64", "--frames", "9", "--metric", "psnr,ssim", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["tokenizer"] == "tokcom-dv4x8x8" and out["bits_per_token"] == 16
    assert out["tokens"] == [3, 8, 8] and (out["frames"], out["width"], out["height"]) == (9, 64, 64)
    assert out["bpp"] == pytest.approx(3 * 8 * 8 * 16 / (9 * 64 * 64))
    assert set(out["metrics"]) == {"psnr", "ssim"} and out["encode_ms_per_frame"] > 0


def test_eval_resitok_prefix(sample_path):
    r = CliRunner().invoke(tokenizer_app, ["eval", "--tokenizer", "tokcom-resitok", "--input", str(sample_path),
                                           "--size", "64x64", "--frames", "2", "--prefix", "4,8,16",
                                           "--metric", "psnr", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["bits_per_token"] == 12 and out["tokens"] == [2, 4, 4] and out["tokens_per_frame"] == 16
    assert [p["k"] for p in out["prefix"]] == [4, 8, 16]
    assert out["prefix"][-1]["psnr"] == pytest.approx(out["metrics"]["psnr"], abs=1e-6)
