"""``tokcom-cv8x16x16``: the continuous causal tokenizer TVC pairs with ``tokcom-dv8x16x16`` (003 §3.1):
registry, one-line WeightsUnavailable without weights, seeded random init, shapes, streaming = whole clip,
and the trainable model starting on the engine."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from tokcom.errors import WeightsUnavailable
from tokcom.tokenizers import load_tokenizer, tokenizer_spec

TINY = {"width": 8}


def test_spec_and_missing_weights_one_line(tmp_path):
    s = tokenizer_spec("tokcom-cv8x16x16")
    assert (s.kind, s.temporal_factor, s.spatial_factor, s.latent_channels) == ("continuous", 8, 16, 16)
    with pytest.raises(WeightsUnavailable) as e:
        load_tokenizer("tokcom-cv8x16x16", path=str(tmp_path))
    assert "\n" not in str(e.value) and "tokcom-cv8x16x16" in str(e.value)


def test_random_init_is_seeded_and_shapes_follow_the_causal_rules():
    a = load_tokenizer("tokcom-cv8x16x16", random_init=3, arch=TINY)
    b = load_tokenizer("tokcom-cv8x16x16", random_init=3, arch=TINY)
    assert not a.trained
    for (k, v), (_, w) in zip(a.net.state_dict().items(), b.net.state_dict().items()):
        assert torch.equal(v, w), k
    x = torch.rand(1, 3, 10, 40, 32) * 2 - 1  # padded to 17 frames, 48 × 32
    z = a.encode(x)
    assert z.shape == (1, 16, 3, 3, 2) and z.dtype == torch.float32
    assert a.decode(z).shape == (1, 3, 17, 48, 32)
    assert a.reconstruct(x).shape == x.shape


def test_streaming_equals_whole_clip():
    tok = load_tokenizer("tokcom-cv8x16x16", random_init=0, arch=TINY)
    frames = np.random.default_rng(0).integers(0, 256, (33, 32, 48, 3), dtype=np.uint8)
    tok.CHUNK_PIXELS = 1 << 30
    whole = tok.encode_frames(frames)
    rec_whole = tok.decode_frames(whole, 33, 32, 48)
    tok.CHUNK_PIXELS = 32 * 48 * 8 * 1  # one latent frame per chunk
    chunked = tok.encode_frames(frames)
    assert whole.shape == (16, 5, 2, 3) and whole.dtype == np.float32
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    rec = tok.decode_frames(whole, 33, 32, 48)
    assert rec.shape == (33, 32, 48, 3) and rec.dtype == np.uint8
    assert np.abs(rec.astype(int) - rec_whole.astype(int)).max() <= 1


def test_trainable_runs_and_exports_a_loadable_tokenizer(tmp_path):
    import cv2

    from tokcom.train.engine import RunConfig, Trainer
    from tokcom.train.recipe import TRAINABLE

    spec = TRAINABLE.get("tokcom-cv8x16x16")
    assert set(spec.recipes) == {"default", "perceptual"}
    assert "lpips_alex" in spec.recipes["perceptual"].stages[0].loss_weights
    d = tmp_path / "stills"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(d / f"im{i}.png"), cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (80, 80)))
    res = Trainer(RunConfig(model="tokcom-cv8x16x16", data=(str(d),), out=str(tmp_path / "run"), steps=1, batch=1,
                            frames=9, crop=32, threads=1, log_every=1, ckpt_every=100,
                            model_options=dict(TINY))).fit()
    assert res.status == "done" and res.steps == 1
    meta = json.loads(res.export.with_suffix(".json").read_text())
    assert meta["arch"]["latent_channels"] == 16 and meta["sha256"]
    tok = load_tokenizer("tokcom-cv8x16x16", path=str(res.export.parent))
    assert tok.trained and tok.encode(torch.zeros(1, 3, 9, 32, 32)).shape == (1, 16, 2, 2, 2)


def test_warm_start_from_a_dv_tokenizer_of_the_same_trunk():
    """``--init-from`` a DV export: the trunk is copied, the bottleneck's first channels are the DV's, the
    decoder ignores the extra channels at first; a DV of another width does not fit (one-line error)."""
    from tokcom.errors import InputError
    from tokcom.tokenizers.nets import DVNet
    from tokcom.train.recipe import TRAINABLE

    torch.manual_seed(0)
    dv = DVNet(8, 16, 8).state_dict()
    cv = TRAINABLE.get("tokcom-cv8x16x16").build({"width": 8})
    cv.load_weights(dv, "dv")
    got = cv.net.state_dict()
    assert all(torch.equal(got[k], v) for k, v in dv.items() if k not in ("e_out.weight", "e_out.bias", "d_in.weight"))
    assert torch.equal(got["e_out.weight"][:6], dv["e_out.weight"]) and torch.equal(got["e_out.bias"][:6], dv["e_out.bias"])
    assert torch.equal(got["d_in.weight"][:, :6], dv["d_in.weight"]) and not got["d_in.weight"][:, 6:].any()
    with pytest.raises(InputError, match="do not fit"):
        cv.load_weights(DVNet(8, 16, 16).state_dict(), "wide dv")


def test_shipped_weights_load_pinned_and_reconstruct(small_video):
    from tokcom.tokenizers.weights_io import WEIGHTS_DIR

    st, js = WEIGHTS_DIR / "tokcom-cv8x16x16.safetensors", WEIGHTS_DIR / "tokcom-cv8x16x16.json"
    cfg = json.loads(js.read_text())
    assert st.stat().st_size <= 15 * 2**20 and cfg["dtype"] == "float16" and len(cfg["sha256"]) == 64
    train = cfg["training"]
    assert train["steps"] > 0 and "bikes.mp4" in train["data"]["held_out"]
    tok = load_tokenizer("tokcom-cv8x16x16")
    assert tok.trained
    frames = np.asarray(small_video.frames[:17, :64, :64])
    z = tok.encode_frames(frames)
    rec = tok.decode_frames(z, 17, 64, 64)
    mse = float(np.mean((rec.astype(np.float64) - frames) ** 2))
    assert 10 * np.log10(255**2 / mse) > 18.0  # a random network gives ≈ 10 dB
    rnd = load_tokenizer("tokcom-cv8x16x16", random_init=0)
    rec_r = rnd.decode_frames(rnd.encode_frames(frames), 17, 64, 64)
    assert float(np.mean((rec_r.astype(np.float64) - frames) ** 2)) > 2 * mse
