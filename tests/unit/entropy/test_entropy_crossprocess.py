"""Streams written in one process decode bit-exactly in another (weights shipped as a state dict,
different thread counts), and ``import tokcom.entropy`` stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("constriction")
pytest.importorskip("torch")

SCRIPT = r'''
import sys
from pathlib import Path
import torch
from tokcom.entropy import CheckerboardCategorical, CheckerboardGaussian, FactorizedPrior, GaussianConditional

mode, out = sys.argv[1], Path(sys.argv[2])
LEVELS = (8, 8, 8, 5, 5, 5)
torch.manual_seed(0 if mode == "encode" else 123)  # the decoder's weights must come from the file
models = {"factorized": FactorizedPrior(6), "checkerboard": CheckerboardGaussian(8),
          "categorical": CheckerboardCategorical(LEVELS, context_channels=2, hidden_channels=16)}
gc = GaussianConditional()
if mode == "encode":
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in models.values():
            for p in m.parameters():
                p.add_(0.1 * torch.randn(p.shape, generator=g))
    sigma = torch.exp(torch.randn(3, 40, 50, generator=g) * 1.5)
    mu = torch.randn(3, 40, 50, generator=g) * 8
    y = mu + sigma * torch.randn(3, 40, 50, generator=g)
    z = torch.randn(2, 6, 9, 13, generator=g) * 5
    yc = torch.randn(2, 8, 17, 21, generator=g) * 6
    hyper = torch.cat([torch.randn(2, 8, 17, 21, generator=g), torch.rand(2, 8, 17, 21, generator=g) * 5], 1)
    k = torch.stack([torch.randint(0, lv, (3, 15, 19), generator=g) for lv in LEVELS], dim=1)
    ctx = torch.randn(3, 2, 15, 19, generator=g)
    vis = torch.rand(3, 15, 19, generator=g) < 0.8
    streams = {"gaussian": gc.compress(y, sigma, mu), "factorized": models["factorized"].compress(z),
               "checkerboard": models["checkerboard"].compress(yc, hyper),
               "categorical": models["categorical"].compress(k, ctx, vis)}
    for name, data in streams.items():
        (out / f"{name}.bin").write_bytes(data)
    expected = {"gaussian": torch.round(y - mu) + mu, "factorized": torch.round(z),
                "checkerboard": models["checkerboard"].reconstruct(yc, hyper),
                "categorical": torch.where(vis.unsqueeze(1), k, torch.zeros((), dtype=torch.int64))}
    torch.save({n: m.state_dict() for n, m in models.items()}, out / "weights.pt")
    torch.save({"sigma": sigma, "mu": mu, "zshape": torch.tensor(z.shape), "hyper": hyper,
                "kshape": torch.tensor(k.shape), "ctx": ctx, "vis": vis, "expected": expected}, out / "side.pt")
else:
    torch.set_num_threads(1)
    weights = torch.load(out / "weights.pt", weights_only=True)
    for n, m in models.items():
        m.load_state_dict(weights[n])
    s = torch.load(out / "side.pt", weights_only=True)
    read = lambda n: (out / f"{n}.bin").read_bytes()
    got = {"gaussian": gc.decompress(read("gaussian"), s["sigma"], s["mu"]),
           "factorized": models["factorized"].decompress(read("factorized"), tuple(s["zshape"].tolist())),
           "checkerboard": models["checkerboard"].decompress(read("checkerboard"), s["hyper"]),
           "categorical": models["categorical"].decompress(read("categorical"), tuple(s["kshape"].tolist()),
                                                           s["ctx"], s["vis"])}
    for n, (values, ok) in got.items():
        assert ok, n
        assert torch.equal(values, s["expected"][n]), n
    print("DECODED", sorted(got))
'''


def _run(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", *args], check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_streams_decode_bit_exactly_in_another_process(tmp_path):
    _run(SCRIPT, "encode", str(tmp_path))
    assert "DECODED ['categorical', 'checkerboard', 'factorized', 'gaussian']" in _run(SCRIPT, "decode", str(tmp_path))


def test_import_is_light():
    out = _run("import sys, tokcom.entropy; print('torch' in sys.modules, 'constriction' in sys.modules)")
    assert out.split() == ["False", "False"]
