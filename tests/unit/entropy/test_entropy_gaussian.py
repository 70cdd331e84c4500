"""Gaussian conditional: bit-exact coding, bits vs estimate, training path."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("constriction")
torch = pytest.importorskip("torch")

from tokcom.entropy import GaussianConditional
from tokcom.errors import InputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _draw(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    sigma = torch.exp(torch.empty(n).uniform_(math.log(0.2), math.log(30.0), generator=g))
    mu = torch.randn(n, generator=g) * 10
    return mu + sigma * torch.randn(n, generator=g), sigma, mu


def test_round_trip_is_exact_and_bits_match_the_estimate():
    gc = GaussianConditional()
    y, sigma, mu = _draw(20_000, 0)
    data = gc.compress(y, sigma, mu)
    values, ok = gc.decompress(data, sigma, mu)
    assert ok and values.dtype == torch.float32
    assert torch.equal(values, torch.round(y - mu) + mu)
    est = gc(y, sigma, mu, mode="round").bits().item()
    assert abs(8 * len(data) / est - 1) < 0.02, (8 * len(data), est)


def test_batch_shapes_without_means_and_outliers():
    gc = GaussianConditional()
    g = torch.Generator().manual_seed(1)
    y = torch.randn(2, 3, 5, 7, generator=g) * 2
    y[0, 0, 0, :3] = torch.tensor([1e7, -3e6, 4e4])  # far outside every table: escape path
    scales = torch.full_like(y, 2.0)
    values, ok = gc.decompress(gc.compress(y, scales), scales)
    assert ok and torch.equal(values, torch.round(y))


def test_inputs_are_validated():
    gc = GaussianConditional()
    y = torch.zeros(4)
    with pytest.raises(InputError):
        gc.compress(torch.tensor([float("nan"), 0.0, 0.0, 0.0]), torch.ones(4))
    with pytest.raises(InputError):
        gc.compress(y, torch.ones(1))  # shape must come from scales/means
    with pytest.raises(InputError):
        gc.compress(torch.tensor([2e9, 0, 0, 0]), torch.ones(4))
    with pytest.raises(InputError):
        gc.decompress("not bytes", torch.ones(4))  # type: ignore[arg-type]
    with pytest.raises(InputError):
        gc(y, torch.ones(4), mode="bogus")


@pytest.mark.parametrize("mode", ["noise", "ste"])
def test_training_path_gives_finite_likelihoods_with_gradients(mode):
    gc = GaussianConditional()
    y, sigma, mu = _draw(500, 2)
    y.requires_grad_(True)
    log_s = torch.log(sigma).requires_grad_(True)
    mu.requires_grad_(True)
    out = gc(y, torch.exp(log_s), mu, mode=mode, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(out.likelihoods).all() and (out.likelihoods > 0).all()
    out.bits().backward()
    for t in (y, log_s, mu):
        assert t.grad is not None and torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0


def test_learning_the_scale_lowers_the_estimated_bits():
    gc = GaussianConditional()
    g = torch.Generator().manual_seed(3)
    log_s = torch.zeros(4, 1, requires_grad=True)
    true = torch.tensor([[0.3], [2.0], [8.0], [40.0]])
    opt = torch.optim.Adam([log_s], lr=0.05)
    first = last = None
    for _ in range(200):
        y = true * torch.randn(4, 256, generator=g)
        bits = gc(y, torch.exp(log_s).expand_as(y), mode="noise", generator=g).bits() / y.numel()
        opt.zero_grad()
        bits.backward()
        opt.step()
        first = bits.item() if first is None else first
        last = bits.item()
    assert last < first - 0.5
    assert torch.allclose(torch.exp(log_s), true, rtol=0.3)
