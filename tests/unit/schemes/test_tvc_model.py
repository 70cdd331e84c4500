"""TVC's predictor (§3.3, eq. 2/4), fusion decoder (§3.4) and the four training stages (§3.5) on tiny inputs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from tokcom.errors import InputError
from tokcom.schemes.tvc.config import FSQ_LEVELS, get_arch
from tokcom.schemes.tvc.model import TvcModel, codes_to_levels, levels_to_codes
from tokcom.schemes.tvc.nets import MaskedTokenPredictor

TINY = {"tokenizer_width": 8, "hyper_channels": 4, "hyper_hidden": 8, "ccm_hidden": 8, "d_model": 16, "heads": 2,
        "depth": 1, "proj_width": 8}


def _inputs(b=2, t=2, h=4, w=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    lv = torch.tensor(FSQ_LEVELS).view(1, -1, 1, 1, 1)
    k = (torch.rand(b, 6, t, h, w, generator=g) * lv).long().clamp_max(lv - 1)
    yc = torch.randn(b, 16, t, h // 2, w // 2, generator=g)
    yu = yc.repeat_interleave(2, 3).repeat_interleave(2, 4)
    return k, yc, yu


@pytest.mark.parametrize("head", ["factorized", "index"])
def test_predictor_shapes_nll_and_deterministic_decoding(head):
    torch.manual_seed(0)
    p = MaskedTokenPredictor(FSQ_LEVELS, 16, d_model=16, heads=2, depth=1, proj_width=8, head=head).eval()
    k, yc, yu = _inputs()
    vis = torch.rand(2, 2, 4, 6, generator=torch.Generator().manual_seed(1)) < 0.5
    logits = p(k, vis, yu, yc)
    assert logits.shape == (2, 2, 4, 6, 39 if head == "factorized" else 64000)
    nll = p.nll(logits, k, vis)
    assert nll.ndim == 0 and nll.item() > 0
    out = p.predict(k, vis, yu, yc, steps=3)
    assert out.shape == k.shape and torch.equal(out, p.predict(k, vis, yu, yc, steps=3))
    assert torch.equal(out.permute(1, 0, 2, 3, 4)[:, vis], k.permute(1, 0, 2, 3, 4)[:, vis])  # visible kept
    lv = torch.tensor(FSQ_LEVELS).view(1, -1, 1, 1, 1)
    assert bool(((out >= 0) & (out < lv)).all())
    # ablations run
    for kw in ({"cross_attention": False}, {"spatiotemporal": False}):
        q = MaskedTokenPredictor(FSQ_LEVELS, 16, d_model=16, heads=2, depth=1, proj_width=8, **kw)
        assert q(k, vis, yu, yc).shape[:4] == (2, 2, 4, 6)


def test_fusion_starts_as_the_discrete_decoder_and_control_changes_it_after_training():
    torch.manual_seed(0)
    m = TvcModel(get_arch("small", **TINY)).eval()
    k, _, yu = _inputs(b=1)
    codes = levels_to_codes(k, FSQ_LEVELS)
    with torch.no_grad():
        fused = m.fusion(codes, yu)
        plain = m.dv.decode_codes(codes)
        assert fused.shape == (1, 3, 9, 64, 96)
        assert torch.allclose(fused, plain, atol=1e-6)  # zero-initialised injections (ControlNet)
        for z in m.fusion.zero:
            z.weight.normal_(0, 0.1)
        assert not torch.allclose(m.fusion(codes, yu), plain, atol=1e-4)
    assert torch.equal(codes_to_levels(codes, FSQ_LEVELS), k)


def test_chunked_fusion_decoding_equals_the_whole_gop():
    """The receiver decodes a GoP a latent frame (or a few) at a time: the same pixels as all at once."""
    torch.manual_seed(0)
    m = TvcModel(get_arch("small", **TINY)).eval()
    k, _, yu = _inputs(b=1, t=3)
    codes = levels_to_codes(k, FSQ_LEVELS)
    with torch.no_grad():
        for z in m.fusion.zero:  # a trained-looking control branch, so both branches are chunked
            z.weight.normal_(0, 0.1)
        whole = m.fusion(codes, yu)
        assert whole.shape == (1, 3, 17, 64, 96)
        for pixels in (1, 8 * 64 * 96, 2 * 8 * 64 * 96):  # 1, 1 and 2 latent frames per chunk
            assert torch.allclose(m.fusion(codes, yu, chunk_pixels=pixels), whole, atol=1e-5)
        assert torch.allclose(m.fusion(codes, None, chunk_pixels=1), m.dv.decode_codes(codes), atol=1e-5)


def _ctx(stage_opts, step=0):
    from tokcom.train.model import StepContext
    from tokcom.train.recipe import Stage

    return StepContext(Stage("s", 1, options=stage_opts), step, 0, torch.Generator().manual_seed(step),
                       torch.device("cpu"))


def test_one_step_of_each_stage_runs_and_trains_only_its_groups():
    from tokcom.train.losses import LossSet
    from tokcom.train.model import check_groups
    from tokcom.train.recipe import TRAINABLE

    spec = TRAINABLE.get("tvc-small")
    r = spec.recipe("default")
    assert [s.name for s in r.stages] == ["ccm", "transformer", "pixel"]
    assert r.stages[0].loss_weights == {"rate_bpp": 1.0} and r.stages[1].loss_weights == {"nll": 1.0}
    assert set(r.stages[2].loss_weights) == {"l1", "lpips_alex"}  # the CPU config (docs/deviations.md)
    assert set(TRAINABLE.get("tvc-paper").recipe("default").stages[2].loss_weights) == {"l1", "lpips_vgg"}
    assert all("tokenizers" not in s.trainable(["tokenizers", "ccm", "transformer", "decoder", "control"])
               for s in r.stages)
    torch.manual_seed(0)
    model = spec.build(dict(TINY))
    groups = check_groups(model)
    assert set(groups) == {"tokenizers", "ccm", "transformer", "decoder", "control"}
    batch = torch.rand(1, 3, 9, 40, 56) * 2 - 1  # padded to 64 × 64 inside
    for stage, group, term in (("ccm", "ccm", "rate_bpp"), ("transformer", "transformer", "nll"),
                               ("pixel", "control", "l1")):
        model.zero_grad()
        out = model.training_step(batch, _ctx({"stage": stage}))
        if term in out.terms:
            loss = out.terms[term]
        else:  # eq. (5)'s L1 term as the engine computes it
            loss = LossSet({"l1": 1.0})(out)[0]
            assert out.recon.shape == out.target.shape == (1, 3, 9, 64, 64)
        assert torch.isfinite(loss)
        loss.backward()
        assert all(p.grad is None or not p.grad.abs().sum() for p in groups["tokenizers"])  # frozen tokenizers
        got = [p for p in groups[group] if p.grad is not None and p.grad.abs().sum() > 0]
        assert got, stage


def test_training_offsets_cover_the_position_rows_a_256px_frame_uses():
    from tokcom.schemes.tvc.nets import position_offset

    gen = torch.Generator().manual_seed(0)
    seen_h = set()
    for _ in range(200):
        oh, ow = position_offset((8, 8), 16, 2, gen)
        assert oh % 2 == 0 and ow % 2 == 0 and 0 <= oh <= 8 and 0 <= ow <= 8
        seen_h.update(range(oh, oh + 8))
    assert seen_h == set(range(16))  # every row of a 16×16 token grid is trained from 8×8 crops
    assert position_offset((20, 20), 16, 2, gen) == (0, 0)  # grids beyond the training range: no offset
    p = MaskedTokenPredictor(FSQ_LEVELS, 16, 32, 2, 1, 2.0, 16, max_grid=16)
    k = torch.zeros(1, 6, 1, 8, 8, dtype=torch.int64)
    vis = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    yu, yc = torch.randn(1, 16, 1, 8, 8), torch.randn(1, 16, 1, 4, 4)
    assert not torch.allclose(p(k, vis, yu, yc, (0, 0)), p(k, vis, yu, yc, (8, 8)))
    with pytest.raises(InputError, match="position tables"):
        p(k, vis, yu, yc, (10, 0))


def test_export_pins_its_tokenizers_and_the_scheme_loads_them(tmp_path):
    """An export trained on tokenizer exports stores everything but them, pins them by sha256, and the
    scheme loads them from the export's folder; a different tokenizer file is a one-line error."""
    import numpy as np

    from tokcom.errors import WeightsUnavailable
    from tokcom.link.base import build_link
    from tokcom.schemes.base import build_scheme
    from tokcom.schemes.tvc.trainable import TvcTrainable
    from tokcom.tokenizers.nets import CVNet, DVNet
    from tokcom.tokenizers.weights_io import save_weights
    from tokcom.types import Rate, Video

    torch.manual_seed(0)
    pair = tmp_path / "pair"
    save_weights("tokcom-dv8x16x16", DVNet(8, 16, 8, FSQ_LEVELS).state_dict(), {"kind": "dv"}, pair)
    save_weights("tokcom-cv8x16x16", CVNet(8, 16, 8, 16).state_dict(), {"kind": "cv"}, pair)
    tr = TvcTrainable("small", init_tokenizers=str(pair), **TINY)
    out = tmp_path / "export"
    st = tr.export(out, {"steps": 0})
    from safetensors.torch import load_file

    keys = load_file(str(st)).keys()
    assert keys and not any(k.startswith(("dv.", "cv.")) for k in keys)
    import json

    meta = json.loads(st.with_suffix(".json").read_text())
    assert set(meta["tokenizers"]) == {"tokcom-dv8x16x16", "tokcom-cv8x16x16"}
    for f in pair.iterdir():  # the export's folder holds the pair (as `tokcom train` users copy it)
        (out / f.name).write_bytes(f.read_bytes())
    s = build_scheme("tvc", {"weights": str(out), "gop": 9})
    assert s.weights()["tokcom-cv8x16x16"] == meta["tokenizers"]["tokcom-cv8x16x16"]
    clip = Video(np.full((9, 64, 64, 3), 100, np.uint8), 25.0)
    model, info = s.model()
    assert info["trained"] and torch.equal(model.dv.state_dict()["d_out.weight"].half().float(),
                                           model.dv.state_dict()["d_out.weight"])
    s.encode(clip, build_link("awgn", {"snr_db": 6.0}).state(clip.info, Rate()), np.random.default_rng(0))
    save_weights("tokcom-cv8x16x16", CVNet(8, 16, 8, 16).state_dict(), {"kind": "cv"}, out)  # another CV
    with pytest.raises(WeightsUnavailable, match="trained with tokcom-cv8x16x16"):
        build_scheme("tvc", {"weights": str(out), "gop": 9, "fusion": False}).model()  # not a cached model


