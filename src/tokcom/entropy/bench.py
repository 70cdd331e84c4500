"""Measure the entropy coders: actual vs estimated bits and encode/decode speed (docs/entropy.md).

``python -m tokcom.entropy.bench [--scale N]`` prints one line per model. Data are drawn from each model's
own distribution (synthetic-matched), except the factorized prior, which is first trained for 200 steps on
a Gaussian/Laplacian mixture. One torch thread; timings exclude the first call (table building).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

__all__ = ["main", "measure"]


def _timed(fn: Callable[[], object], repeat: int = 3) -> tuple[object, float]:
    fn()  # warm-up: builds and caches tables
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def measure(scale: int = 1) -> list[dict]:
    """One record per model: symbols, estimated and actual bits, overhead %, encode/decode symbols/s."""
    import torch

    from tokcom.entropy import (
        CheckerboardCategorical,
        CheckerboardGaussian,
        FactorizedPrior,
        GaussianConditional,
        anchor_mask,
    )

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    rows = []

    def record(name, n, est, enc, dec, same):
        data, te = _timed(enc)
        (values, ok), td = _timed(lambda: dec(data))
        rows.append({"model": name, "symbols": n, "estimated_bits": est, "actual_bits": 8 * len(data),
                     "overhead_pct": 100 * (8 * len(data) / est - 1), "encode_sym_s": n / te,
                     "decode_sym_s": n / td, "exact": bool(ok and same(values))})

    # Gaussian conditional: y ~ N(μ, σ), σ log-uniform in [0.2, 30]
    n = 100_000 * scale
    gc = GaussianConditional()
    sigma = torch.exp(torch.empty(n).uniform_(math.log(0.2), math.log(30.0), generator=g))
    mu = torch.randn(n, generator=g) * 10
    y = mu + sigma * torch.randn(n, generator=g)
    record("GaussianConditional", n, gc(y, sigma, mu, mode="round").bits().item(),
           lambda: gc.compress(y, sigma, mu), lambda d: gc.decompress(d, sigma, mu),
           lambda v: torch.equal(v, torch.round(y - mu) + mu))

    # Factorized prior, trained 200 steps
    c = 16
    scales = torch.exp(torch.linspace(-1.0, 2.5, c)).view(1, c, 1, 1)

    def zdata(b, h):
        lap = torch.distributions.Laplace(0.0, 1.0).sample((b, c, h, h))
        return torch.where(torch.rand(b, c, h, h, generator=g) < 0.5, torch.randn(b, c, h, h, generator=g), lap) * scales

    torch.manual_seed(0)
    prior = FactorizedPrior(c)
    opt = torch.optim.Adam(prior.parameters(), lr=0.02)
    for _ in range(200):
        loss = prior(zdata(2, 16), mode="noise", generator=g).bits() / (2 * c * 256)
        opt.zero_grad()
        loss.backward()
        opt.step()
    z = zdata(4 * scale, 40)
    record("FactorizedPrior", z.numel(), prior(z, mode="round").bits().item(), lambda: prior.compress(z),
           lambda d: prior.decompress(d, z.shape), lambda v: torch.equal(v, torch.round(z)))

    # Checkerboard Gaussian, sampled from the model (random non-zero context net)
    cb = CheckerboardGaussian(16)
    with torch.no_grad():
        for p in cb.fuse[-1].parameters():
            p.normal_(0.0, 0.05)
    b, h, w = 4 * scale, 40, 40
    mu0 = torch.randn(b, 16, h, w, generator=g) * 3
    s0 = torch.exp(torch.empty(b, 16, h, w).uniform_(-1.0, 2.5, generator=g))
    hyper = torch.cat([mu0, s0], 1)
    an = anchor_mask(h, w)
    ya = mu0 + s0 * torch.randn(mu0.shape, generator=g)
    with torch.no_grad():
        mu1, s1 = cb.nonanchor_params(torch.where(an, torch.round(ya - mu0) + mu0, torch.zeros(())), hyper)
    yc = torch.where(an, ya, mu1 + s1 * torch.randn(mu0.shape, generator=g))
    ref = cb.reconstruct(yc, hyper)
    record("CheckerboardGaussian", yc.numel(), cb(yc, hyper, mode="round").bits().item(),
           lambda: cb.compress(yc, hyper), lambda d: cb.decompress(d, hyper), lambda v: torch.equal(v, ref))

    # Categorical checkerboard on FSQ (8,8,8,5,5,5) code maps, sampled from the model
    levels = (8, 8, 8, 5, 5, 5)
    cat = CheckerboardCategorical(levels, hidden_channels=32)
    with torch.no_grad():
        cat.anchor.weight.mul_(3.0)
        cat.anchor.bias.normal_(0.0, 1.0)
        for p in cat.fuse[-1].parameters():
            p.normal_(0.0, 0.3)
    b, h, w = 4 * scale, 32, 32
    side = torch.ones(b, 1, h, w)

    def draw(logits):
        planes = []
        for lg in torch.split(logits, levels, dim=1):
            pr = lg.softmax(1).permute(0, 2, 3, 1).reshape(-1, lg.shape[1])
            planes.append(torch.multinomial(pr, 1, generator=g).view(b, h, w))
        return torch.stack(planes, 1)

    with torch.no_grad():
        base = cat.anchor_logits(side)
        ka = draw(base)
        k = torch.where(anchor_mask(h, w), ka, draw(cat.nonanchor_logits(ka, anchor_mask(h, w), side, base)))
    record("CheckerboardCategorical", k.numel(), cat(k).bits().item(), lambda: cat.compress(k),
           lambda d: cat.decompress(d, k.shape), lambda v: torch.equal(v, k))
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1, help="multiply the tensor sizes")
    args = ap.parse_args(argv)
    print(f"{'model':<24} {'symbols':>8} {'est. bits':>10} {'bits':>10} {'overhead':>9} "
          f"{'enc sym/s':>11} {'dec sym/s':>11} exact")
    for r in measure(args.scale):
        print(f"{r['model']:<24} {r['symbols']:>8} {r['estimated_bits']:>10.0f} {r['actual_bits']:>10} "
              f"{r['overhead_pct']:>8.2f}% {r['encode_sym_s']:>11.3g} {r['decode_sym_s']:>11.3g} {r['exact']}")


if __name__ == "__main__":
    main()
