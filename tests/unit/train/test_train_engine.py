"""The trainer: resume equality, wall-clock budget, SIGTERM, init-from lineage, run outputs."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import replace

import pytest
from train_testutil import PY, env_for_subprocess

torch = pytest.importorskip("torch")


def _losses(run) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in map(json.loads, (run / "train.log").read_text().splitlines()) if "step" in r}


def _cfg(stills, out, **kw):
    from tokcom.train.engine import RunConfig

    base = {"model": "toy-ae", "data": (str(stills),), "out": str(out), "steps": 8, "threads": 1, "log_every": 1,
            "ckpt_every": 100, "model_options": {"dropout": 0.2}}  # dropout uses the global RNG: checkpointed
    return RunConfig(**{**base, **kw})


def test_resume_gives_the_same_next_losses(tmp_path, stills):
    from tokcom.train.engine import Trainer

    a = Trainer(_cfg(stills, tmp_path / "a")).fit()
    assert a.status == "done" and a.steps == 8
    b1 = Trainer(_cfg(stills, tmp_path / "b", stop_after=3)).fit()
    assert b1.status == "paused" and b1.steps == 3
    st = torch.load(tmp_path / "b" / "ckpt" / "state.pt", weights_only=True)
    assert st["step"] == 3 and {"torch", "numpy", "python"} <= set(st["rng"]) and "opt" in st
    b2 = Trainer(_cfg(stills, tmp_path / "b")).fit()
    assert b2.status == "done" and b2.steps == 8
    la, lb = _losses(tmp_path / "a"), _losses(tmp_path / "b")
    assert sorted(lb) == list(range(1, 9))
    assert [lb[s] for s in range(4, 9)] == [la[s] for s in range(4, 9)]  # bit-for-bit on CPU
    # the outputs of a run: record (model-card material), plot, export
    rec = json.loads((tmp_path / "b" / "record.json").read_text())
    tr = rec["training"]
    assert (tr["steps"], tr["samples"], tr["status"], rec["arch"]["dropout"]) == (8, 32, "done", 0.2)
    assert {"hardware", "hours", "data", "losses", "recipe"} <= set(tr) and rec["final"]["step"] == 8
    assert (tmp_path / "b" / "loss.png").stat().st_size > 1000
    assert (tmp_path / "b" / "export" / "toy-ae.safetensors").is_file()


def test_budget_stop_leaves_a_usable_checkpoint(tmp_path, stills):
    from tokcom.train.engine import Trainer

    cfg = _cfg(stills, tmp_path / "s", steps=100000, max_minutes=0.5 / 60, budget="stop", ckpt_every=100000)
    r = Trainer(cfg).fit()
    assert r.status == "budget" and 0 < r.steps < 100000
    st = torch.load(tmp_path / "s" / "ckpt" / "state.pt", weights_only=True)
    assert st["step"] == r.steps
    r2 = Trainer(replace(cfg, max_minutes=0.0, steps=r.steps + 2)).fit()  # resumes where the budget stopped it
    assert r2.status == "done" and sorted(_losses(tmp_path / "s"))[-3:] == [r.steps, r.steps + 1, r.steps + 2]
    # anneal: the schedule runs to the deadline, then the run is complete
    a = Trainer(_cfg(stills, tmp_path / "an", steps=100000, max_minutes=0.5 / 60, log_every=1)).fit()
    assert a.status == "budget" and 0 < a.steps < 100000
    lrs = [r["lr"] for r in map(json.loads, (tmp_path / "an" / "train.log").read_text().splitlines()) if "step" in r]
    assert lrs[-1] < 0.3 * max(lrs)  # annealed towards min_lr by the deadline


def test_sigterm_checkpoints_and_exits_cleanly(tmp_path, stills):
    out = tmp_path / "sig"
    cmd = [PY, "-m", "tokcom", "train", "--model", "toy-ae", "--data", str(stills), "--out", str(out),
           "--steps", "1000000", "--log-every", "1", "--ckpt-every", "1000000", "--threads", "1"]
    p = subprocess.Popen(cmd, env=env_for_subprocess(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while time.time() - t0 < 60 and len(_losses(out) if (out / "train.log").is_file() else {}) < 3:
            time.sleep(0.2)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err[-2000:]
    log = [json.loads(x) for x in (out / "train.log").read_text().splitlines()]
    stop = [r for r in log if r.get("event") == "stop"]
    assert stop and stop[-1]["reason"] == "SIGTERM"
    st = torch.load(out / "ckpt" / "state.pt", weights_only=True)
    assert st["step"] == max(_losses(out)) == stop[-1]["at"]
    rec = json.loads((out / "record.json").read_text())
    assert rec["training"]["status"] == "SIGTERM" and (out / "export" / "toy-ae.safetensors").is_file()


def test_init_from_records_the_lineage(tmp_path, stills):
    from tokcom.errors import InputError
    from tokcom.train.engine import Trainer

    Trainer(_cfg(stills, tmp_path / "a", steps=2, model_options={})).fit()
    b = Trainer(_cfg(stills, tmp_path / "b", steps=1, model_options={}, init_from=str(tmp_path / "a"))).fit()
    c = Trainer(_cfg(stills, tmp_path / "c", steps=1, model_options={}, init_from=str(b.export))).fit()
    lin = json.loads((tmp_path / "c" / "record.json").read_text())["training"]["init_from"]
    assert lin["from"] == "toy-ae.safetensors" and lin["steps"] == 3
    with pytest.raises(InputError, match="do not fit"):
        Trainer(_cfg(stills, tmp_path / "d", steps=1, model_options={"width": 4}, init_from=str(c.export))).fit()


def test_loss_plot_panels(tmp_path):
    """The curves: loss terms, PSNR and other logs in their own panels; a run without records has none."""
    from tokcom.train.record import RunLog, _smooth, plot_losses

    assert _smooth([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0] and _smooth([1.0, 2.0], 1) == [1.0, 2.0]
    log = RunLog(tmp_path)
    assert plot_losses(log, tmp_path / "loss.png") is None
    log.write({"event": "stage", "at": 0, "stage": "a", "losses": {"l1": 1.0, "rate": 0.5}})
    for s in range(1, 40):
        log.write({"step": s, "stage": "a", "loss": 1 / s, "l1": 0.5 / s, "rate": 0.1, "psnr_rx": 20 + s / 10,
                   "bits_z": 100.0 - s, "lr": 1e-3})
    png = plot_losses(log, tmp_path / "loss.png", "t")
    import matplotlib.image as mpimg

    h, w = mpimg.imread(png).shape[:2]
    assert w == 640 and h > 2.6 * 3 * 100  # three panels
