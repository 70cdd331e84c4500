"""Dense optical flow (OpenCV DIS) and warping: the one place both intent propagation (TokenCom eq. 6)
and frame interpolation (Resi-VidTok eq. 21 fallback) get their motion from.

Conventions: frames are ``[H, W, 3]`` uint8 RGB (or ``[H, W]`` grey); a flow is ``[H, W, 2]`` float32 in
pixels, ``flow[y, x] = (dx, dy)`` (OpenCV order). ``flow_ab = dense_flow(a, b)`` maps a pixel ``(x, y)`` of
``a`` to ``(x + dx, y + dy)`` in ``b``.
"""

from __future__ import annotations

import numpy as np

from tokcom.errors import InputError

FLOW_METHODS = ("dis",)
_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}


def _grey(frame: np.ndarray) -> np.ndarray:
    import cv2

    f = np.asarray(frame)
    if f.ndim == 3:
        f = cv2.cvtColor(np.ascontiguousarray(f, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    if f.ndim != 2:
        raise InputError(f"flow needs [H,W,3] or [H,W] frames; got shape {np.shape(frame)}")
    return np.ascontiguousarray(f, dtype=np.uint8)


DIS_MIN_SIDE = 16  # OpenCV's DIS fails on frames smaller than about 12 px a side


def dense_flow(a: np.ndarray, b: np.ndarray, method: str = "dis", preset: str = "medium") -> np.ndarray:
    """Dense flow from frame ``a`` to frame ``b``: ``[H, W, 2]`` float32 ``(dx, dy)`` in pixels.

    ``method="dis"``: OpenCV's Dense Inverse Search (Kroeger et al. 2016), ``preset`` ultrafast|fast|medium.
    Deterministic (single-threaded OpenCV call on CPU).
    """
    import cv2

    if method not in FLOW_METHODS:
        raise InputError(f"unknown flow method {method!r}; valid: {', '.join(FLOW_METHODS)}")
    if preset not in _PRESETS:
        raise InputError(f"unknown DIS preset {preset!r}; valid: {', '.join(_PRESETS)}")
    ga, gb = _grey(a), _grey(b)
    if ga.shape != gb.shape:
        raise InputError(f"flow frames differ in size: {ga.shape} vs {gb.shape}")
    h, w = ga.shape
    if h < DIS_MIN_SIDE or w < DIS_MIN_SIDE:  # DIS needs a few patches: edge-pad tiny frames, crop the flow
        ph, pw = max(0, DIS_MIN_SIDE - h), max(0, DIS_MIN_SIDE - w)
        ga = cv2.copyMakeBorder(ga, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        gb = cv2.copyMakeBorder(gb, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
    dis = cv2.DISOpticalFlow_create(_PRESETS[preset])
    return np.ascontiguousarray(dis.calc(ga, gb, None)[:h, :w]).astype(np.float32)


def sample_bilinear(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """``image`` sampled at sub-pixel ``(map_x, map_y)`` with bilinear interpolation; outside → edge value.

    ``image`` ``[H, W]`` or ``[H, W, C]`` (any dtype; computed in float32), maps ``[H', W']`` float32.
    """
    import cv2

    img = np.asarray(image, dtype=np.float32)
    return cv2.remap(img, map_x.astype(np.float32), map_y.astype(np.float32), interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def warp_backward(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``out[y, x] = image[y + flow[y,x,1], x + flow[y,x,0]]`` (bilinear): pulls ``image`` along ``flow``.

    With ``flow`` the flow from frame ``k+1`` to frame ``k`` this carries content of frame ``k`` to ``k+1``.
    Returns float32 of ``image``'s shape.
    """
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return sample_bilinear(image, gx + flow[..., 0], gy + flow[..., 1])


def check_flow_method(name: str) -> str:
    if name not in FLOW_METHODS:
        raise InputError(f"unknown flow method {name!r}; valid: {', '.join(FLOW_METHODS)}")
    return name
