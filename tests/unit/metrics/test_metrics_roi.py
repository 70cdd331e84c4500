"""ROI metrics inside/outside a mask."""

import numpy as np
import pytest
from metrics_testutil import HERE, needs_weights

from tokcom.errors import InputError
from tokcom.metrics import compute_metrics, roi_metrics
from tokcom.metrics.pixel import psnr_per_frame


def _pair():
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
    dist = ref.copy()
    noisy = ref[:, :, 32:].astype(int) + rng.normal(0, 20, (3, 48, 32, 3))
    dist[:, :, 32:] = np.clip(noisy, 0, 255).astype(np.uint8)
    mask = np.zeros((48, 64), bool)
    mask[:, :32] = True  # the untouched half is the ROI
    return ref, dist, mask


def test_psnr_inside_outside():
    ref, dist, mask = _pair()
    v, _ = roi_metrics(ref, dist, mask, lpips=False)
    assert v["psnr_roi_in"] == 100.0
    assert abs(v["psnr_roi_out"] - psnr_per_frame(ref[:, :, 32:], dist[:, :, 32:]).mean()) < 1e-9
    full, _ = roi_metrics(ref, dist, np.ones((3, 48, 64)), lpips=False)
    assert abs(full["psnr_roi_in"] - psnr_per_frame(ref, dist).mean()) < 1e-9 and np.isnan(full["psnr_roi_out"])
    with pytest.raises(InputError):
        roi_metrics(ref, dist, mask[:10])


@needs_weights("lpips-alex")
def test_lpips_inside_outside():
    ref, dist, mask = _pair()
    v, un = roi_metrics(ref, dist, mask)
    assert not un
    assert v["lpips_alex_roi_out"] > v["lpips_alex_roi_in"] >= 0
    pairs = np.load(HERE / "perceptual_pairs.npz")
    a, b = pairs["bikes_ref"][None], pairs["bikes_jpeg"][None]
    v, _ = roi_metrics(a, b, np.ones((64, 64), bool))
    full, _ = compute_metrics(a, b, ["lpips_alex"])
    assert abs(v["lpips_alex_roi_in"] - full["lpips_alex"]) < 0.2 * full["lpips_alex"]  # spatial map ≈ global


def test_lpips_roi_unavailable_without_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path))
    ref, dist, mask = _pair()
    v, un = roi_metrics(ref, dist, mask)
    assert "psnr_roi_in" in v and "tokcom models fetch lpips-alex" in un["lpips_alex_roi_in"]
