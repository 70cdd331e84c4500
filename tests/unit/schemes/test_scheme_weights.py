"""Learned schemes' weight files (tokcom.schemes.weights): resolution, digests, sha256-checked loading with
one-line errors, the per-process model cache."""

from __future__ import annotations

import json

import pytest

from tokcom.errors import WeightsUnavailable
from tokcom.schemes.weights import RANDOM_INIT, ModelCache, SchemeWeights


def test_files_digest_and_checked_loading(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    from tokcom.models import sha256_file

    w = SchemeWeights("demo", tmp_path / "shipped")
    assert w.files("random", "m") is None and w.digest("random", "m") == RANDOM_INIT
    assert w.files("shipped", "m") == (tmp_path / "shipped" / "m.safetensors", tmp_path / "shipped" / "m.json")
    assert w.digest("shipped", "m") == "absent"
    with pytest.raises(WeightsUnavailable, match="not found") as e:
        w.read("shipped", "m")
    assert "\n" not in str(e.value) and "tokcom train --model m" in str(e.value)
    st = tmp_path / "m.safetensors"
    save_file({"weight": torch.ones(2, 3, dtype=torch.float16)}, str(st))
    (tmp_path / "m.json").write_text(json.dumps({"sha256": "0" * 64}))
    assert w.files(str(tmp_path), "m")[0] == st  # a folder holding <name>.safetensors
    with pytest.raises(WeightsUnavailable, match="sha256"):
        w.read(str(st), "m")
    (tmp_path / "m.json").write_text(json.dumps({"sha256": sha256_file(st)}))
    sd, meta, digest, path = w.read(str(st), "m")
    assert sd["weight"].dtype == torch.float32 and digest == meta["sha256"] == w.digest(str(st), "m")
    lin = torch.nn.Linear(3, 2, bias=False)
    w.load_into(lin, sd, path, "a 3 → 2 layer")
    with pytest.raises(WeightsUnavailable, match="do not fit a 4 → 2 layer"):
        w.load_into(torch.nn.Linear(4, 2, bias=False), sd, path, "a 4 → 2 layer")


def test_model_cache_keeps_the_most_recent():
    built = []
    c = ModelCache(2)

    def make(k):
        return lambda: built.append(k) or k

    assert [c.get(k, make(k)) for k in ("a", "b", "a", "c", "a", "b")] == ["a", "b", "a", "c", "a", "b"]
    assert built == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came in
