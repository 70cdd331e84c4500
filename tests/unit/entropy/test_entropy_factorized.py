"""Factorized prior: training lowers the bits, coding is bit exact and matches the estimate."""

from __future__ import annotations

import pytest

pytest.importorskip("constriction")
torch = pytest.importorskip("torch")

from tokcom.entropy import FactorizedPrior
from tokcom.errors import InputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C = 4
SCALES = torch.tensor([0.4, 1.5, 4.0, 12.0]).view(1, C, 1, 1)
SHIFTS = torch.tensor([0.0, -2.0, 3.5, 10.0]).view(1, C, 1, 1)


def _data(g: torch.Generator, b: int, h: int = 16, w: int = 16) -> torch.Tensor:
    # a Laplacian and a Gaussian mixture per channel: not the model's initial density
    lap = torch.distributions.Laplace(0.0, 1.0).sample((b, C, h, w))
    z = torch.randn(b, C, h, w, generator=g)
    return torch.where(torch.rand(b, C, h, w, generator=g) < 0.5, z, lap) * SCALES + SHIFTS


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    prior = FactorizedPrior(C)
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(prior.parameters(), lr=0.02)
    history = []
    for _ in range(250):
        z = _data(g, 2)
        bits = prior(z, mode="noise", generator=g).bits() / z.numel()
        opt.zero_grad()
        bits.backward()
        opt.step()
        history.append(bits.item())
    return prior, history


def test_training_lowers_the_estimated_bits(trained):
    _, history = trained
    start, end = sum(history[:10]) / 10, sum(history[-20:]) / 20
    assert end < start - 0.5, (start, end)


@pytest.mark.parametrize("mode", ["noise", "ste", "round"])
def test_training_path_is_finite_with_gradients(mode):
    prior = FactorizedPrior(3)
    z = (torch.randn(2, 3, 5, 4) * 4).requires_grad_(True)
    out = prior(z, mode=mode, generator=torch.Generator().manual_seed(0))
    assert out.values.shape == z.shape and torch.isfinite(out.likelihoods).all()
    assert ((out.likelihoods > 0) & (out.likelihoods <= 1)).all()
    out.bits().backward()
    grads = [p.grad for p in prior.parameters()]
    assert all(gr is not None and torch.isfinite(gr).all() for gr in grads)
    if mode != "round":
        assert z.grad is not None and torch.isfinite(z.grad).all()


def test_round_trip_exact_and_bits_within_two_percent(trained):
    prior, _ = trained
    torch.manual_seed(1)
    z = _data(torch.Generator().manual_seed(1), 4, 32, 32)  # 16384 symbols
    data = prior.compress(z)
    values, ok = prior.decompress(data, z.shape)
    assert ok and torch.equal(values, torch.round(z))
    est = prior(z, mode="round").bits().item()
    assert abs(8 * len(data) / est - 1) < 0.02, (8 * len(data), est)


def test_any_trailing_dims_and_escapes():
    prior = FactorizedPrior(2, max_support=64)
    z = torch.randn(2, 2, 3, 5, 7) * 3
    z[1, 1, 2, 4, :3] = torch.tensor([5e5, -7e4, 999.0])
    values, ok = prior.decompress(prior.compress(z), z.shape)
    assert ok and torch.equal(values, torch.round(z))


def test_tables_follow_the_parameters():
    prior = FactorizedPrior(2)
    before = prior.tables()
    assert prior.tables() is before  # cached while the weights stay
    with torch.no_grad():
        prior.biases[-1].add_(5.0)
    after = prior.tables()
    assert after is not before and not all(a == b for a, b in zip(after.offsets, before.offsets))


def test_shapes_are_validated():
    prior = FactorizedPrior(3)
    with pytest.raises(InputError):
        prior.compress(torch.zeros(1, 2, 4))
    with pytest.raises(InputError):
        prior.decompress(b"", (1, 2, 4))
