"""Intent regions, flow propagation (eq. 6), pooling (eqs. 7–8), ρ_s (eq. 13) and block-motion side info."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.intent.masks import box_mask, load_mask
from tokcom.intent.motion import apply_block_motion, fit_block_motion, side_info_bits, side_info_ratio
from tokcom.intent.propagate import (
    frame_groups,
    intended_ratio,
    pool_to_tokens,
    propagate_mask,
    token_frame_of,
    token_mask,
    token_region_pixels,
)


def test_box_and_mask(tmp_path):
    m = box_mask((2, 1, 5, 3), 4, 8)
    assert m.sum() == 6 and m[1:3, 2:5].all()
    for bad in [(5, 1, 2, 3), (100, 100, 200, 200), (1, 2, 3)]:
        with pytest.raises(InputError):
            box_mask(bad, 4, 8)
    import cv2

    img = np.zeros((8, 16), np.uint8)
    img[2:6, 4:8] = 255
    cv2.imwrite(str(tmp_path / "m.png"), img)
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png", 8, 16), img > 0)
    assert load_mask(tmp_path / "m.png", 4, 8).sum() == 4  # resized nearest
    cv2.imwrite(str(tmp_path / "z.png"), np.zeros((4, 4), np.uint8))
    (tmp_path / "bad.png").write_bytes(b"nope")
    for p in ("z.png", "bad.png", "missing.png"):
        with pytest.raises(InputError):
            load_mask(tmp_path / p, 4, 4)


def test_causal_grouping():
    assert [g.tolist() for g in frame_groups(9, 4, 3)] == [[0], [1, 2, 3, 4], [5, 6, 7, 8]]
    assert frame_groups(7, 4, 3)[2].tolist() == [5, 6, 6, 6]  # padded frames repeat the last
    assert token_frame_of(9, 4).tolist() == [0, 1, 1, 1, 1, 2, 2, 2, 2]


def test_propagation_follows_real_motion():
    """A textured frame shifted right by 6 px: the mask moves with it (eq. 6 with the backward flow)."""
    rng = np.random.default_rng(0)
    import cv2

    base = cv2.GaussianBlur(rng.integers(0, 255, (96, 128, 3)).astype(np.uint8), (0, 0), 2)
    frames = np.stack([np.roll(base, 6 * k, axis=1) for k in range(3)])
    m0 = box_mask((40, 30, 70, 60), 96, 128)
    m = propagate_mask(frames, m0)
    assert m.shape == (3, 96, 128) and m.dtype == np.float32
    inside = m[2][35:55, 58:76]
    assert inside.mean() > 0.9 and m[2][35:55, 40:48].mean() < 0.1  # moved by ≈ 12 px


def test_pooling_threshold_ratio_and_region():
    masks = np.zeros((5, 16, 16), np.float32)
    masks[:, :8, :8] = 1.0
    masks[3:, :8, :4] = 0.0  # frames 3, 4 lose the left half of the block
    pooled = pool_to_tokens(masks, 4, 8, (2, 2, 2))
    assert pooled[0, 0, 0] == 1.0 and pooled[1, 0, 0] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)  # eq. (7)
    s = token_mask(pooled, 0.3)  # eq. (8)
    assert s[:, 0, 0].all() and not s[:, 1, 1].any()
    assert intended_ratio(s) == pytest.approx(2 / 8)  # eq. (13)
    reg = token_region_pixels(s, 5, 4, 8, 16, 16)
    assert reg.shape == (5, 16, 16) and reg[4, :8, :8].all() and not reg[4, 8:].any()


def test_block_motion_side_info_roundtrip():
    rng = np.random.default_rng(1)
    s = np.zeros((5, 12, 14), bool)
    s[0, 3:7, 2:6] = True
    for tau in range(1, 5):
        s[tau] = np.roll(s[tau - 1], 1, axis=1)  # moves one token right per token frame
    s[3, 0, 13] = True  # an outlier the vectors cannot express
    rebuilt, mvs = fit_block_motion(s, block=4, mv_bits=6)
    assert mvs.shape == (4, 3, 4, 2)
    np.testing.assert_array_equal(apply_block_motion(rebuilt[0], mvs, 4, 6), rebuilt)  # receiver agrees
    assert (rebuilt == s).mean() > 0.99 and rebuilt[4, 3:7, 6:10].all()
    assert side_info_bits(5, 12, 14, 4, 6) == 12 * 14 + 4 * 3 * 4 * 6
    # eq. (33) with the paper's example: B_full 16, B_Δ 11, g = 4, ρ_s = 0.7 → a few percent
    r = side_info_ratio(5, 0.7, 16, 11, 4, 6)
    assert r == pytest.approx((1 / 5 + 4 * 6 / (5 * 16)) / (0.7 * 16 + 0.3 * 11))
    assert rng is not None
