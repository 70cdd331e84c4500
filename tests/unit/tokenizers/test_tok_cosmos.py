"""Cosmos adapter, exercised with tiny TorchScript stand-ins that have the published signatures
(``tokcom.testing.cosmos``)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tokcom.errors import InputError, WeightsUnavailable
from tokcom.testing.cosmos import CVDec as _CVDec
from tokcom.testing.cosmos import CVEnc as _CVEnc
from tokcom.testing.cosmos import DVDec as _DVDec
from tokcom.testing.cosmos import DVEnc as _DVEnc
from tokcom.testing.cosmos import script as _script
from tokcom.tokenizers import load_tokenizer


@pytest.fixture()
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TOKCOM_COSMOS_DIR", raising=False)
    return tmp_path


@pytest.mark.parametrize("tok_id,tf,sf", [("DV4x8x8", 4, 8), ("DV8x8x8", 8, 8), ("DV8x16x16", 8, 16)])
def test_dv_standin_from_folder(isolated_home, tok_id, tf, sf):
    d = _script(isolated_home / tok_id, _DVEnc(tf, sf), _DVDec(tf, sf))
    tok = load_tokenizer(f"cosmos-{tok_id.lower()}", path=str(d))
    assert (tok.codebook_size, tok.bits_per_token, tok.temporal_factor, tok.spatial_factor) == (64000, 16, tf, sf)
    for frames in (1, 9, 17, 33):
        x = torch.rand(1, 3, frames, 32, 48) * 2 - 1
        idx, codes = tok.encode(x)
        t = 1 + -(-(frames - 1) // tf)
        assert idx.dtype == torch.int64 and idx.shape == (1, t, -(-32 // sf), 48 // sf)
        assert tuple(tok.latent_shape(frames, 32, 48)) == tuple(idx.shape[1:])
        assert codes.shape == (1, 6) + tuple(idx.shape[1:]) and codes.dtype == torch.float32
        y = tok.decode(idx)
        assert y.shape == (1, 3, 1 + (t - 1) * tf, idx.shape[2] * sf, idx.shape[3] * sf)
        assert tok.reconstruct(x).shape == x.shape


@pytest.mark.parametrize("tok_id,tf,sf", [("CV4x8x8", 4, 8), ("CV8x8x8", 8, 8), ("CV8x16x16", 8, 16)])
def test_cv_standin_from_cache_and_env(isolated_home, monkeypatch, tok_id, tf, sf):
    from tokcom.tokenizers.cosmos import cosmos_dir

    _script(cosmos_dir(tok_id), _CVEnc(tf, sf), _CVDec(tf, sf))  # the tokcom cache
    tok = load_tokenizer(f"cosmos-{tok_id.lower()}", dtype="bf16")
    x = torch.rand(2, 3, 9, 32, 32) * 2 - 1
    z = tok.encode(x)
    assert z.shape == (2, 16, 1 + 8 // tf, 32 // sf, 32 // sf) and z.dtype == torch.float32
    assert tok.decode(z).shape == (2, 3, 9, 32, 32)
    env = _script(isolated_home / "env" / f"Cosmos-Tokenizer-{tok_id}", _CVEnc(tf, sf), _CVDec(tf, sf))
    monkeypatch.setenv("TOKCOM_COSMOS_DIR", str(env.parent))
    assert load_tokenizer(f"cosmos-{tok_id.lower()}").folder == env


def test_offline_fetch_fails_with_one_line(isolated_home, monkeypatch):
    import urllib.request

    def refuse(*a, **k):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(WeightsUnavailable) as e:
        load_tokenizer("cosmos-dv4x8x8")
    msg = str(e.value)
    assert "\n" not in msg and "Cosmos-Tokenizer-DV4x8x8" in msg and "huggingface.co" in msg
    with pytest.raises(WeightsUnavailable) as e2:
        load_tokenizer("cosmos-cv8x16x16", allow_hub=False)
    assert "\n" not in str(e2.value)
    with pytest.raises(InputError):
        load_tokenizer("cosmos-dv4x8x8", path=str(isolated_home / "missing"))
