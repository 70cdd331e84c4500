"""The ``tvc`` scheme end to end with random weights: encode → link → decode, the bits against the entropy
models' estimates, the defined degradations (continuous stream only; GoP lost), one-line errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from tokcom.errors import InputError, WeightsUnavailable
from tokcom.link.base import build_link
from tokcom.schemes.base import build_scheme
from tokcom.types import Rate, Reception, Video


@pytest.fixture(scope="module")
def clip():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (1, 8, 8, 3)).astype(np.uint8)
    frames = np.repeat(np.repeat(np.repeat(base, 12, 0), 8, 1), 8, 2)  # 12 frames, 64 × 64 (two GoPs of 9)
    return Video(frames, 25.0, source="synthetic")


def test_end_to_end_random_weights(clip):
    from tokcom import simulate

    s = build_scheme("tvc", {"weights": "random", "gop": 9})
    r = simulate(s, clip, build_link("awgn", {"snr_db": 6.0}), 0)
    assert r.frames_decoded == 12
    sr = r.scheme_report
    assert sr["trained"] is False and sr["mask_rate"] == 1 - 8 / 17 and len(sr["gops"]) == 2  # eq. (1), interval 17
    assert [g["status"] for g in sr["gops_rx"]] == ["ok", "ok"]
    assert sr["source_bits"] == r.source_bits


def test_degradations(clip):
    s = build_scheme("tvc", {"weights": "random", "gop": 9})
    link = build_link("awgn", {"snr_db": 6.0})
    tx = s.encode(clip, link.state(clip.info, Rate()), np.random.default_rng(0))
    assert [p.stream for p in tx.packets] == ["continuous", "discrete"] * 2
    full = s.decode(Reception(clip.info, tx.packets), np.random.default_rng(0))
    no_d = s.decode(Reception(clip.info, (tx.packets[0], None, tx.packets[2], None)), np.random.default_rng(0))
    assert [g.status for g in no_d.report.gops_rx] == ["continuous_only"] * 2 and no_d.frames_decoded == 12
    no_c = s.decode(Reception(clip.info, (tx.packets[0], tx.packets[1], None, tx.packets[3])),
                    np.random.default_rng(0))
    assert [g.status for g in no_c.report.gops_rx] == ["ok", "lost"] and no_c.frames_decoded == 9
    assert np.array_equal(no_c.video.frames[9:], np.repeat(full.video.frames[8:9], 3, 0))  # last frame repeated
    nothing = s.decode(Reception(clip.info, (None,) * 4), np.random.default_rng(0))
    assert nothing.frames_decoded == 0 and (nothing.video.frames == 128).all()


def test_rate_control_picks_per_gop_points_that_fit_the_budget(clip):
    from tokcom import simulate
    from tokcom.schemes.tvc.config import DEFAULT_MASK_INTERVAL, RATE_LADDER, visible_per_interval
    from tokcom.schemes.tvc.mask import mask_rate

    iv = DEFAULT_MASK_INTERVAL
    ladder = [(q, mask_rate(visible_per_interval(r, iv), iv)) for q, r in RATE_LADDER]  # effective rates

    link = build_link("awgn", {"snr_db": 6.0})
    s = build_scheme("tvc", {"weights": "random", "gop": 9})
    pixels = clip.info.num_frames * clip.info.height * clip.info.width * 3
    worst = 0
    for cbr in (1.0, 0.05, 0.02, 0.01, 1e-4):
        state = link.state(clip.info, Rate(cbr=cbr))
        tx = s.encode(clip, state, np.random.default_rng(0))
        rep = tx.report
        assert rep.rate_control == "ladder" and rep.channel_use_budget == state.channel_use_budget
        used = sum(g.channel_uses for g in rep.gops)
        assert used <= state.channel_use_budget  # the plan never exceeds the budget
        ranks = [ladder.index((g.quant_step, g.mask_rate)) for g in rep.gops if g.sent]
        assert all(r >= worst for r in ranks[:1])  # a tighter budget never picks a better first point
        worst = max([worst, *ranks[:1]])
        assert all(g.sent == (g.channel_uses > 0) for g in rep.gops)
        assert [p.stream for p in tx.packets].count("discrete") == sum(
            1 for g in rep.gops if g.sent and g.mask_rate < 1)  # mask rate 1: no discrete PDU
        r = simulate(s, clip, link, 0, rate=Rate(cbr=cbr))
        assert r.channel_uses <= cbr * pixels * 1.0 + 1e-9 and not r.over_budget
        if cbr == 1.0:
            assert ranks == [0, 0]  # everything fits: the best point
        if cbr == 1e-4:  # nothing fits: no GoP sent, nothing decoded (mid-grey)
            assert not any(g.sent for g in rep.gops) and r.frames_decoded == 0
    fixed = build_scheme("tvc", {"weights": "random", "gop": 9, "rate_control": "fixed", "quant_step": 2.0})
    rep = fixed.encode(clip, link.state(clip.info, Rate(cbr=0.02)), np.random.default_rng(0)).report
    assert rep.rate_control == "fixed" and {g.quant_step for g in rep.gops} == {2.0}
    with pytest.raises(InputError, match="rate-control"):
        build_scheme("tvc", {"weights": "random", "rate_control": "auto"})


def test_pipeline_record_and_report_hooks(clip):
    from tokcom import simulate
    from tokcom.schemes.tvc.scheme import TvcScheme

    r = simulate(build_scheme("tvc", {"weights": "random", "gop": 9}), clip, build_link("awgn", {"snr_db": 6.0}),
                 0, rate=Rate(cbr=0.05), metrics=["psnr"])
    assert r.channel_uses <= r.channel_use_budget and not r.over_budget
    rec = r.to_dict()
    assert rec["scheme_report"]["rate_control"] == "ladder"
    assert TvcScheme.summary(rec).startswith("ladder: Δ") and "untrained" in TvcScheme.curve_label(rec)
    assert "rate control per GoP" in TvcScheme.describe_record(rec) and "GoP 9" in TvcScheme.describe_record(rec)
    html = TvcScheme.report_sections([rec], None)
    assert "TVC operating point per GoP" in html and "Δ" in html and "ok" in html


def test_raw_index_ablation_and_other_ablations_run(clip):
    link = build_link("awgn", {"snr_db": 6.0})
    base = build_scheme("tvc", {"weights": "random", "gop": 9})
    raw = build_scheme("tvc", {"weights": "random", "gop": 9, "code_map": False, "mask_rate": 0.0})
    tx = raw.encode(clip, link.state(clip.info, Rate()), np.random.default_rng(0))
    assert all(g.d_bits_estimate is None for g in tx.report.gops)
    assert raw.decode(Reception(clip.info, tx.packets), np.random.default_rng(0)).frames_decoded == 12
    for opt in ({"cross_attention": False}, {"spatiotemporal": False}, {"fusion": False}):
        s = build_scheme("tvc", {"weights": "random", "gop": 9, **opt})
        t2 = s.encode(clip, link.state(clip.info, Rate()), np.random.default_rng(0))
        assert s.decode(Reception(clip.info, t2.packets), np.random.default_rng(0)).frames_decoded == 12
    assert base.weights() == {"tvc-small": "random-init"}


def test_missing_weights_and_bad_options_are_one_line(clip, tmp_path):
    s = build_scheme("tvc", {"model": "paper"})  # no paper-size weights are shipped
    with pytest.raises(WeightsUnavailable) as e:
        s.encode(clip, build_link("awgn", {"snr_db": 6.0}).state(clip.info, Rate()), np.random.default_rng(0))
    assert "\n" not in str(e.value) and "weights=random" in str(e.value)
    for bad in ({"gop": 10}, {"mask_rate": 1.5}, {"quant_step": 0}, {"model": "huge"}):
        with pytest.raises(InputError):
            build_scheme("tvc", bad)


def test_shipped_small_model_loads_pinned_and_beats_random(small_video):
    """The shipped tvc-small: sha256-checked, tokenizers pinned to the shipped ones, trained with bikes held
    out, and better than a random initialisation on real frames."""
    import json

    from tokcom import simulate
    from tokcom.schemes.tvc.scheme import WEIGHTS_DIR
    from tokcom.tokenizers.weights_io import WEIGHTS_DIR as TOK_DIR

    meta = json.loads((WEIGHTS_DIR / "tvc-small.json").read_text())
    assert (WEIGHTS_DIR / "tvc-small.safetensors").stat().st_size <= 20 * 2**20
    assert "bikes.mp4" in meta["training"]["data"]["held_out"]
    for name, sha in meta["tokenizers"].items():
        assert json.loads((TOK_DIR / f"{name}.json").read_text())["sha256"] == sha
    s = build_scheme("tvc", {"gop": 17})
    assert s.weights()["tvc-small"] == meta["sha256"] and s.weights()["tokcom-cv8x16x16"]
    clip = small_video.with_frames(small_video.frames[:17])
    link = build_link("awgn", {"snr_db": 10.0})
    r = simulate(s, clip, link, 0, metrics=["psnr"])
    rr = simulate(build_scheme("tvc", {"gop": 17, "weights": "random"}), clip, link, 0, metrics=["psnr"])
    assert r.scheme_report["trained"] and r.frames_decoded == 17
    assert r.metrics["psnr"] > rr.metrics["psnr"] + 5


def test_import_tokcom_stays_light():
    code = ("import sys, tokcom, tokcom.schemes; from tokcom.registry import SCHEMES; SCHEMES.get('tvc');"
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cosmos_tokenizers_with_standins(tmp_path):
    """tokenizers=cosmos: the Cosmos pair (TorchScript stand-ins with the published signatures) under the same
    streams, predictor and a pixel-level control branch; missing Cosmos files are a one-line error."""
    from tokcom import simulate
    from tokcom.schemes.tvc.trainable import TvcTrainable
    from tokcom.testing.cosmos import write_standins

    dv = write_standins(tmp_path / "dv", "DV8x16x16")
    cv = write_standins(tmp_path / "cv", "CV8x16x16")
    opts = {"weights": "random", "gop": 9, "tokenizers": "cosmos", "cosmos_dv": str(dv), "cosmos_cv": str(cv)}
    clip = Video(np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None, None], 9, 0).repeat(64, 2)
                 .repeat(3, 3), 25.0)
    s = build_scheme("tvc", opts)
    assert s.weights() == {"tvc-small-cosmos": "random-init"}
    r = simulate(s, clip, build_link("awgn", {"snr_db": 6.0}), 0, rate=Rate(cbr=0.05), metrics=["psnr"])
    assert r.frames_decoded == 9 and r.metrics["psnr"] > 10  # the stand-in DV decoder's picture
    model, _ = s.model()
    assert not any(k.startswith(("dv.", "cv.", "fusion._main")) for k in model.state_dict())
    tr = TvcTrainable("small", cosmos_dv=str(dv), cosmos_cv=str(cv), tokenizers="cosmos", tokenizer_width=8,
                      d_model=16, heads=2, depth=1, proj_width=8)
    groups = tr.parameter_groups()
    assert groups["tokenizers"] == [] and groups["decoder"] == [] and groups["control"]
    from tokcom.train.model import StepContext
    from tokcom.train.recipe import Stage

    batch = torch.rand(1, 3, 9, 64, 64) * 2 - 1
    for stage in ("ccm", "transformer", "pixel"):
        out = tr.training_step(batch, StepContext(Stage("s", 1, options={"stage": stage}), 0, 0,
                                                  torch.Generator().manual_seed(0), torch.device("cpu")))
        assert out.terms or out.recon is not None
    out.recon.abs().mean().backward()  # the pixel stage trains the control branch through its zero conv
    assert tr.model.fusion.zero[0].weight.grad is not None
    with pytest.raises(InputError, match="encoder.jit"):
        build_scheme("tvc", {**opts, "cosmos_dv": str(tmp_path / "none"), "seed": 1}).model()
