"""From a first-frame intent mask to token classes (TokenCom §II-B-2/3, Alg. 1, 000_cfad1eb21f67e2e2.txt).

::

    M_0 [H,W] ──► optical flow k→k+1, bilinear warping (eq. 6) ──► M_0..M_{T-1} [T,H,W] in [0,1]
              ──► spatio-temporal pooling to the token grid (eq. 7) ──► M̄_τ [t,h,w]
              ──► threshold θ (eq. 8) ──► S_τ [t,h,w] bool;  ρ_s = N_s / (t·h·w) (eq. 13)

Causal token grids (Cosmos DV, tokcom DV): token frame τ = 0 covers frame 0 alone, τ ≥ 1 covers frames
``1 + (τ−1)·d_t … τ·d_t``; eq. (7)'s window ``τ·d_t + f`` is the non-causal form of the same pooling
(docs/deviations.md). Frames past the clip (causal padding) repeat the last frame's mask.
"""

from __future__ import annotations

import numpy as np

from tokcom.errors import InputError


def frame_groups(num_frames: int, temporal_factor: int, latent_frames: int) -> list[np.ndarray]:
    """For each token frame τ, the indices of the (real, unpadded) input frames it covers (causal rule)."""
    out = []
    for tau in range(latent_frames):
        if tau == 0:
            idx = np.array([0])
        else:
            idx = np.arange(1 + (tau - 1) * temporal_factor, tau * temporal_factor + 1)
        out.append(np.minimum(idx, num_frames - 1))
    return out


def token_frame_of(num_frames: int, temporal_factor: int) -> np.ndarray:
    """``[T]`` int: the token frame τ each input frame belongs to (0 for frame 0, ⌈k/d_t⌉ after)."""
    k = np.arange(num_frames)
    return np.where(k == 0, 0, (k + temporal_factor - 1) // temporal_factor)


def propagate_mask(frames: np.ndarray, mask0: np.ndarray, *, flow: str = "dis",
                   flow_fn=None) -> np.ndarray:
    """Carry the first-frame mask through the clip with dense optical flow, eq. (6), 000_cfad1eb21f67e2e2.txt.

    ``M_{k+1}(x, y) = M_k(x + Δx, y + Δy)`` with bilinear sampling of the four neighbours of ``M_k``. The
    displacement is taken from the flow **from frame k+1 to frame k** so that sampling carries the mask
    *with* the motion (eq. 6 read literally with the forward flow F_{k→k+1} moves it against the motion;
    docs/deviations.md). The masks stay soft (values in [0, 1]); eqs. (7)–(8) threshold after pooling.

    Args:
        frames: ``[T, H, W, 3]`` uint8 RGB.
        mask0: ``[H, W]`` bool/float first-frame mask M_0 (eq. 5).
        flow: ``"dis"`` (OpenCV DIS) — the flow estimator name (used when ``flow_fn`` is None).
        flow_fn: optional ``flow_fn(a, b) → [H, W, 2]`` flow from ``a`` to ``b`` (e.g. RIFE's).

    Returns:
        ``[T, H, W]`` float32 masks in [0, 1].
    """
    from tokcom.video.flow import dense_flow, warp_backward

    f = np.asarray(frames)
    m0 = np.asarray(mask0, dtype=np.float32)
    if f.ndim != 4 or m0.shape != f.shape[1:3]:
        raise InputError(f"mask {m0.shape} does not match frames {f.shape}")
    fn = flow_fn or (lambda a, b: dense_flow(a, b, method=flow))
    out = np.empty(f.shape[:3], np.float32)
    out[0] = m0
    for k in range(f.shape[0] - 1):
        back = fn(f[k + 1], f[k])  # flow k+1 → k: where each pixel of frame k+1 came from in frame k
        out[k + 1] = np.clip(warp_backward(out[k], back), 0.0, 1.0)  # eq. (6)
    return out


def pool_to_tokens(masks: np.ndarray, temporal_factor: int, spatial_factor: int,
                   latent_shape: tuple[int, int, int]) -> np.ndarray:
    """Spatio-temporal pooling of pixel masks to the token grid, eq. (7), 000_cfad1eb21f67e2e2.txt.

    ``M̄_τ = mean over the frames of token frame τ of AdaptiveAvgPool2D(M_k, (h, w))`` with the causal
    grouping of :func:`frame_groups`. ``masks`` ``[T, H, W]`` → ``[t, h, w]`` float32 in [0, 1].
    """
    import cv2

    m = np.asarray(masks, dtype=np.float32)
    t, h, w = latent_shape
    sf = spatial_factor
    hp, wp = h * sf, w * sf
    out = np.zeros((t, h, w), np.float32)
    for tau, idx in enumerate(frame_groups(m.shape[0], temporal_factor, t)):
        acc = np.zeros((h, w), np.float32)
        for k in idx:
            mk = m[k]
            if mk.shape != (hp, wp):  # the tokenizer pads by replication to multiples of sf
                mk = cv2.copyMakeBorder(mk, 0, hp - mk.shape[0], 0, wp - mk.shape[1], cv2.BORDER_REPLICATE)
            acc += mk.reshape(h, sf, w, sf).mean(axis=(1, 3))  # AdaptiveAvgPool2D to (h, w)
        out[tau] = acc / len(idx)
    return out


def token_mask(pooled: np.ndarray, theta: float = 0.3) -> np.ndarray:
    """S_τ = 1[M̄_τ > θ], eq. (8), 000_cfad1eb21f67e2e2.txt: ``[t, h, w]`` bool."""
    if not 0.0 < theta <= 1.0:
        raise InputError(f"theta must be in (0, 1]; got {theta}")
    return np.asarray(pooled) > theta


def intended_ratio(s: np.ndarray) -> float:
    """ρ_s = N_s / (t·h·w), eq. (13), 000_cfad1eb21f67e2e2.txt."""
    s = np.asarray(s, dtype=bool)
    return float(s.sum()) / s.size if s.size else 0.0


def token_region_pixels(s: np.ndarray, num_frames: int, temporal_factor: int, spatial_factor: int,
                        height: int, width: int) -> np.ndarray:
    """The pixel region of the token mask: ``[T, H, W]`` bool, frame k ↦ token frame τ(k), each token cell
    ↦ its ``sf × sf`` pixel block (cropped to H × W)."""
    s = np.asarray(s, dtype=bool)
    tau = token_frame_of(num_frames, temporal_factor)
    up = np.repeat(np.repeat(s, spatial_factor, axis=1), spatial_factor, axis=2)[:, :height, :width]
    return up[np.minimum(tau, s.shape[0] - 1)]
