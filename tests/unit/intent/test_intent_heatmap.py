"""TokenCom text intent (000_cfad1eb21f67e2e2.txt, §II-B-1): eqs. (2)–(5) on tiny arrays with known answers,
eq. (1) with a small random CLIP in open_clip format on a real frame, and the no-weights path."""

import subprocess
import sys

import numpy as np
import pytest

from tokcom.errors import InputError, WeightsUnavailable
from tokcom.intent import (
    normalize_heatmap,
    patch_mask,
    patch_ratio,
    text_heatmap,
    text_intent_mask,
    upsample_mask,
)

TINY = {
    "embed_dim": 32,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 1, "layers": 2},
}


# ------------------------------------------------------------------------------------ eqs. (2)–(5)
def test_normalize_heatmap_eq2():
    h = np.array([[0.1, 0.3], [0.2, 0.5]], np.float32)
    n = normalize_heatmap(h, eps=0.0)
    assert n.dtype == np.float32
    assert np.allclose(n, [[0.0, 0.5], [0.25, 1.0]])
    assert np.allclose(normalize_heatmap(h), (h - 0.1) / (0.4 + 1e-8))
    assert not normalize_heatmap(np.full((3, 3), 0.7)).any()  # constant heatmap: ε keeps it finite


def test_patch_mask_eq3_is_strict_and_dilates():
    n = np.array([[0.0, 0.6, 0.61], [0.2, 0.9, 0.1], [0.0, 0.0, 0.0]])
    assert patch_mask(n).tolist() == [[False, False, True], [False, True, False], [False, False, False]]
    one = np.zeros((5, 5))
    one[2, 2] = 1.0
    assert patch_mask(one, dilation=1).sum() == 9 and patch_mask(one, dilation=1)[1:4, 1:4].all()
    assert patch_mask(one, dilation=2).all()
    assert not patch_mask(np.zeros((4, 4)), dilation=3).any()  # nothing selected stays nothing
    with pytest.raises(InputError):
        patch_mask(one, dilation=-1)


def test_patch_ratio_eq4():
    m = np.zeros((4, 5), bool)
    m[0, :3] = True
    assert patch_ratio(m) == pytest.approx(3 / 20)
    assert patch_ratio(np.ones((2, 2))) == 1.0


def test_upsample_mask_eq5_blocks():
    m = np.array([[True, False], [False, True]])
    up = upsample_mask(m, 64, 64)  # p = 32: each patch → its 32×32 block
    assert up.shape == (64, 64) and up.dtype == bool
    assert up[:32, :32].all() and up[32:, 32:].all() and not up[:32, 32:].any() and not up[32:, :32].any()
    # sides not multiples of p: pixel (y, x) → patch (y·h_p // H, x·w_p // W)
    up = upsample_mask(np.array([[False, True, False]]), 5, 7)
    assert up.shape == (5, 7)
    assert up[0].tolist() == [False, False, False, True, True, False, False]
    assert (up == up[0]).all()


# ------------------------------------------------------------------------------------ eq. (1) with a model
@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    import torch

    from tokcom import models
    from tokcom.models import clip as tc
    from tokcom.models import clip_net as cn

    if not models.is_cached("clip-bpe"):
        pytest.skip("clip-bpe not in cache (run: tokcom models fetch clip-bpe)")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = cn.build_clip(cn.ClipConfig.from_open_clip(TINY))
    d = cn.save_clip(net, tmp_path_factory.mktemp("clip") / "tiny")
    return d, tc.load_clip(d, backend="builtin")


@pytest.fixture(scope="module")
def frame(sample_path):
    from tokcom.video import read_video

    return read_video(sample_path, frames=1, size="256x256").frames[0]


def test_text_heatmap_on_a_real_frame(tiny_clip, frame):
    d, model = tiny_clip
    h = text_heatmap(frame, "a cyclist on the road", model)
    assert h.shape == (8, 8) and h.dtype == np.float32  # p = 32 at 256²
    assert np.isfinite(h).all() and (np.abs(h) <= 1 + 1e-5).all()
    assert np.array_equal(h, text_heatmap(frame, "a cyclist on the road", str(d)))  # by path: same numbers
    assert h.std() > 0
    # eq. (1) is the cosine of the normalised patch and text embeddings
    pe = model.patch_embeddings(frame)
    t = model.encode_text(["a cyclist on the road"])[0].numpy()
    assert np.allclose(h, pe @ t, atol=1e-6)
    assert not np.allclose(h, text_heatmap(frame, "a red car", model))


def test_text_intent_mask_whole_step(tiny_clip, frame):
    _, model = tiny_clip
    mask, info = text_intent_mask(frame, "a cyclist", model, threshold=0.6, dilation=1)
    assert mask.shape == (256, 256) and mask.dtype == bool
    assert set(info) >= {"heatmap", "heatmap_norm", "patch_mask", "rho", "patch_size"}
    assert info["patch_size"] == 32 and info["patch_mask"].shape == (8, 8)
    pm = patch_mask(normalize_heatmap(info["heatmap"]), 0.6, 1)
    assert np.array_equal(info["patch_mask"], pm) and info["rho"] == pytest.approx(pm.mean())
    assert np.array_equal(mask, upsample_mask(pm, 256, 256))
    assert 0 < info["rho"] <= 1 and mask.mean() == pytest.approx(info["rho"])
    mask2, info2 = text_intent_mask(frame, "a cyclist", model, threshold=0.6, dilation=1)
    assert np.array_equal(mask, mask2) and np.array_equal(info["heatmap"], info2["heatmap"])  # deterministic


def test_frame_sides_not_multiples_of_p(tiny_clip, frame):
    _, model = tiny_clip
    f = frame[:100, :150]
    mask, info = text_intent_mask(f, "a cyclist", model)
    assert info["heatmap"].shape == (4, 5) and mask.shape == (100, 150)  # ⌈100/32⌉ × ⌈150/32⌉


def test_bad_inputs(tiny_clip, frame):
    _, model = tiny_clip
    with pytest.raises(InputError):
        text_heatmap(frame, "   ", model)
    with pytest.raises(InputError):
        text_heatmap(frame.astype(np.float32), "x", model)
    with pytest.raises(InputError):
        text_intent_mask(frame, "x", model, threshold=1.5)


def test_no_weights_suggests_a_box(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path))
    f = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(WeightsUnavailable) as e:
        text_intent_mask(f, "a cyclist", model="clip-vit-b-32")
    msg = str(e.value)
    assert "\n" not in msg and "--intent-box" in msg and "tokcom models fetch clip-vit-b-32" in msg


def test_import_is_light():
    code = ("import sys, tokcom.intent; bad = [m for m in ('torch', 'open_clip', 'safetensors') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
