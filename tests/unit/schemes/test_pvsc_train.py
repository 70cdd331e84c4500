"""PVSC on the training engine (002_165f6aebfafa3581.txt §III-D, §IV-A): parameter groups, the recipes'
stages and weights, a 2-step run of every stage through the engine, the export loaded by the scheme."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tokcom.train.recipe import TRAINABLE, Recipe


def _fake_nets(kind, device):
    """Randomly initialised perceptual networks (no cached weights needed)."""
    from tokcom.metrics import _nets

    torch.manual_seed(1)
    net = _nets.LPIPSNet("alex" if "alex" in kind else "vgg") if kind.startswith("lpips") else _nets.DISTSNet()
    return net.to(device).eval()


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    import cv2

    d = tmp_path_factory.mktemp("pvsc_stills")
    rng = np.random.default_rng(0)
    for i in range(2):
        small = rng.integers(0, 255, (10, 10, 3), dtype=np.uint8)
        cv2.imwrite(str(d / f"im{i}.png"), cv2.resize(small, (96, 96), interpolation=cv2.INTER_CUBIC))
    return d


def test_recipes_follow_the_paper():
    from tokcom.train.model import check_groups

    paper = TRAINABLE.get("pvsc-paper").recipe("default")
    small = TRAINABLE.get("pvsc-small").recipe("default")
    for r in (paper, small):
        assert [s.name for s in r.stages] == ["ideal-noise", "ideal-ste-gan", "channel", "joint", "distill"]
        assert r.betas == (0.9, 0.999)
        s1, s2, s3, s4, s5 = r.stages
        assert s1.freeze == s2.freeze == ("f_tx", "f_rx") and s3.train == ("f_tx", "f_rx")
        assert dict(s1.options)["quantization"] == "noise" and dict(s2.options)["quantization"] == "ste"
        assert dict(s3.options)["rate_set"] == "overcomplete" and dict(s5.options)["rate_set"] == "distilled"
        assert dict(s3.options)["snr_db"] == 10.0 and dict(s3.options)["channel"] == "awgn"  # AWGN 10 dB first
        assert not s1.gan and s2.gan and s4.gan and s5.gan
        frames = [s.frames for s in r.stages]
        assert frames == sorted(frames) and frames[0] == 2  # GOP-length curriculum
        assert s4.lr < s3.lr  # joint fine-tune at a lower lr
    w = paper.stages[3].loss_weights  # λ_rec 1.0, λ_per 0.8, λ_adv 0.1 over the three reconstructions
    for p in ("", "ideal.", "tx."):
        assert (w[f"{p}l1"], w[f"{p}lpips_vgg"], w[f"{p}gan"]) == (1.0, 0.8, 0.1)
    assert w["rate"] == 1.0 and paper.stages[3].lr == 1e-5 and paper.stages[0].lr == 1e-4
    m = TRAINABLE.get("pvsc-small").build({})
    groups = check_groups(m)
    assert set(groups) == {"analysis", "context", "entropy", "synthesis", "quality", "f_tx", "f_rx"}
    assert all(groups.values())
    assert m.describe()["params_distilled"] < m.describe()["params_training"]
    for name in ("pvsc-small", "pvsc-paper"):  # the multi-SNR fine-tune: F_tx/F_rx, then all at a lower lr
        ch, joint = TRAINABLE.get(name).recipe("multisnr").stages
        assert ch.train == ("f_tx", "f_rx") and not joint.train and joint.lr < ch.lr and not (ch.gan or joint.gan)
        for st in (ch, joint):
            o = dict(st.options)
            assert list(o["snr_db"]) == [-4.0, 14.0] and o["rate_set"] == "distilled" and o["branch"] == "full"
        # the symbol coder alone over the SNRs and rate control's rungs, the presets at η on half the steps
        (cr,) = TRAINABLE.get(name).recipe("multisnr-channel-rungs").stages
        o = dict(cr.options)
        assert cr.train == ("f_tx", "f_rx") and not cr.gan and cr.reset_optimizer
        assert o["quality"] == "uniform" and list(o["eta_scale"]) == [0.125, 1.0] and o["preset_fraction"] == 0.5
        assert list(o["snr_db"]) == [-4.0, 14.0] and o["rate_set"] == "distilled"
        assert set(dict(cr.losses)) == set(dict(ch.losses))  # x̂ and x̂^tx pairs + rate, like stage 2


def test_every_stage_runs_two_steps_and_exports(tmp_path, stills):
    from tokcom.schemes.base import build_scheme
    from tokcom.train.engine import RunConfig, Trainer

    spec = TRAINABLE.get("pvsc-small")
    base = spec.recipe("default")
    export = None
    for i, stage in enumerate(base.stages):
        st = replace(stage, steps=2, frames=min(stage.frames, 3), gan_start=0, warmup=1)
        out = tmp_path / f"s{i}"
        res = Trainer(RunConfig(model="pvsc-small", data=(str(stills),), out=str(out), recipe=Recipe(stage.name, (st,)),
                                batch=1, crop=64, threads=1, log_every=1, ckpt_every=100,
                                init_from=str(export) if export else ""), net_loader=_fake_nets).fit()
        assert res.status == "done" and res.steps == 2
        log = [json.loads(x) for x in (out / "train.log").read_text().splitlines() if '"step"' in x]
        assert len(log) == 2 and all(np.isfinite(r["loss"]) for r in log)
        assert {"rate", "cbr", "bits_z", "k_mean"} <= set(log[-1])
        if stage.name.startswith("ideal"):
            assert "psnr_rx" not in log[-1]
        else:
            assert {"psnr_rx", "psnr_tx", "tx.l1"} <= set(log[-1])
        if stage.gan:
            assert "disc" in log[-1] and "gan" in log[-1]
        export = res.export
    meta = json.loads(export.with_suffix(".json").read_text())
    assert meta["arch"]["name"] == "small" and meta["training"]["steps"] == 2 and meta["sha256"]
    from safetensors.torch import load_file

    heads = {k.split(".heads.")[1].split(".")[0] for k in load_file(str(export)) if ".heads." in k}
    assert heads == {f"k{r}" for r in meta["arch"]["rates"]}  # rate-set distillation at export
    s = build_scheme("pvsc", {"weights": str(export)})
    _, info = s.model()
    assert info["trained"] and s.weights()["pvsc-small"] == meta["sha256"]
    # the multi-SNR fine-tunes (the shipped model's last steps) start from an export: distilled heads only
    stages = (*spec.recipe("multisnr").stages, *spec.recipe("multisnr-joint").stages,
              *spec.recipe("multisnr-joint-vgg").stages, *spec.recipe("multisnr-channel-rungs").stages)
    for i, stage in enumerate(stages):
        st = replace(stage, steps=2, frames=min(stage.frames, 3), warmup=1)
        out = tmp_path / f"m{i}"
        res = Trainer(RunConfig(model="pvsc-small", data=(str(stills),), out=str(out), recipe=Recipe(stage.name, (st,)),
                                batch=1, crop=64, threads=1, log_every=1, ckpt_every=100, init_from=str(export)),
                      net_loader=_fake_nets).fit()
        assert res.status == "done" and res.steps == 2
        log = [json.loads(x) for x in (out / "train.log").read_text().splitlines() if '"step"' in x]
        assert all(-4 <= r["snr_db"] <= 14 for r in log) and "psnr_rx" in log[-1] and "gan" not in log[-1]
        terms = dict(stage.losses)
        assert set(terms) <= set(log[-1])  # every term of eq. (27) the stage weighs is computed
        if stage.name.endswith("-vgg"):  # LPIPS-VGG on the main pair x̂ only
            assert {"lpips_vgg", "tx.lpips_alex", "ideal.lpips_alex"} <= set(terms) and "lpips_alex" not in terms
        export = res.export
    # the adversarial fine-tune: a fresh discriminator learns before x̂ (only) gets the hinge term
    gan = spec.recipe("multisnr-joint-gan")
    assert [s.gan for s in gan.stages] == [True, True] and gan.total_steps == 3000
    log, _ = _two_steps_per_stage(gan, tmp_path / "gan", stills, export, batch=1)
    assert all("disc" in r for r in log)  # the discriminator trains in both stages
    assert [("gan" in r) for r in log] == [False, False, True, True]
    assert not any(k.endswith(".gan") for k in gan.stages[1].loss_weights)  # on x̂ only
    # the same over rate control's operating points: interpolated qualities and lowered η, drawn per clip / step
    rungs = spec.recipe("multisnr-rungs")
    assert [s.gan for s in rungs.stages] == [True, True]
    opts = [dict(s.options) for s in rungs.stages]
    assert all(o["quality"] == "uniform" and list(o["eta_scale"]) == [0.125, 1.0] for o in opts)
    log, rungs_export = _two_steps_per_stage(rungs, tmp_path / "rungs", stills, export, batch=2)
    scales = [r["eta_scale"] for r in log]
    assert all(0.125 <= v <= 1 for v in scales) and len(set(scales)) == 4  # a fresh factor per step
    assert any(not float(r["quality"]).is_integer() for r in log)  # qualities between the presets
    # the mix: the same stages with the presets at η on half the steps
    mix = spec.recipe("multisnr-rungs-mix")
    assert [dict(s.options) for s in mix.stages] == [{**o, "preset_fraction": 0.5} for o in opts]
    assert [(s.steps, s.gan, dict(s.losses)) for s in mix.stages] == [(s.steps, s.gan, dict(s.losses))
                                                                     for s in rungs.stages]
    # the export records the largest factor on η the run trained (rate control's rungs above the top preset)
    assert json.loads(rungs_export.with_suffix(".json").read_text())["arch"]["eta_top"] == 1.0
    # wide: the mix with η up to 2.5 × on the rung steps
    wide = spec.recipe("multisnr-rungs-wide")
    assert [dict(s.options) for s in wide.stages] == [{**o, "eta_scale": [0.125, 2.5]} for o in
                                                      (dict(s.options) for s in mix.stages)]
    short = replace(wide, stages=tuple(replace(s, options={**dict(s.options), "preset_fraction": 0.0})
                                       for s in wide.stages))
    log, wide_export = _two_steps_per_stage(short, tmp_path / "wide", stills, export, batch=1)
    assert all(0.125 <= r["eta_scale"] <= 2.5 for r in log)
    assert json.loads(wide_export.with_suffix(".json").read_text())["arch"]["eta_top"] == 2.5
    _, info = build_scheme("pvsc", {"weights": str(wide_export)}).model()
    assert info["arch"].eta_top == 2.5


def _two_steps_per_stage(recipe, out, stills, export, batch: int) -> tuple[list[dict], Path]:
    """Run a two-stage fine-tune recipe for 2 + 2 steps from ``export``; its step log records and its export."""
    from tokcom.train.engine import RunConfig, Trainer

    short = replace(recipe, stages=tuple(replace(s, steps=2, frames=min(s.frames, 3), warmup=1) for s in recipe.stages))
    res = Trainer(RunConfig(model="pvsc-small", data=(str(stills),), out=str(out), recipe=short, batch=batch, crop=64,
                            threads=1, log_every=1, ckpt_every=100, init_from=str(export)), net_loader=_fake_nets).fit()
    assert res.status == "done" and res.steps == 4
    return [json.loads(x) for x in (out / "train.log").read_text().splitlines() if '"step"' in x], res.export


def test_omega_weights_each_clips_distortion_gradient():
    """eq. (27): a batch of mixed presets gets Σ_b ω_b D_b's gradient through the engine's batch-mean L1;
    the values are unchanged."""
    from tokcom.schemes.pvsc.trainable import omega_weighted

    torch.manual_seed(0)
    p = torch.randn(3, 2, 4, requires_grad=True)
    target = torch.zeros(3, 2, 4)
    omega = torch.tensor([0.001, 0.42, 0.88])
    rec = omega_weighted(p * 2, omega)
    assert torch.equal(rec.detach(), (p * 2).detach())
    torch.nn.functional.l1_loss(rec, target).backward()
    got = p.grad.clone()
    p.grad = None
    per_clip = torch.stack([torch.nn.functional.l1_loss(p[b] * 2, target[b]) for b in range(3)])
    (omega * per_clip).mean().backward()
    assert torch.allclose(got, p.grad, atol=1e-7)
    assert got[0].abs().max() < 0.01 * got[2].abs().max()  # the ω = 0.001 clip barely pulls


def test_training_qualities_presets_or_uniform():
    from tokcom.errors import InputError
    from tokcom.schemes.pvsc.trainable import training_qualities

    g = torch.Generator().manual_seed(0)
    q = training_qualities(-1, 5, 300, g)
    assert q.dtype == torch.int64 and set(q.tolist()) == {0, 1, 2, 3, 4}
    assert training_qualities(2, 5, 3).tolist() == [2, 2, 2]
    u = training_qualities("uniform", 5, 400, g)
    assert torch.is_floating_point(u) and 0 <= float(u.min()) < 0.2 and 3.8 < float(u.max()) <= 4
    for bad in (5, "best", None):
        with pytest.raises(InputError):
            training_qualities(bad, 5, 2)


def test_clip_omegas_interpolate_geometrically_between_presets():
    from tokcom.schemes.pvsc.config import PAPER_OMEGAS
    from tokcom.schemes.pvsc.trainable import clip_omegas

    w = clip_omegas(PAPER_OMEGAS, torch.tensor([0, 3]))
    assert torch.allclose(w, torch.tensor([PAPER_OMEGAS[0], PAPER_OMEGAS[3]]))
    f = clip_omegas(PAPER_OMEGAS, torch.tensor([0.0, 0.5, 1.0, 3.25, 4.0]))
    want = [PAPER_OMEGAS[0], (PAPER_OMEGAS[0] * PAPER_OMEGAS[1]) ** 0.5, PAPER_OMEGAS[1],
            PAPER_OMEGAS[3] ** 0.75 * PAPER_OMEGAS[4] ** 0.25, PAPER_OMEGAS[4]]
    assert torch.allclose(f, torch.tensor(want), rtol=1e-5)


def test_training_eta_scale_is_a_factor_or_a_log_uniform_range():
    from tokcom.errors import InputError
    from tokcom.schemes.pvsc.trainable import training_eta_scale

    assert training_eta_scale(1.0) == 1.0 and training_eta_scale("0.5") == 0.5
    g = torch.Generator().manual_seed(0)
    draws = np.array([training_eta_scale([0.125, 1.0], g) for _ in range(600)])
    assert 0.125 <= draws.min() < 0.14 and 0.9 < draws.max() <= 1.0
    # log-uniform: as many draws per octave
    counts = [((draws >= lo) & (draws < 2 * lo)).sum() for lo in (0.125, 0.25, 0.5)]
    assert max(counts) - min(counts) < 70
    for bad in (0, -1, "x", [1.0, 0.5], [0, 1], [1], ["a", 1], [0.5, float("inf")], float("inf")):
        with pytest.raises(InputError):
            training_eta_scale(bad)


def test_preset_fraction_mixes_preset_steps_into_rung_steps():
    from tokcom.errors import InputError
    from tokcom.schemes.pvsc.trainable import rung_step_options

    rungs = ("uniform", [0.125, 1.0])
    assert rung_step_options(0.0, *rungs) == rungs  # default: the stage's own options on every step
    assert rung_step_options(1.0, *rungs) == (-1, 1.0)  # every step: a random preset per clip at η
    g = torch.Generator().manual_seed(0)
    picks = [rung_step_options(0.5, *rungs, g) for _ in range(400)]
    n_presets = sum(p == (-1, 1.0) for p in picks)
    assert 160 < n_presets < 240 and all(p in ((-1, 1.0), rungs) for p in picks)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert [rung_step_options(0.5, *rungs, g1) for _ in range(20)] == \
        [rung_step_options(0.5, *rungs, g2) for _ in range(20)]  # same seed, same steps
    for bad in (-0.1, 1.5, "half", None, float("nan")):
        with pytest.raises(InputError):
            rung_step_options(bad, *rungs)


def test_training_snr_option_is_a_value_or_a_range():
    from tokcom.errors import InputError
    from tokcom.schemes.pvsc.trainable import training_snr_db

    assert training_snr_db(10) == 10.0 and training_snr_db("6") == 6.0
    g = torch.Generator().manual_seed(0)
    draws = [training_snr_db([-4, 14], g) for _ in range(400)]
    assert -4 <= min(draws) < -2 and 12 < max(draws) <= 14  # uniform over the whole range
    assert training_snr_db((3, 3), g) == 3.0
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert training_snr_db([0, 1], g1) == training_snr_db([0, 1], g2)  # same seed, same SNR
    for bad in ([5, 1], [1, 2, 3], "loud", None):
        with pytest.raises(InputError):
            training_snr_db(bad, g)


def test_init_from_another_coder_width_starts_only_the_coder_fresh(capsys):
    """``--arch d_model=…`` with ``--init-from`` an export of another width: everything but F_tx / F_rx loads,
    the coder starts fresh (a note says so); a mismatch elsewhere is still a one-line error."""
    from tokcom.errors import InputError
    from tokcom.schemes.pvsc.trainable import PvscTrainable

    state = PvscTrainable("pvsc-small", "small").model.distilled_state()  # d_model 48
    wide = PvscTrainable("pvsc-small", "small", d_model=64)
    before = {k: v.clone() for k, v in wide.model.state_dict().items()}
    wide.load_weights(state, "src")
    assert "F_tx / F_rx have another shape" in capsys.readouterr().out
    after = wide.model.state_dict()
    rest = [k for k in state if ".f_tx." not in k and ".f_rx." not in k]
    assert len(rest) > 100 and all(torch.equal(after[k], state[k]) for k in rest)
    assert all(torch.equal(after[k], before[k]) for k in after if ".f_tx." in k or ".f_rx." in k)
    with pytest.raises(InputError, match="shapes differ"):
        PvscTrainable("pvsc-small", "small", width=64).load_weights(state, "src")
