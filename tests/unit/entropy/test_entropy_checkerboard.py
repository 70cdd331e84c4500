"""Two-step checkerboard Gaussian model: decoder-side recomputation, bits, training."""

from __future__ import annotations

import pytest

pytest.importorskip("constriction")
torch = pytest.importorskip("torch")

from tokcom.entropy import CheckerboardGaussian, anchor_mask
from tokcom.errors import InputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(c: int, seed: int = 0) -> CheckerboardGaussian:
    torch.manual_seed(seed)
    m = CheckerboardGaussian(c)
    with torch.no_grad():  # a non-trivial context net (it starts at zero)
        for p in m.fuse[-1].parameters():
            p.normal_(0.0, 0.05)
    return m


def _sample(m: CheckerboardGaussian, lead: tuple[int, ...], h: int, w: int, seed: int):
    """Latents drawn from the model itself: anchors ~ N(μ0, σ0), non-anchors ~ N(μ1, σ1 | ŷ_anchor)."""
    g = torch.Generator().manual_seed(seed)
    c = m.channels
    mu0 = torch.randn(*lead, c, h, w, generator=g) * 3
    s0 = torch.exp(torch.empty(*lead, c, h, w).uniform_(-1.0, 2.5, generator=g))
    hyper = torch.cat([mu0, s0], dim=-3)
    an = anchor_mask(h, w)
    ya = mu0 + s0 * torch.randn(mu0.shape, generator=g)
    y_anchor = torch.where(an, torch.round(ya - mu0) + mu0, torch.zeros(()))
    with torch.no_grad():
        mu1, s1 = m.nonanchor_params(y_anchor.reshape(-1, c, h, w), hyper.reshape(-1, 2 * c, h, w))
    yn = mu1.reshape(mu0.shape) + s1.reshape(mu0.shape) * torch.randn(mu0.shape, generator=g)
    return torch.where(an, ya, yn), hyper


def test_anchor_mask_odd_sizes():
    m = anchor_mask(3, 4)
    assert m.tolist() == [[True, False, True, False], [False, True, False, True], [True, False, True, False]]


@pytest.mark.parametrize("lead,h,w", [((1,), 7, 9), ((2, 3), 5, 4), ((), 1, 1), ((2,), 1, 6)])
def test_round_trip_matches_the_encoder_reconstruction(lead, h, w):
    m = _model(3)
    y, hyper = _sample(m, lead, h, w, seed=1)
    data = m.compress(y, hyper)
    values, ok = m.decompress(data, hyper)
    assert ok and values.shape == y.shape
    assert torch.equal(values, m.reconstruct(y, hyper))
    assert (values - y).abs().max() <= 0.5 + 1e-4  # ŷ = round(y - μ) + μ


def test_bits_within_two_percent_of_the_estimate():
    m = _model(8)
    y, hyper = _sample(m, (2, 2), 17, 21, seed=2)  # 11424 symbols
    assert y.numel() >= 10_000
    data = m.compress(y, hyper)
    est = m(y, hyper, mode="round").bits().item()
    assert abs(8 * len(data) / est - 1) < 0.02, (8 * len(data), est)
    values, ok = m.decompress(data, hyper)
    assert ok and torch.equal(values, m.reconstruct(y, hyper))


@pytest.mark.parametrize("mode", ["noise", "ste"])
def test_training_path_is_finite_with_gradients(mode):
    m = _model(2)
    y, hyper = _sample(m, (2,), 6, 5, seed=3)
    y.requires_grad_(True)
    hyper.requires_grad_(True)
    out = m(y, hyper, mode=mode, generator=torch.Generator().manual_seed(0))
    assert out.values.shape == y.shape and torch.isfinite(out.likelihoods).all()
    out.bits().backward()
    assert torch.isfinite(y.grad).all() and torch.isfinite(hyper.grad).all()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())


def test_context_training_lowers_the_bits_on_smooth_latents():
    torch.manual_seed(0)
    m = CheckerboardGaussian(2, hidden_channels=16)
    g = torch.Generator().manual_seed(4)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)

    def batch():
        low = torch.randn(4, 2, 5, 5, generator=g) * 6
        y = torch.nn.functional.interpolate(low, size=(16, 16), mode="bilinear", align_corners=False)
        hyper = torch.cat([torch.zeros_like(y), torch.full_like(y, 4.0)], dim=1)
        return y + 0.3 * torch.randn(y.shape, generator=g), hyper

    history = []
    for _ in range(200):
        y, hyper = batch()
        bits = m(y, hyper, mode="noise", generator=g).bits() / y.numel()
        opt.zero_grad()
        bits.backward()
        opt.step()
        history.append(bits.item())
    start, end = sum(history[:10]) / 10, sum(history[-20:]) / 20
    assert end < start - 0.5, (start, end)
    y, hyper = batch()  # the trained model still codes exactly
    values, ok = m.decompress(m.compress(y, hyper), hyper)
    assert ok and torch.equal(values, m.reconstruct(y, hyper))


def test_shapes_are_validated():
    m = _model(2)
    with pytest.raises(InputError):
        m.compress(torch.zeros(1, 3, 4, 4), torch.zeros(1, 6, 4, 4))
    with pytest.raises(InputError):
        m.compress(torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, 4, 5))
    with pytest.raises(InputError):
        m.decompress(b"", torch.zeros(1, 3, 4, 4))
