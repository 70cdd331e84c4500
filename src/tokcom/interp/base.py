"""The interpolators and their registry: the decoder-side f_int of Resi-VidTok, eq. (21), 001_c16fa1dac0c35e06.txt (§III-F).

A non-key frame at time ``t`` between recovered key frames ``t_-`` and ``t_+`` is synthesised as
``x̂_t = f_int(x̂_{t_-}, x̂_{t_+}, α_t)`` with ``α_t = (t − t_-)/(t_+ − t_-)``. Interpolators (all take and
give ``[H, W, 3]`` uint8 RGB frames of any size)::

    name    what                                                          needs
    rife    RIFE v3.9 IFNet (the paper's choice), tokcom's torch port      torch + weights rife-v3.9
    flow    OpenCV DIS flows both ways, Super SloMo intermediate flows,    opencv
            backward warps fused with forward–backward-consistency
            visibility
    blend   linear cross-fade (1−α)·a + α·b                                nothing
    auto    rife when its weights are cached, else flow

    >>> interp = get_interpolator("auto")
    >>> mid = interp.interpolate(a, b, [0.5])[0]
    >>> interp.name          # which one actually ran: "rife" or "flow"

Every interpolator returns ``a`` and ``b`` themselves (copies) at ``α = 0`` and ``α = 1``. torch and cv2 are
imported only when an interpolator is built or run.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tokcom import models
from tokcom.errors import InputError, TokcomError, WeightsUnavailable
from tokcom.interp.flow import flow_interpolate
from tokcom.registry import Registry
from tokcom.video.flow import _PRESETS

RIFE_WEIGHTS = "rife-v3.9"


class Interpolator(ABC):
    """Synthesises frames between two frames (eq. (21), 001_c16fa1dac0c35e06.txt).

    Attributes:
        name: the interpolator that runs (``"rife"``, ``"flow"`` or ``"blend"``), for reports.
    """

    name: str = ""

    def interpolate(self, a: np.ndarray, b: np.ndarray, alphas: Sequence[float]) -> list[np.ndarray]:
        """Frames at normalised times ``alphas`` between ``a`` (α = 0) and ``b`` (α = 1).

        Args:
            a, b: ``[H, W, 3]`` uint8 RGB, the same shape (any ``H, W ≥ 1``).
            alphas: times in [0, 1]; 0 and 1 give copies of ``a`` and ``b``.

        Returns:
            One ``[H, W, 3]`` uint8 frame per alpha, in order. Deterministic on CPU.

        Raises:
            InputError: frames not uint8 ``[H, W, 3]`` of one shape, or an alpha outside [0, 1].
        """
        a, b = _check_frames(a, b)
        ts = _check_alphas(alphas)
        inner = [t for t in ts if 0.0 < t < 1.0]
        made = iter(self._interpolate(a, b, inner) if inner else [])
        out: list[np.ndarray] = []
        for t in ts:
            if t == 0.0:
                out.append(a.copy())
            elif t == 1.0:
                out.append(b.copy())
            else:
                out.append(next(made))
        return out

    @abstractmethod
    def _interpolate(self, a: np.ndarray, b: np.ndarray, alphas: list[float]) -> list[np.ndarray]:
        """``a``, ``b`` checked ``[H, W, 3]`` uint8; ``alphas`` strictly inside (0, 1)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _check_frames(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    for label, f in (("a", a), ("b", b)):
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[-1] != 3 or f.shape[0] < 1 or f.shape[1] < 1:
            raise InputError(f"interpolation frame {label} must be uint8 [H,W,3]; got {f.dtype} {f.shape}")
    if a.shape != b.shape:
        raise InputError(f"interpolation frames differ in shape: {a.shape} vs {b.shape}")
    return a, b


def _check_alphas(alphas: Sequence[float]) -> list[float]:
    ts = [float(t) for t in np.asarray(alphas, dtype=np.float64).reshape(-1)]
    bad = [t for t in ts if not (math.isfinite(t) and 0.0 <= t <= 1.0)]
    if bad:
        raise InputError(f"interpolation times must lie in [0, 1]; got {bad[0]}")
    return ts


class BlendInterpolator(Interpolator):
    """Linear cross-fade ``(1 − α)·a + α·b`` (no motion model; the lower bound of the others)."""

    name = "blend"

    def _interpolate(self, a: np.ndarray, b: np.ndarray, alphas: list[float]) -> list[np.ndarray]:
        af, bf = a.astype(np.float32), b.astype(np.float32)
        return [np.clip(np.rint((1.0 - t) * af + t * bf), 0, 255).astype(np.uint8) for t in alphas]


class FlowInterpolator(Interpolator):
    """DIS flows both ways, Super SloMo intermediate flows, visibility-weighted fusion of the two warps.

    See :func:`tokcom.interp.flow.flow_interpolate` for the formulas (Jiang et al. 2018, Super SloMo).

    Args:
        preset: OpenCV DIS preset (``ultrafast``, ``fast``, ``medium``).
        occlusion: weight the warped frames by forward–backward-consistency visibility.
        min_visibility: floor of the visibility maps in [0, 1].
    """

    name = "flow"

    def __init__(self, preset: str = "medium", occlusion: bool = True, min_visibility: float = 0.3) -> None:
        if preset not in _PRESETS:
            raise InputError(f"unknown DIS preset {preset!r}; valid: {', '.join(_PRESETS)}")
        if not 0.0 <= float(min_visibility) <= 1.0:
            raise InputError(f"min_visibility must lie in [0, 1]; got {min_visibility}")
        self.preset = preset
        self.occlusion = bool(occlusion)
        self.min_visibility = float(min_visibility)

    def _interpolate(self, a: np.ndarray, b: np.ndarray, alphas: list[float]) -> list[np.ndarray]:
        return flow_interpolate(a, b, alphas, preset=self.preset, occlusion=self.occlusion,
                                min_visibility=self.min_visibility)


class RifeInterpolator(Interpolator):
    """RIFE v3.9 (Practical-RIFE IFNet HDv3), the f_int of eq. (21), 001_c16fa1dac0c35e06.txt.

    Args:
        device: torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
        scale: flow resolution factor, one of 0.25, 0.5, 1, 2, 4 (0.5 for ≥ 2K frames).
        refine: also run the context net + refinement U-Net (the reference inference runs without it:
            ``fastmode=True``).

    Raises:
        WeightsUnavailable: ``rife-v3.9`` not cached; the message names ``tokcom models fetch rife-v3.9``.
        InputError: torch missing, CUDA asked for but absent, or a bad ``scale``.
    """

    name = "rife"

    def __init__(self, device: str = "cpu", scale: float = 1.0, refine: bool = False) -> None:
        problem = _rife_problem()
        if problem is not None:
            raise problem
        from tokcom.interp import rife

        if float(scale) not in rife.SCALES:
            raise InputError(f"RIFE scale must be one of {', '.join(f'{s:g}' for s in rife.SCALES)}; got {scale}")
        self.device = _check_device(device)
        self.scale = float(scale)
        self.refine = bool(refine)
        self._net = rife.load_ifnet(self.device)

    def _interpolate(self, a: np.ndarray, b: np.ndarray, alphas: list[float]) -> list[np.ndarray]:
        from tokcom.interp.rife import rife_interpolate

        return rife_interpolate(self._net, a, b, alphas, scale=self.scale, fastmode=not self.refine,
                                device=self.device)


def _check_device(device: str) -> str:
    import torch

    dev = str(device)
    if dev.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {dev!r} asked for but CUDA is not available here; use device='cpu'")
    try:
        torch.device(dev)
    except (RuntimeError, TypeError):
        raise InputError(f"unknown torch device {dev!r}") from None
    return dev


# --------------------------------------------------------------------------------------------- registry
INTERPOLATORS: Registry[Callable[..., Interpolator]] = Registry("interpolator")


@INTERPOLATORS.register("rife", "RIFE v3.9 IFNet (the paper's f_int); needs torch and weights rife-v3.9")
def _make_rife(device: str = "cpu", **options: Any) -> Interpolator:
    return RifeInterpolator(device=device, **options)


@INTERPOLATORS.register("flow", "DIS optical flow + Super SloMo fusion with occlusion weighting (no weights)")
def _make_flow(device: str = "cpu", **options: Any) -> Interpolator:
    return FlowInterpolator(**options)


@INTERPOLATORS.register("blend", "linear cross-fade (1-a)*x0 + a*x1")
def _make_blend(device: str = "cpu", **options: Any) -> Interpolator:
    if options:
        raise InputError(f"interpolator blend takes no options; got {', '.join(sorted(options))}")
    return BlendInterpolator()


@INTERPOLATORS.register("auto", "rife when its weights are cached, else flow")
def _make_auto(device: str = "cpu", **options: Any) -> Interpolator:
    if interpolator_unavailable("rife") is None:
        return _make_rife(device, **options)
    return _make_flow(device, **options)


def get_interpolator(name: str = "auto", device: str = "cpu", **options: Any) -> Interpolator:
    """Build an interpolator by name.

    Args:
        name: ``rife``, ``flow``, ``blend`` or ``auto`` (RIFE when ``tokcom.models.is_cached("rife-v3.9")``,
            else flow); the returned object's ``.name`` says which one runs.
        device: torch device for RIFE (``"cpu"`` default; ``"cuda"`` when asked); ignored by the others.
        **options: passed to the class: ``scale``/``refine`` (rife), ``preset``/``occlusion``/
            ``min_visibility`` (flow).

    Raises:
        InputError: unknown name (the message lists the valid ones), bad option, torch or CUDA missing.
        WeightsUnavailable: ``rife`` without cached weights (names ``tokcom models fetch rife-v3.9``).
    """
    factory = INTERPOLATORS.get(name)
    try:
        return factory(device, **options)
    except TypeError as e:  # an option the class does not take
        if not options:
            raise
        raise InputError(f"interpolator {name}: {e}") from None


def list_interpolators() -> list[str]:
    """Registered interpolator names, sorted."""
    return INTERPOLATORS.list()


def interpolator_unavailable(name: str) -> str | None:
    """Why interpolator ``name`` cannot be built here (one line), or None when it can.

    Raises:
        InputError: unknown name.
    """
    key = str(name).lower()
    INTERPOLATORS.get(key)  # unknown name → UnknownNameError (an InputError) with the valid names
    if key == "rife":
        problem = _rife_problem()
        return None if problem is None else str(problem)
    if key in ("flow", "auto"):
        try:
            import cv2  # noqa: F401
        except ImportError:
            return f"interpolator {key} needs OpenCV: pip install opencv-python-headless"
    return None


def _rife_problem() -> TokcomError | None:
    """The error building RIFE would raise here (torch missing, weights not cached), or None."""
    try:
        import safetensors  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return InputError("interpolator rife needs torch and safetensors: pip install 'tokcom[torch]'")
    if not models.is_cached(RIFE_WEIGHTS):
        return WeightsUnavailable(f"RIFE weights {RIFE_WEIGHTS} not cached ({models.weights_path(RIFE_WEIGHTS)}); "
                                  f"run: {models.fetch_command(RIFE_WEIGHTS)}")
    return None
