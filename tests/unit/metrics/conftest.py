"""Fixtures of the metric tests."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """On a shared 2-core machine, 2 OpenMP threads are ~10× slower than 1 when the other core is busy."""
    try:
        import torch
    except ImportError:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
