"""Text intent → first-frame mask: TokenCom's CLIP patch heatmap (000_cfad1eb21f67e2e2.txt, §II-B-1).

Alg. 1 step 1 of Video TokenCom, eqs. (1)–(5)::

    frame I0 ─► ViT patch tokens ─► proj ─► cos(·, f_text(p)) ─► min–max ─► > ℓ ─► dilate ─► nearest ↑ ─► M0
    [H,W,3]     (⌈H/p⌉ × ⌈W/p⌉)               eq. (1)            eq. (2)   eq. (3)  (opt.)    eq. (5)   [H,W]
                                                                                   └─► ρ, eq. (4)

``f_img(I0^(i,j))`` of eq. (1) is the ViT's output token of patch (i, j) (after ``ln_post``) projected into
the joint image–text space with the visual ``proj``, as the paper describes; the model and its loading
are :func:`tokcom.models.clip.load_clip` (open_clip when it imports, tokcom's built-in ViT otherwise).
Frames whose sides are not multiples of p are resized to the next multiple for the ViT and the patch mask
is mapped back to pixels by :func:`upsample_mask` (see docs/deviations.md, "intent: CLIP").

Nothing here imports torch at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tokcom.errors import InputError, WeightsUnavailable

if TYPE_CHECKING:
    from tokcom.models.clip import ClipModel

DEFAULT_CLIP = "clip-vit-b-32"
DEFAULT_THRESHOLD = 0.6  # ℓ, §III of 000_cfad1eb21f67e2e2.txt
INTENT_HINT = "or give the intent as --intent-box x0,y0,x1,y1 or --intent-mask PNG"

__all__ = [
    "DEFAULT_CLIP",
    "DEFAULT_THRESHOLD",
    "get_clip",
    "normalize_heatmap",
    "patch_mask",
    "patch_ratio",
    "text_heatmap",
    "text_intent_mask",
    "upsample_mask",
]


def get_clip(model: ClipModel | str = DEFAULT_CLIP, device: str = "cpu") -> ClipModel:
    """A loaded :class:`~tokcom.models.clip.ClipModel` (``model`` itself when it is one).

    Raises:
        WeightsUnavailable: no weights; the one-line message names the fetch command and the box/mask
            alternatives (``--intent-box``, ``--intent-mask``).
        InputError: unknown model name or unusable model directory.
    """
    if not isinstance(model, str):
        return model
    try:
        from tokcom.models.clip import load_clip
    except ImportError as e:  # torch / safetensors missing
        raise WeightsUnavailable(f"text intent needs torch and safetensors ({e.name} missing): "
                                 f"pip install 'tokcom[torch,intent]'; {INTENT_HINT}") from None
    try:
        return load_clip(model, device=device)
    except WeightsUnavailable as e:
        msg = " ".join(str(e).split())
        raise WeightsUnavailable(f"text intent: {msg}; {INTENT_HINT}") from None


def _check_frame(frame: np.ndarray) -> np.ndarray:
    f = np.asarray(frame)
    if f.ndim != 3 or f.shape[2] != 3 or min(f.shape[:2]) == 0 or f.dtype != np.uint8:
        raise InputError(f"expected one uint8 RGB frame [H, W, 3], got {f.dtype} {f.shape}")
    return f


def text_heatmap(frame: np.ndarray, text: str, model: ClipModel | str = DEFAULT_CLIP,
                 device: str = "cpu") -> np.ndarray:
    """Raw text-conditioned patch heatmap Ĥ of eq. (1): cosine similarity of each patch with the text.

    Args:
        frame: first frame ``[H, W, 3], uint8`` RGB.
        text: the textual intent.
        model: a :class:`~tokcom.models.clip.ClipModel` or a name/path for :func:`~tokcom.models.clip.load_clip`.
        device: ``"cpu"`` or ``"cuda"`` (when ``model`` is a name).

    Returns:
        ``[h_p, w_p], float32`` in [-1, 1], ``(h_p, w_p) = (⌈H/p⌉, ⌈W/p⌉)`` (``(H/p, W/p)`` when p divides).

    Raises:
        WeightsUnavailable: no CLIP weights (message suggests ``--intent-box`` / ``--intent-mask``).
        InputError: empty text or a bad frame.
    """
    f = _check_frame(frame)
    if not isinstance(text, str) or not text.strip():
        raise InputError("text intent is empty")
    clip = get_clip(model, device)
    patches = clip.patch_embeddings(f)  # [h_p, w_p, D], L2-normalised
    t = clip.encode_text([text])[0].float().cpu().numpy()  # [D], L2-normalised
    # eq. (1), 000_cfad1eb21f67e2e2.txt: Ĥ_ij = cos(f_img(I0^(i,j)), f_text(p))
    return (patches @ t).astype(np.float32)


def normalize_heatmap(h: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Min–max normalised heatmap H̃ of eq. (2): ``(Ĥ − min Ĥ) / (max Ĥ − min Ĥ + ε)``, float32 in [0, 1).

    Args:
        h: ``[h_p, w_p]`` raw heatmap.
        eps: ε (a constant heatmap maps to all zeros).
    """
    a = np.asarray(h, np.float64)
    if a.size == 0:
        raise InputError("empty heatmap")
    lo, hi = a.min(), a.max()
    # eq. (2), 000_cfad1eb21f67e2e2.txt
    return ((a - lo) / (hi - lo + eps)).astype(np.float32)


