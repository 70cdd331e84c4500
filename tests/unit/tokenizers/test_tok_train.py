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
