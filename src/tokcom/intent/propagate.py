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
from tokcom.video.flow import dense_flow, warp_backward


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


def _pool_frame(mk: np.ndarray, h: int, w: int, sf: int) -> np.ndarray:
    """AdaptiveAvgPool2D of one ``[H, W]`` mask to the ``(h, w)`` token grid (replicate-padded to ``sf``)."""
    import cv2

    hp, wp = h * sf, w * sf
    if mk.shape != (hp, wp):  # the tokenizer pads by replication to multiples of sf
        mk = cv2.copyMakeBorder(mk, 0, hp - mk.shape[0], 0, wp - mk.shape[1], cv2.BORDER_REPLICATE)
    return mk.reshape(h, sf, w, sf).mean(axis=(1, 3))


def propagate_and_pool(frames: np.ndarray, mask0: np.ndarray, temporal_factor: int, spatial_factor: int,
                       latent_shape: tuple[int, int, int], *, flow: str = "dis", flow_fn=None,
                       keep: set[int] | frozenset[int] = frozenset()) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Eqs. (6)–(7) in one pass: :func:`propagate_mask` then :func:`pool_to_tokens`, frame by frame.

    Only the current mask is held (not ``[T, H, W]`` of them), so memory does not grow with the clip; the
    masks of the frames in ``keep`` are returned as well (pictures for people).

    Returns:
        ``(pooled [t, h, w] float32, {frame: [H, W] float32 mask} for the frames in keep)``.
    """
    f = np.asarray(frames)
    m = np.asarray(mask0, dtype=np.float32)
    if f.ndim != 4 or m.shape != f.shape[1:3]:
        raise InputError(f"mask {m.shape} does not match frames {f.shape}")
    fn = flow_fn or (lambda a, b: dense_flow(a, b, method=flow))
    t, h, w = latent_shape
    T = f.shape[0]
    groups = frame_groups(T, temporal_factor, t)
    # how often each real frame counts in each token frame (padded frames repeat the last real one)
    weight: dict[int, list[tuple[int, int]]] = {}
    for tau, idx in enumerate(groups):
        for k in set(idx.tolist()):
            weight.setdefault(k, []).append((tau, int((idx == k).sum())))
    acc = np.zeros((t, h, w), np.float32)
    kept: dict[int, np.ndarray] = {}
    for k in range(T):
        if k > 0:
            back = fn(f[k], f[k - 1])  # flow k → k−1: where each pixel of frame k came from
            m = np.clip(warp_backward(m, back), 0.0, 1.0)  # eq. (6)
        if k in keep:
            kept[k] = m.copy()
        if k in weight:
            pooled = _pool_frame(m, h, w, spatial_factor)
            for tau, n in weight[k]:
                acc[tau] += n * pooled
    for tau, idx in enumerate(groups):
        acc[tau] /= len(idx)  # eq. (7): the mean over the frames of token frame τ
    return acc, kept


class TokenRegion:
    """The pixel region of a token mask, frame by frame, without ``[T, H, W]`` of storage: ``region[k]`` is
    the ``[H, W]`` bool mask of frame k (token frame τ(k), each token cell ↦ its ``sf × sf`` block)."""

    def __init__(self, s: np.ndarray, num_frames: int, temporal_factor: int, spatial_factor: int,
                 height: int, width: int) -> None:
        self.s = np.asarray(s, dtype=bool)
        self.tau = np.minimum(token_frame_of(num_frames, temporal_factor), self.s.shape[0] - 1)
        self.sf, self.height, self.width = spatial_factor, height, width
        self.shape = (num_frames, height, width)
        self._cache: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, k: int) -> np.ndarray:
        tau = int(self.tau[k])
        if self._cache is None or self._cache[0] != tau:
            up = np.repeat(np.repeat(self.s[tau], self.sf, axis=0), self.sf, axis=1)[: self.height, : self.width]
            self._cache = (tau, np.ascontiguousarray(up))
        return self._cache[1]

    def any(self) -> bool:
        return bool(self.s.any())


def pool_to_tokens(masks: np.ndarray, temporal_factor: int, spatial_factor: int,
                   latent_shape: tuple[int, int, int]) -> np.ndarray:
    """Spatio-temporal pooling of pixel masks to the token grid, eq. (7), 000_cfad1eb21f67e2e2.txt.

    ``M̄_τ = mean over the frames of token frame τ of AdaptiveAvgPool2D(M_k, (h, w))`` with the causal
    grouping of :func:`frame_groups`. ``masks`` ``[T, H, W]`` → ``[t, h, w]`` float32 in [0, 1].
    """
    m = np.asarray(masks, dtype=np.float32)
    t, h, w = latent_shape
    out = np.zeros((t, h, w), np.float32)
    for tau, idx in enumerate(frame_groups(m.shape[0], temporal_factor, t)):
        acc = np.zeros((h, w), np.float32)
        for k in idx:
            acc += _pool_frame(m[k], h, w, spatial_factor)  # AdaptiveAvgPool2D to (h, w)
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
