"""Shipped built-in DV tokenizers: causal shapes, determinism, padding, continuous stream, sha256 check."""

from __future__ import annotations

import json
import shutil

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from tokcom.errors import WeightsUnavailable
from tokcom.tokenizers import load_tokenizer
from tokcom.tokenizers.weights_io import WEIGHTS_DIR

DV = ["tokcom-dv4x8x8", "tokcom-dv8x16x16"]


@pytest.fixture(scope="module")
def clip(small_video):
    from tokcom.video import to_tensor

    return to_tensor(small_video.frames[:17, :64, :64])  # (1,3,17,64,64)


@pytest.mark.parametrize("name", DV)
def test_shipped_files(name):
    st, js = WEIGHTS_DIR / f"{name}.safetensors", WEIGHTS_DIR / f"{name}.json"
    assert st.is_file() and js.is_file()
    assert st.stat().st_size <= 15 * 2**20
    cfg = json.loads(js.read_text())
    assert cfg["dtype"] == "float16" and len(cfg["sha256"]) == 64


@pytest.mark.parametrize("name", DV)
@pytest.mark.parametrize("frames", [1, 9, 17, 33])
def test_causal_shapes(name, frames):
    tok = load_tokenizer(name)
    tf, sf = tok.temporal_factor, tok.spatial_factor
    x = torch.zeros(1, 3, frames, 32, 48)
    idx, codes = tok.encode(x)
    t = 1 + -(-(frames - 1) // tf)
    assert idx.shape == (1, t, -(-32 // sf), -(-48 // sf)) and idx.dtype == torch.int64
    assert tuple(tok.latent_shape(frames, 32, 48)) == tuple(idx.shape[1:])
    assert codes.shape == (1, 6) + tuple(idx.shape[1:])
    assert int(idx.max()) < 64000 and int(idx.min()) >= 0
    y = tok.decode(idx)
    assert y.shape == (1, 3, 1 + (t - 1) * tf, idx.shape[2] * sf, idx.shape[3] * sf)
    assert tok.reconstruct(x).shape == x.shape


@pytest.mark.parametrize("name", DV)
def test_deterministic_and_continuous(name, clip):
    a, _ = load_tokenizer(name).encode(clip)
    tok = load_tokenizer(name)
    b, codes = tok.encode(clip)
    assert torch.equal(a, b)
    z = tok.encode_latent(clip)
    assert z.shape == codes.shape and float(z.abs().max()) <= 1.0
    assert float((z - codes).abs().max()) <= 0.25 + 1e-6  # rounding moves a value at most half a level
    cv = tok.as_continuous()
    assert cv.decode(cv.encode(clip)).shape == tok.decode(b).shape
    assert torch.equal(tok.decode(b), tok.decode(b))


def test_bf16_runs(clip):
    tok = load_tokenizer("tokcom-dv4x8x8", dtype="bf16")
    idx, _ = tok.encode(clip[:, :, :5])
    assert tok.decode(idx).dtype == torch.float32


def test_sha256_mismatch_is_one_line(tmp_path):
    for s in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"tokcom-dv4x8x8{s}", tmp_path / f"tokcom-dv4x8x8{s}")
    with open(tmp_path / "tokcom-dv4x8x8.safetensors", "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x01")
    with pytest.raises(WeightsUnavailable) as e:
        load_tokenizer("tokcom-dv4x8x8", path=str(tmp_path))
    assert "\n" not in str(e.value) and "sha256" in str(e.value)
    with pytest.raises(WeightsUnavailable):
        load_tokenizer("tokcom-dv4x8x8", path=str(tmp_path / "none"))


@pytest.mark.parametrize("tf", [1, 4])
def test_chunked_encode_latent_is_the_whole_clip_encoding(tf):
    """``encode_latent(x, chunk_pixels)`` cuts each latent frame's group from ``x`` as needed (TVC at 1080p):
    the same latent as grouping the whole clip at once, for any chunk size."""
    from tokcom.tokenizers.nets import DVNet

    torch.manual_seed(0)
    net = DVNet(tf, 8, 8).eval()
    x = torch.rand(2, 3, 1 + 3 * tf, 16, 24) * 2 - 1
    with torch.no_grad():
        whole = net.encode_latent(x)
        assert whole.shape == (2, 6, 4, 2, 3)
        for pixels in (1, tf * 16 * 24, 3 * tf * 16 * 24):  # 1, 1 and 3 latent frames per chunk
            assert torch.allclose(net.encode_latent(x, pixels), whole, atol=1e-5)
