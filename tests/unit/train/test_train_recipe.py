"""Recipes (stages, schedules, files), freezing, loss sets, the GAN, and the tokenizer adapters."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")

from tokcom.errors import InputError
from tokcom.train.recipe import TRAINABLE, Recipe, Stage, load_recipe


def test_stage_schedule_and_scaling():
    s = Stage("a", 100, lr=1.0, warmup=10, min_lr_ratio=0.1)
    assert s.lr_at(0, 0.0) == pytest.approx(0.1) and s.lr_at(9, 0.0) == pytest.approx(1.0)
    assert s.lr_at(50, 0.5) == pytest.approx(0.55) and s.lr_at(99, 1.0) == pytest.approx(0.1)
    assert Stage("c", 10, lr=2.0, warmup=0, schedule="constant").lr_at(5, 0.9) == 2.0
    r = Recipe("r", (Stage("a", 100), Stage("b", 200), Stage("c", 700)))
    assert [x.steps for x in r.with_steps(10).stages] == [1, 2, 7]
    assert [x.steps for x in r.with_steps(7).stages] == [1, 1, 5] and r.with_steps(7).total_steps == 7
    assert r.locate(0) == (0, 0.0) and r.locate(150) == (1, 0.25) and r.locate(1000) == (2, 1.0)
    assert [x.lr for x in Recipe("r", (Stage("a", 1, lr=1e-4), Stage("b", 1, lr=1e-5))).with_lr(1e-3).stages] == \
        pytest.approx([1e-3, 1e-4])
    with pytest.raises(InputError):
        Stage("bad", 10, schedule="linear")
    with pytest.raises(InputError):
        Recipe("empty", ())


def test_recipe_files_and_groups(tmp_path):
    pvsc_like = {"name": "pvsc-like", "betas": [0.9, 0.999], "stages": [
        {"name": "ideal", "steps": 40, "lr": 1e-4, "losses": {"l1": 1.0, "lpips_vgg": 0.8}, "freeze": ["encoder"],
         "options": {"quantization": "noise"}, "frames": 3},
        {"name": "joint", "steps": 10, "lr": 1e-5, "losses": {"l1": 1.0, "gan": 0.1}, "gan": True, "frames": 7}]}
    f = tmp_path / "r.json"
    f.write_text(json.dumps(pvsc_like))
    r = load_recipe(str(f), {})
    assert r.name == "pvsc-like" and r.betas == (0.9, 0.999) and r.uses_gan and r.total_steps == 50
    assert dict(r.stages[0].options) == {"quantization": "noise"} and r.stages[0].loss_weights["lpips_vgg"] == 0.8
    assert Recipe.from_dict(r.to_dict()) == r  # round trip; frozen and hashable
    hash(r)
    yaml = pytest.importorskip("yaml")
    y = tmp_path / "r.yaml"
    y.write_text(yaml.safe_dump(pvsc_like))
    assert load_recipe(str(y), {}) == r
    assert r.stages[0].trainable(["encoder", "decoder"]) == ["decoder"]
    assert Stage("x", 1, train=("decoder",)).trainable(["encoder", "decoder"]) == ["decoder"]
    with pytest.raises(InputError, match="unknown parameter groups"):
        Stage("x", 1, freeze=("f_tx",)).trainable(["encoder", "decoder"])
    with pytest.raises(InputError, match="unknown keys"):
        Recipe.from_dict({"stages": [{"steps": 1, "lr_max": 1}]})
    with pytest.raises(InputError, match="unknown recipe"):
        load_recipe("nope", {"default": r})


def test_frozen_groups_do_not_move_and_stage_geometry(tmp_path, stills):
    from safetensors.torch import load_file

    from tokcom.train.engine import RunConfig, Trainer
    from tokcom.train.toy import ToyAutoencoder

    recipe = TRAINABLE.get("toy-ae").recipe("two-stage").with_steps(2)  # 1 step decoder-only, 1 step joint
    cfg = RunConfig(model="toy-ae", data=(str(stills),), out=str(tmp_path / "r"), recipe=recipe, threads=1,
                    log_every=1, ckpt_every=100, stop_after=1)
    assert Trainer(cfg).fit().status == "paused"
    torch.manual_seed(0)
    init = ToyAutoencoder().state_dict()
    after = load_file(str(tmp_path / "r" / "ckpt" / "model.safetensors"))
    enc = [k for k in init if k.startswith("encoder")]
    dec = [k for k in init if k.startswith("decoder")]
    assert all(torch.equal(init[k], after[k]) for k in enc)
    assert not all(torch.equal(init[k], after[k]) for k in dec)
    Trainer(replace(cfg, stop_after=0)).fit()
    final = load_file(str(tmp_path / "r" / "ckpt" / "model.safetensors"))
    assert not all(torch.equal(after[k], final[k]) for k in enc)  # the joint stage trains the encoder
    log = [json.loads(x) for x in (tmp_path / "r" / "train.log").read_text().splitlines()]
    stages = [r for r in log if r.get("event") == "stage"]
    assert [(r["stage"], r["trainable"], r["geometry"]["frames"]) for r in stages] == \
        [("decoder", ["decoder"], 1), ("joint", ["decoder", "encoder"], 3)]
    assert [r["stage"] for r in log if "step" in r] == ["decoder", "joint"]
    assert "latent_l1" in [r for r in log if "step" in r][-1]


def _fake_nets(kind, device):
    from tokcom.metrics import _nets

    torch.manual_seed(1)
    net = _nets.LPIPSNet("alex") if kind.startswith("lpips") else _nets.DISTSNet()
    if kind == "dists":
        net.alpha.data.fill_(1.0)
        net.beta.data.fill_(1.0)
    return net.to(device).eval()


def test_loss_set_terms_and_gradients():
    from tokcom.train.gan import PatchDiscriminator, hinge_d_loss, hinge_g_loss
    from tokcom.train.losses import LossSet
    from tokcom.train.model import StepOutput

    x = torch.rand(2, 3, 2, 32, 32) * 2 - 1
    y = (x + 0.1 * torch.randn_like(x)).requires_grad_(True)

    def out_of(y):
        return StepOutput(recon=y, target=x, pairs={"prefix": (y * 0.5, x)}, terms={"rate": y.abs().mean()})

    out = out_of(y)
    ls = LossSet({"l1": 1.0, "mse": 2.0, "lpips_alex": 0.1, "dists": 0.1, "prefix.l1": 0.5, "rate": 0.01,
                  "gan": 0.1, "lpips_vgg": 0.0}, net_loader=_fake_nets)
    total, terms = ls(out)  # no discriminator yet: the gan term is left out
    assert "gan" not in terms and "lpips_vgg" not in terms and ls.uses_gan
    expect = terms["l1"] + 2 * terms["mse"] + 0.1 * terms["lpips_alex"] + 0.1 * terms["dists"] \
        + 0.5 * terms["prefix.l1"] + 0.01 * terms["rate"]
    assert float(total.detach()) == pytest.approx(float(expect), rel=1e-5)
    assert float(terms["loss"]) == pytest.approx(float(total.detach()))
    total.backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    disc = PatchDiscriminator()
    y.grad = None
    total, terms = ls(out_of(y), disc)
    total.backward()
    assert "gan" in terms and all(p.grad is None for p in disc.parameters())  # G term never trains D
    assert disc(torch.zeros(4, 3, 64, 64)).shape == (4, 1, 8, 8)
    assert float(hinge_d_loss(torch.full((3,), 2.0), torch.full((3,), -2.0))) == 0.0
    assert float(hinge_g_loss(torch.tensor([1.0, 3.0]))) == -2.0
    with pytest.raises(InputError, match="names no term"):
        LossSet({"l2": 1.0})(out)


def test_gan_stage_trains_the_discriminator(tmp_path, stills):
    from tokcom.train.engine import RunConfig, Trainer

    r = Recipe("gan", (Stage("g", 3, lr=1e-3, warmup=1, losses={"l1": 1.0, "gan": 0.1}, gan=True, gan_start=1),))
    res = Trainer(RunConfig(model="toy-ae", data=(str(stills),), out=str(tmp_path / "g"), recipe=r, threads=1,
                            log_every=1, ckpt_every=100)).fit()
    log = [json.loads(x) for x in (tmp_path / "g" / "train.log").read_text().splitlines() if '"step"' in x]
    assert "gan" not in log[0] and "disc" not in log[0] and {"gan", "disc"} <= set(log[1]) and res.steps == 3
    st = torch.load(tmp_path / "g" / "ckpt" / "state.pt", weights_only=True)
    assert "disc" in st and "dopt" in st
    with pytest.raises(InputError, match="gan: true"):
        bad = Recipe("bad", (Stage("s", 1, losses={"l1": 1.0, "gan": 0.1}),))
        Trainer(RunConfig(model="toy-ae", data=(str(stills),), out=str(tmp_path / "b"), recipe=bad)).fit()


def test_tokenizer_adapters(tmp_path, stills):
    from tokcom.tokenizers import load_tokenizer
    from tokcom.tokenizers.trainable import TokenizerTrainable
    from tokcom.train.engine import RunConfig, Trainer
    from tokcom.train.model import StepContext, check_groups

    for name in ("tokcom-dv4x8x8", "tokcom-dv8x16x16", "tokcom-resitok"):
        spec = TRAINABLE.get(name)
        assert {"default", "perceptual"} <= set(spec.recipes)
        m = TokenizerTrainable(name, {"width": 8, "dec_blocks": 1})
        groups = check_groups(m)
        assert set(groups) == {"encoder", "decoder"} and all(groups.values())
    m = TokenizerTrainable("tokcom-resitok", {"width": 8, "dec_blocks": 1})
    ctx = StepContext(spec.recipes["default"].stages[0], 0, 0, torch.Generator().manual_seed(0), torch.device("cpu"))
    out = m.training_step(torch.zeros(2, 3, 1, 32, 32), ctx)
    assert out.recon.shape == (2, 3, 32, 32) and set(out.pairs) == {"prefix"}
    assert {"prefix.l1", "prefix.mse"} <= set(spec.recipes["default"].stages[0].loss_weights)
    # the perceptual recipe: decoder only, LPIPS, then GAN (discriminator from the first step here)
    perc = spec.recipe("perceptual").with_steps(3)  # 1 lpips step, 2 adversarial steps
    perc = replace(perc, stages=(perc.stages[0], replace(perc.stages[1], gan_start=0)))
    res = Trainer(RunConfig(model="tokcom-resitok", data=(str(stills),), out=str(tmp_path / "p"), recipe=perc,
                            batch=1, crop=32, threads=1, log_every=1, model_options={"width": 8, "dec_blocks": 1}),
                  net_loader=_fake_nets).fit()
    meta = json.loads(res.export.with_suffix(".json").read_text())
    assert meta["training"]["recipe"] == "perceptual" and meta["training"]["losses"]["gan"] == 0.05
    log = [json.loads(x) for x in (tmp_path / "p" / "train.log").read_text().splitlines() if '"step"' in x]
    assert [r["stage"] for r in log] == ["lpips", "adversarial", "adversarial"]
    assert "lpips_alex" in log[0] and "disc" not in log[0] and "disc" in log[1]
    assert load_tokenizer("tokcom-resitok", path=str(res.export.parent)).reconstruct(
        torch.zeros(1, 3, 1, 32, 32)).shape == (1, 3, 1, 32, 32)


def test_real_perceptual_nets_give_gradients_when_cached():
    from tokcom.metrics.perceptual import weights_unavailable
    from tokcom.train.losses import PerceptualLoss

    if weights_unavailable("lpips-alex"):
        with pytest.raises(InputError, match="tokcom models fetch"):
            PerceptualLoss("lpips-alex")
        return
    loss = PerceptualLoss("lpips-alex")
    x = torch.rand(1, 3, 2, 32, 32) * 2 - 1
    y = x.flip(-1).clone().requires_grad_(True)
    d = loss(y, x)
    d.backward()
    assert float(d.detach()) > 0 and y.grad.abs().sum() > 0
