"""Training: data sampler (videos + stills with synthetic motion), a tiny run, export, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, small_video):
    import cv2

    from tokcom.video import write_video

    d = tmp_path_factory.mktemp("tokdata")
    write_video(d / "clip.mkv", small_video.with_frames(small_video.frames[:12]))
    still = np.ascontiguousarray(np.concatenate([small_video.frames[0]] * 2, axis=1)[:, :, ::-1])
    cv2.imwrite(str(d / "still.png"), still)
    cv2.imwrite(str(d / "bikes.mp4.png"), still)
    return d


def test_sampler(data_dir):
    from tokcom.tokenizers.data import ClipSampler, DataConfig

    s = ClipSampler(DataConfig((str(data_dir),), max_side=96))
    assert s.summary()["videos"] == 1 and s.summary()["images"] == 2
    rng = np.random.default_rng(0)
    a = s.sample(rng, 4, 5, 32)
    assert a.shape == (4, 5, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, s.sample(np.random.default_rng(0), 4, 5, 32))
    still = s._from_still(np.random.default_rng(1), 5, 32)
    assert still.shape == (5, 32, 32, 3) and still.std() > 1


@pytest.mark.parametrize("model,frames", [("tokcom-dv4x8x8", 5), ("tokcom-resitok", 1)])
def test_tiny_run_export_resume(tmp_path, data_dir, model, frames):
    from tokcom.tokenizers import load_tokenizer
    from tokcom.tokenizers.train import TrainConfig, train

    cfg = TrainConfig(model=model, data=(str(data_dir),), out=str(tmp_path / "run"), steps=2, batch=2,
                      frames=frames, crop=32, threads=1, ckpt_every=1, log_every=1,
                      arch={"width": 8, "dec_blocks": 1})
    p = train(cfg)
    meta = json.loads(p.with_suffix(".json").read_text())
    assert meta["training"]["steps"] == 2 and meta["dtype"] == "float16" and meta["arch"]["width"] == 8
    p2 = train(TrainConfig(**{**cfg.__dict__, "steps": 3}))
    assert json.loads(p2.with_suffix(".json").read_text())["training"]["steps"] == 3
    log = [json.loads(line) for line in (tmp_path / "run" / "train.log").read_text().splitlines()]
    assert [r["step"] for r in log if "step" in r] == [1, 2, 3]  # resumed at step 2
    tok = load_tokenizer(model, path=str(p.parent))
    x = torch.zeros(1, 3, frames, 32, 32)
    assert tok.reconstruct(x).shape == x.shape


def test_init_from_fine_tunes_with_lineage(tmp_path, data_dir):
    from safetensors.torch import load_file

    from tokcom.errors import InputError
    from tokcom.tokenizers.train import TrainConfig, train

    base = TrainConfig(model="tokcom-dv4x8x8", data=(str(data_dir),), out=str(tmp_path / "a"), steps=2, batch=1,
                       frames=5, crop=32, threads=1, ckpt_every=1, log_every=1, arch={"width": 8})
    p = train(base)
    a = load_file(str(tmp_path / "a" / "ckpt" / "model.safetensors"))
    # from the run folder: weights start from the fp32 checkpoint, a fresh schedule starts at step 0
    ft = TrainConfig(**{**base.__dict__, "out": str(tmp_path / "b"), "steps": 0, "init_from": str(tmp_path / "a")})
    q = train(ft)
    b = load_file(str(tmp_path / "b" / "ckpt" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)  # zero steps: unchanged weights
    meta = json.loads(q.with_suffix(".json").read_text())
    assert meta["training"]["steps"] == 0 and meta["training"]["init_from"]["steps"] == 2
    # from an exported .safetensors (fp16), then a chained fine-tune accumulates the lineage
    ft2 = TrainConfig(**{**base.__dict__, "out": str(tmp_path / "c"), "steps": 1, "init_from": str(p)})
    meta2 = json.loads(train(ft2).with_suffix(".json").read_text())
    assert meta2["training"]["init_from"] == {"from": p.name, "steps": 2,
                                              "seconds": meta2["training"]["init_from"]["seconds"]}
    ft3 = TrainConfig(**{**base.__dict__, "out": str(tmp_path / "d"), "steps": 1, "init_from": str(tmp_path / "c")})
    assert json.loads(train(ft3).with_suffix(".json").read_text())["training"]["init_from"]["steps"] == 3
    with pytest.raises(InputError, match="do not fit"):
        train(TrainConfig(**{**base.__dict__, "out": str(tmp_path / "e"), "arch": {"width": 16},
                             "init_from": str(p)}))
    with pytest.raises(InputError, match="no weights there"):
        train(TrainConfig(**{**base.__dict__, "out": str(tmp_path / "f"), "init_from": str(tmp_path / "none")}))