def patch_mask(h_norm: np.ndarray, threshold: float = DEFAULT_THRESHOLD, dilation: int = 0) -> np.ndarray:
    """Binary patch mask M0^patch of eq. (3): ``H̃ > ℓ``, optionally dilated.

    Args:
        h_norm: ``[h_p, w_p]`` normalised heatmap (eq. (2)).
        threshold: ℓ (0.6 in the paper); strictly greater selects.
        dilation: number of binary dilations with a 3×3 square (each grows the selection by one patch in
            all 8 directions); 0 = none. The paper leaves the structuring element open.

    Returns:
        ``[h_p, w_p], bool``.
    """
    if int(dilation) < 0:
        raise InputError(f"dilation must be >= 0, got {dilation}")
    # eq. (3), 000_cfad1eb21f67e2e2.txt: M0^patch(i, j) = K[H̃_ij > ℓ]
    m = np.asarray(h_norm) > float(threshold)
    if int(dilation) > 0 and m.any():
        from scipy.ndimage import binary_dilation

        m = binary_dilation(m, structure=np.ones((3, 3), bool), iterations=int(dilation))
    return m


def patch_ratio(mask: np.ndarray) -> float:
    """ρ of eq. (4): the share of selected patches, in [0, 1]."""
    m = np.asarray(mask, bool)
    if m.size == 0:
        raise InputError("empty patch mask")
    # eq. (4), 000_cfad1eb21f67e2e2.txt: ρ = (1 / h_p w_p) Σ_ij M0^patch(i, j)
    return float(m.sum()) / m.size


def upsample_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pixel mask M0 of eq. (5): nearest-neighbour upsampling of the patch mask to ``[H, W]``.

    Pixel ``(y, x)`` takes patch ``(y·h_p // H, x·w_p // W)``: each patch's p×p block when ``H = h_p·p``
    and ``W = w_p·p``, and the proportional block otherwise.

    Returns:
        ``[H, W], bool``.
    """
    m = np.asarray(mask, bool)
    if m.ndim != 2 or m.size == 0:
        raise InputError(f"expected a 2-D patch mask, got shape {m.shape}")
    if int(height) < 1 or int(width) < 1:
        raise InputError(f"invalid mask size {height}x{width}")
    hp, wp = m.shape
    rows = (np.arange(int(height)) * hp) // int(height)
    cols = (np.arange(int(width)) * wp) // int(width)
    # eq. (5), 000_cfad1eb21f67e2e2.txt: M0 = U(M0^patch; H, W), nearest neighbour
    return m[rows[:, None], cols[None, :]]


def text_intent_mask(frame: np.ndarray, text: str, model: ClipModel | str = DEFAULT_CLIP,
                     threshold: float = DEFAULT_THRESHOLD, dilation: int = 0,
                     device: str = "cpu") -> tuple[np.ndarray, dict[str, Any]]:
    """Alg. 1 step 1: the first frame's pixel-level intent mask from a text, eqs. (1)–(5).

    Args:
        frame: ``[H, W, 3], uint8`` RGB first frame.
        text: the textual intent ("the cyclist in the red jacket").
        model: a :class:`~tokcom.models.clip.ClipModel`, a weight set (``clip-vit-b-32``), an architecture
            (``ViT-B-32``) or an open_clip model directory.
        threshold: ℓ of eq. (3).
        dilation: patch-mask dilations (see :func:`patch_mask`).
        device: ``"cpu"`` or ``"cuda"``.

    Returns:
        ``(mask, info)``: ``mask`` ``[H, W], bool`` (M0); ``info`` with ``heatmap`` (Ĥ ``[h_p, w_p]``
        float32), ``heatmap_norm`` (H̃), ``patch_mask`` (M0^patch, bool, after dilation), ``rho`` (ρ of
        eq. (4), of that patch mask), ``patch_size`` (p) and ``model`` (its name).

    Raises:
        WeightsUnavailable: no CLIP weights; one line naming the fetch command and ``--intent-box`` /
            ``--intent-mask``.
        InputError: bad frame, empty text, bad options.
    """
    f = _check_frame(frame)
    if not 0.0 <= float(threshold) <= 1.0:
        raise InputError(f"threshold ℓ must be in [0, 1], got {threshold}")
    clip = get_clip(model, device)
    h = text_heatmap(f, text, clip)
    hn = normalize_heatmap(h)
    pm = patch_mask(hn, threshold, dilation)
    mask = upsample_mask(pm, f.shape[0], f.shape[1])
    info = {"heatmap": h, "heatmap_norm": hn, "patch_mask": pm, "rho": patch_ratio(pm),
            "patch_size": clip.patch_size, "model": clip.name}
    return mask, info
