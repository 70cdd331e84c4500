"""Flow-based frame interpolation without learned weights: the fallback f_int of Resi-VidTok eq. (21).

Pipeline for a pair ``(a, b)`` = frames at times 0 and 1, and each time ``t`` in ``alphas``::

    a, b ─► DIS flows F_01 = flow(a→b), F_10 = flow(b→a)          (tokcom.video.flow.dense_flow)
         ─► visibility: forward–backward consistency c_0 (a's pixels seen in b), c_1 (b's pixels seen in a)
         ─► intermediate flows F_t0, F_t1 (Super SloMo linear approximation)
         ─► backward warps  Î_0 = g(a, F_t0),  Î_1 = g(b, F_t1)
         ─► visibility-weighted fusion  I_t = ((1−t)·V_t0·Î_0 + t·V_t1·Î_1) / ((1−t)·V_t0 + t·V_t1)

The intermediate flows and the fusion are those of Super SloMo (H. Jiang, D. Sun, V. Jampani, M.-H. Yang,
E. Learned-Miller, J. Kautz, "Super SloMo: High Quality Estimation of Multiple Intermediate Frames for Video
Interpolation", CVPR 2018, eqs. (1), (4) and (6)) with the learned parts replaced: the flow is OpenCV DIS
(no refinement network) and the visibility maps come from a forward–backward consistency check instead of
a network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tokcom.video.flow import dense_flow, warp_backward

_MIN_FLOW_SIDE = 16  # OpenCV DIS needs ≥ 12 px; frames below this are edge-padded for the flow only


def consistency(flow_ab: np.ndarray, flow_ba: np.ndarray) -> np.ndarray:
    """Forward–backward consistency of ``flow_ab``: 1 where a pixel of ``a`` is seen again in ``b``.

    A pixel ``x`` of ``a`` is consistent when going to ``b`` and back lands near ``x`` (Sundaram, Brox,
    Keutzer, "Dense point trajectories by GPU-accelerated large displacement optical flow", ECCV 2010)::

        |F_ab(x) + F_ba(x + F_ab(x))|²  <  0.01·(|F_ab(x)|² + |F_ba(x + F_ab(x))|²) + 0.5

    Pixels failing it are (mostly) occluded in ``b`` or leave the frame.

    Args:
        flow_ab: ``[H, W, 2]`` float32 flow from ``a`` to ``b``.
        flow_ba: ``[H, W, 2]`` float32 flow from ``b`` to ``a``.

    Returns:
        ``[H, W]`` float32 in {0, 1}.
    """
    back = warp_backward(flow_ba, flow_ab)
    err2 = np.sum((flow_ab + back) ** 2, axis=-1)
    tol = 0.01 * (np.sum(flow_ab**2, axis=-1) + np.sum(back**2, axis=-1)) + 0.5
    return (err2 < tol).astype(np.float32)


def intermediate_flows(flow_01: np.ndarray, flow_10: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Super SloMo's linear approximation of the flows from time ``t`` back to frames 0 and 1.

    Jiang et al. 2018 (Super SloMo), eq. (4)::

        F_t→0 = −(1 − t)·t·F_0→1 + t²·F_1→0
        F_t→1 = (1 − t)²·F_0→1 − t·(1 − t)·F_1→0

    (exact for motion that is linear in time and locally smooth; the paper refines them with a network).

    Args:
        flow_01, flow_10: ``[H, W, 2]`` float32 flows 0→1 and 1→0.
        t: time in [0, 1].

    Returns:
        ``(F_t→0, F_t→1)``, each ``[H, W, 2]`` float32.
    """
    ft0 = -(1.0 - t) * t * flow_01 + t * t * flow_10
    ft1 = (1.0 - t) ** 2 * flow_01 - t * (1.0 - t) * flow_10
    return ft0.astype(np.float32), ft1.astype(np.float32)


