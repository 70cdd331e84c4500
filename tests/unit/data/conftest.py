"""Fixtures of the corpus tests: fake packages (written once per session) and a fresh corpus per test."""

from __future__ import annotations

import pytest
from data_testutil import FakeFetcher, catalog, make_packages

from tokcom.data import FetchOptions, fetch_corpus


@pytest.fixture(scope="session")
def pkgs(tmp_path_factory):
    return make_packages(tmp_path_factory.mktemp("pkgs"))


@pytest.fixture
def fetch(pkgs, tmp_path):
    """``fetch(**kw)`` → (report, fetcher): a fetch of the fake catalog into ``tmp_path/corpus``."""

    def run(offline=(), fetcher=None, **kw):
        f = fetcher or FakeFetcher(pkgs, offline)
        kw.setdefault("options", FetchOptions(max_side=32, photo_max_side=64, chunk_frames=4))
        rep = fetch_corpus(tmp_path / "corpus", fetcher=f, sources=catalog(), local_dir=pkgs["local"], **kw)
        return rep, f

    return run
