"""TVC's 3-D token masks (003_299bbe4b0e9ae1eb.txt §3.2.2).

* Inference: the **deterministic fixed mask** — along the flattened token sequence (raster order over
  ``(t, h, w)``), the first ``n_visible`` tokens of every ``interval`` are visible; the overall rate is
  eq. (1). The 1-D mask is reshaped to the 3-D map ``m ∈ {0,1}^{(1+T')×H'×W'}``.
* Training: random masks "as in [20]" (MAGE): a mask ratio drawn from a truncated Gaussian (mean 0.55,
  std 0.25, clipped to [0.5, 1.0]), then that share of positions chosen uniformly.

numpy for the fixed mask (both ends build it without torch); torch only for the training masks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

# MAGE's mask-ratio distribution (ref. [20] of 003): truncated N(0.55, 0.25²) on [0.5, 1.0]
MAGE_MEAN, MAGE_STD, MAGE_MIN, MAGE_MAX = 0.55, 0.25, 0.5, 1.0


def fixed_mask(shape: tuple[int, int, int], n_visible: int, interval: int) -> np.ndarray:
    """The deterministic fixed mask: ``[t, h, w]`` bool, True = visible (sent).

    Position ``i`` of the flattened sequence is visible iff ``i mod interval < n_visible``.
    """
    t, h, w = (int(v) for v in shape)
    interval = max(1, int(interval))
    n_visible = min(max(0, int(n_visible)), interval)
    i = np.arange(t * h * w)
    return (i % interval < n_visible).reshape(t, h, w)


def mask_rate(n_visible: int, interval: int) -> float:
    """eq. (1), 003_299bbe4b0e9ae1eb.txt: ``Mask Rate = 1 − n_visible / Mask Interval``."""
    return 1.0 - int(n_visible) / int(interval)  # eq. (1), 003_299bbe4b0e9ae1eb.txt


def random_mask(shape: tuple[int, ...], generator: torch.Generator, ratio: float | None = None) -> torch.Tensor:
    """A training mask ``[B, t, h, w]`` bool (True = visible), one draw per clip.

    Args:
        shape: ``(B, t, h, w)``.
        generator: the step's generator (a resumed run draws the same masks).
        ratio: a fixed mask ratio; None draws MAGE's truncated Gaussian per clip.
    """
    import torch

    b, n = int(shape[0]), int(np.prod(shape[1:]))
    out = torch.ones(b, n, dtype=torch.bool)
    for j in range(b):
        r = ratio
        while r is None:
            v = MAGE_MEAN + MAGE_STD * float(torch.randn((), generator=generator))
            r = v if MAGE_MIN <= v <= MAGE_MAX else None
        k = round(float(r) * n)
        if k:
            out[j, torch.randperm(n, generator=generator)[:k]] = False
    return out.reshape(*shape)
