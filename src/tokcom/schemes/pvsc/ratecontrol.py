"""Rate control with a single model (002_165f6aebfafa3581.txt §II-B-1 (iii), §III-C, §IV-A): pick, per GOP,
the highest quality whose symbols and side information fit the GOP's share of the channel-use budget.

::

    ladder  (q = Q−1, η), (Q−1 − 1/8, η) … (q = 0, η)
                                         the presets (learnable channel-wise scaling vectors, ω_t of §IV-A) and
                                         QUALITY_RUNGS − 1 qualities between each pair: their vectors
                                         interpolated (model.preset_vector; Cui et al., CVPR 2021)
            (0, η/2), (0, η/4)           η of eq. (14) lowered: fewer symbols per unit
            (0, 0)                       k = 0 everywhere: side information only (F_rx from the rate embedding + context)
            (0, 0, I-frame only)         the P-frames are not sent (the receiver repeats the I-frame)
            —                            nothing fits: the GOP is not sent

The GOP's share of the budget and the searches are :mod:`tokcom.schemes.ratecontrol`'s (shared with tvc): the
search gallops from the previous GOP's highest fitting rung towards better (or cheaper) candidates and bisects
the last step; every cost is exact (the GOP is encoded and its PDUs counted as the link charges them), so the
plan never exceeds the budget. With ``rate_choice=received`` ``descend`` then walks down from the highest rung
that fits to the one whose simulated reception scores best (:mod:`tokcom.schemes.pvsc.received`). The first GOP has no previous choice: the shared ``search_by_cost`` tries
the best preset, then q0, then interpolates on the logarithm of the measured costs between the last rung that did not
fit and the first that did (regula falsi with a bisection fallback) — about 4–5 GOP encodes instead of 10.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokcom.schemes.pvsc.config import QUALITY_RUNGS, snap_quality


@dataclass(frozen=True)
class Candidate:
    """One rung of the ladder: a quality (a preset, or between two), a factor on η, and whether the P-frames
    are sent."""

    quality: float
    eta_scale: float = 1.0
    p_frames: bool = True

    @property
    def label(self) -> str:
        s = f"q{self.quality:g}"
        if self.eta_scale != 1.0:
            s += f" η×{self.eta_scale:g}"
        if not self.p_frames:
            s += " I-only"
        return s


def ladder(num_qualities: int, fixed_quality: float | None = None, rungs: int = QUALITY_RUNGS
           ) -> tuple[Candidate, ...]:
    """The candidates from best to cheapest (module docstring); a fixed quality replaces the quality rungs.
    ``rungs``: qualities per preset interval (1: the presets only)."""
    if fixed_quality is not None:
        qs = [snap_quality(fixed_quality)]
    else:
        top = (num_qualities - 1) * rungs
        qs = [snap_quality(i / rungs) for i in range(top, -1, -1)]
    low = qs[-1]
    return (*(Candidate(q) for q in qs), Candidate(low, 0.5), Candidate(low, 0.25), Candidate(low, 0.0),
            Candidate(low, 0.0, False))