def _pairwise_flows(a: np.ndarray, b: np.ndarray, preset: str) -> tuple[np.ndarray, np.ndarray]:
    """DIS flows a→b and b→a; frames smaller than DIS allows are edge-padded, and the flows cropped back."""
    h, w = a.shape[:2]
    ph, pw = max(0, _MIN_FLOW_SIDE - h), max(0, _MIN_FLOW_SIDE - w)
    if ph or pw:
        pad = ((0, ph), (0, pw), (0, 0))
        a, b = np.pad(a, pad, mode="edge"), np.pad(b, pad, mode="edge")
    f01 = dense_flow(a, b, method="dis", preset=preset)[:h, :w]
    f10 = dense_flow(b, a, method="dis", preset=preset)[:h, :w]
    return np.ascontiguousarray(f01), np.ascontiguousarray(f10)


def flow_interpolate(a: np.ndarray, b: np.ndarray, alphas: Sequence[float], *, preset: str = "medium",
                     occlusion: bool = True, min_visibility: float = 0.3) -> list[np.ndarray]:
    """Frames at each ``alpha`` between ``a`` (0) and ``b`` (1): eq. (21), 001_c16fa1dac0c35e06.txt, with
    the RIFE network replaced by DIS flow + Super SloMo fusion (Jiang et al. 2018).

    Fusion, Super SloMo eq. (1)/(6), ``g`` = bilinear backward warp, ``⊙`` per pixel::

        I_t = ((1−t)·V_t0 ⊙ g(I_0, F_t→0) + t·V_t1 ⊙ g(I_1, F_t→1)) / ((1−t)·V_t0 + t·V_t1)

    with visibilities from the consistency maps ``c_0`` (a's pixels seen in b) and ``c_1`` (b's pixels
    seen in a), read where each warp samples::

        V_t0(x) = max(c_1(x + F_t→1(x)), m)     (a's sample is wrong where b shows content a lacks)
        V_t1(x) = max(c_0(x + F_t→0(x)), m)     (b's sample is wrong where a's content is hidden in b)

    ``m = min_visibility`` keeps a share of both samples (the consistency check also fails on flow errors
    at motion boundaries, where switching to a single misaligned sample costs more than it gains); with
    ``m = 0`` a pixel where both samples are flagged falls back to the plain time blend ``(1−t), t``.
    ``occlusion=False`` uses ``V = 1`` (the plain warped blend).

    Args:
        a, b: ``[H, W, 3]`` uint8 RGB, same shape.
        alphas: times in [0, 1].
        preset: DIS preset (``ultrafast``, ``fast``, ``medium``).
        occlusion: weight the warped frames by their visibility.
        min_visibility: floor ``m`` of the visibility maps, in [0, 1].

    Returns:
        One ``[H, W, 3]`` uint8 frame per alpha.
    """
    f01, f10 = _pairwise_flows(a, b, preset)
    if occlusion:
        c0, c1 = consistency(f01, f10), consistency(f10, f01)
    af, bf = a.astype(np.float32), b.astype(np.float32)
    out: list[np.ndarray] = []
    for alpha in alphas:
        t = float(alpha)
        ft0, ft1 = intermediate_flows(f01, f10, t)
        wa, wb = warp_backward(af, ft0), warp_backward(bf, ft1)
        if occlusion:
            va = np.maximum(warp_backward(c1, ft1), min_visibility)
            vb = np.maximum(warp_backward(c0, ft0), min_visibility)
            ka, kb = (1.0 - t) * va, t * vb
            both_hidden = (ka + kb) < 1e-6
            ka = np.where(both_hidden, 1.0 - t, ka)
            kb = np.where(both_hidden, t, kb)
        else:
            ka = np.full(a.shape[:2], 1.0 - t, np.float32)
            kb = np.full(a.shape[:2], t, np.float32)
        frame = (ka[..., None] * wa + kb[..., None] * wb) / (ka + kb)[..., None]
        out.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return out
