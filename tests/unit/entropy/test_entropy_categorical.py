"""Categorical checkerboard model for FSQ code maps: lossless coding, bits, training."""

from __future__ import annotations

import pytest

pytest.importorskip("constriction")
torch = pytest.importorskip("torch")

from tokcom.entropy import CheckerboardCategorical, anchor_mask, fsq_to_levels, levels_to_fsq
from tokcom.errors import InputError

LEVELS = (8, 8, 8, 5, 5, 5)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(context_channels: int = 0, seed: int = 0) -> CheckerboardCategorical:
    torch.manual_seed(seed)
    m = CheckerboardCategorical(LEVELS, context_channels=context_channels, hidden_channels=16)
    with torch.no_grad():  # peaked anchors and a non-trivial context net
        m.anchor.weight.mul_(3.0)
        m.anchor.bias.normal_(0.0, 1.0)
        for p in m.fuse[-1].parameters():
            p.normal_(0.0, 0.3)
    return m


def _sample(m, b: int, h: int, w: int, context, visible, seed: int) -> torch.Tensor:
    """Codes drawn from the model itself (anchors first, then non-anchors given the anchors)."""
    g = torch.Generator().manual_seed(seed)

    def draw(logits):
        planes = []
        for lg in torch.split(logits, LEVELS, dim=1):
            p = lg.softmax(1).permute(0, 2, 3, 1).reshape(-1, lg.shape[1])
            planes.append(torch.multinomial(p, 1, generator=g).view(b, h, w))
        return torch.stack(planes, dim=1)

    ctx = torch.zeros(b, 0, h, w) if context is None else context
    side = torch.cat([ctx, torch.ones(b, 1, h, w)], dim=1)
    an = anchor_mask(h, w)
    vis = torch.ones(b, h, w, dtype=torch.bool) if visible is None else visible
    with torch.no_grad():
        base = m.anchor_logits(side)
        ka = draw(base)
        kn = draw(m.nonanchor_logits(ka, an & vis, side, base))
    return torch.where(an, ka, kn)


def test_fsq_value_conversion_round_trips():
    k = torch.stack([torch.randint(0, lv, (2, 3, 4)) for lv in LEVELS], dim=-3)
    assert torch.equal(fsq_to_levels(levels_to_fsq(k, LEVELS), LEVELS), k)
    assert levels_to_fsq(torch.tensor([0, 4]).view(2, 1, 1), (8, 5)).ravel().tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("b,h,w,with_context,with_mask", [(2, 7, 9, True, True), (1, 1, 1, False, False),
                                                           (3, 4, 5, False, True), (1, 9, 2, True, False)])
def test_lossless_round_trip(b, h, w, with_context, with_mask):
    m = _model(2 if with_context else 0)
    g = torch.Generator().manual_seed(1)
    ctx = torch.randn(b, 2, h, w, generator=g) if with_context else None
    vis = torch.rand(b, h, w, generator=g) < 0.7 if with_mask else None
    k = _sample(m, b, h, w, ctx, vis, seed=2)
    values, ok = m.decompress(m.compress(k, ctx, vis), k.shape, ctx, vis)
    assert ok and values.dtype == torch.int64 and values.shape == k.shape
    keep = (torch.ones(b, h, w, dtype=torch.bool) if vis is None else vis).unsqueeze(1).expand_as(k)
    assert torch.equal(values[keep], k[keep])
    assert (values[~keep] == 0).all()


def test_leading_dims_beyond_batch():
    m = _model()
    k = torch.stack([torch.randint(0, lv, (2, 3, 5, 6)) for lv in LEVELS], dim=-3)  # [2, 3, D, 5, 6]
    values, ok = m.decompress(m.compress(k), k.shape)
    assert ok and torch.equal(values, k)


def test_bits_within_two_percent_of_the_estimate():
    m = _model(2)
    b, h, w = 4, 21, 27
    g = torch.Generator().manual_seed(3)
    ctx = torch.randn(b, 2, h, w, generator=g)
    vis = torch.rand(b, h, w, generator=g) < 0.9
    k = _sample(m, b, h, w, ctx, vis, seed=4)
    assert int(vis.sum()) * len(LEVELS) >= 10_000
    data = m.compress(k, ctx, vis)
    est = m(k, ctx, vis).bits().item()
    assert abs(8 * len(data) / est - 1) < 0.02, (8 * len(data), est)


def test_training_lowers_the_bits_on_blocky_code_maps():
    torch.manual_seed(0)
    m = CheckerboardCategorical(LEVELS, hidden_channels=16)
    g = torch.Generator().manual_seed(5)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)

    def batch():
        low = torch.stack([torch.randint(0, lv, (4, 4, 4), generator=g) for lv in LEVELS], dim=1)
        return low.repeat_interleave(3, dim=-2).repeat_interleave(3, dim=-1)  # [4, D, 12, 12]

    history = []
    for _ in range(150):
        k = batch()
        out = m(k)
        bits = out.bits() / k.numel()
        opt.zero_grad()
        bits.backward()
        opt.step()
        history.append(bits.item())
    assert all(torch.isfinite(torch.tensor(history)))
    start, end = sum(history[:5]) / 5, sum(history[-20:]) / 20
    assert end < start - 0.5, (start, end)
    k = batch()
    values, ok = m.decompress(m.compress(k), k.shape)
    assert ok and torch.equal(values, k)


def test_inputs_are_validated():
    m = _model()
    k = torch.zeros(1, len(LEVELS), 3, 3, dtype=torch.int64)
    with pytest.raises(InputError):
        m.compress(k.float())
    with pytest.raises(InputError):
        m.compress(k + 7)  # 7 is out of range for the 5-level dimensions
    with pytest.raises(InputError):
        m.compress(k[:, :5])
    with pytest.raises(InputError):
        m.compress(k, visible=torch.ones(2, 3, 3, dtype=torch.bool))
    with pytest.raises(InputError):
        _model(2).compress(k)  # this model needs its context
