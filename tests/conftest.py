"""Shared fixtures: real clips (skipped cleanly when ../shared/data is absent), the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


def shared_clip(name: str) -> Path:
    p = SHARED_DATA / name
    if not p.is_file():
        pytest.skip(f"{p} not available")
    return p


@pytest.fixture(scope="session")
def sample_path() -> Path:
    from tokcom.video import samples

    return samples.path("bikes")


@pytest.fixture(scope="session")
def small_video(sample_path):
    """24 frames of the bundled real clip at 128×128."""
    from tokcom.video import read_video

    return read_video(sample_path, frames=24, size="128x128")


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        cuda = torch.cuda.is_available()
    except Exception:  # noqa: BLE001  # pragma: no cover - a broken torch install: no CUDA tests
        cuda = False
    if not cuda:
        skip = pytest.mark.skip(reason="needs CUDA")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine's spin waits. Use it with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