def test_attend_is_the_modules_attention_without_its_fast_path():
    """``attend`` computes ``nn.MultiheadAttention`` with the module's parameters (eval and train modes
    agree with the module), through SDPA — so the predictor's state dict and numbers are unchanged."""
    from tokcom.schemes.tvc.nets import attend

    torch.manual_seed(0)
    att = torch.nn.MultiheadAttention(16, 2, batch_first=True)
    q, kv = torch.randn(3, 7, 16), torch.randn(3, 5, 16)
    for mode in (att.eval, att.train):
        mode()
        with torch.no_grad():
            assert torch.allclose(attend(att, q, kv), att(q, kv, kv, need_weights=False)[0], atol=1e-5)
            assert torch.allclose(attend(att, q, q), att(q, q, q, need_weights=False)[0], atol=1e-5)


def test_tokenize_takes_uint8_gops_and_gives_the_float_tokens():
    """The transmitter hands TVC a uint8 GoP (converted a few latent frames at a time inside): the same
    tokens and continuous latent as the float GoP, whole or in chunks."""
    import tokcom.schemes.tvc.model as tm

    torch.manual_seed(0)
    m = TvcModel(get_arch("small", **TINY)).eval()
    u8 = torch.randint(0, 256, (1, 3, 17, 64, 64), dtype=torch.uint8)  # pad_multiple 64
    k_f, y_f = m.tokenize(u8.float() / 127.5 - 1.0)
    for chunk in (tm.CHUNK_PIXELS, 1):
        tm.CHUNK_PIXELS = chunk
        try:
            k_u, y_u = m.tokenize(u8)
        finally:
            tm.CHUNK_PIXELS = 1 << 22
        assert torch.equal(k_u, k_f) and torch.allclose(y_u, y_f, atol=1e-5)
