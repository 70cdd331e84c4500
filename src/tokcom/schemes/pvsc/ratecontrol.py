"""Rate control with a single model (002_165f6aebfafa3581.txt §II-B-1 (iii), §III-C, §IV-A): pick, per GOP,
the highest quality preset whose symbols and side information fit the GOP's share of the channel-use budget.

::

    ladder  (q = Q−1, η) … (q = 0, η)   the presets (learnable channel-wise scaling vectors, ω_t of §IV-A)
            (0, η/2), (0, η/4)           η of eq. (14) lowered: fewer symbols per unit
            (0, 0)                       k = 0 everywhere: side information only (F_rx from the rate embedding + context)
            (0, 0, I-frame only)         the P-frames are not sent (the receiver repeats the I-frame)
            —                            nothing fits: the GOP is not sent

The GOP's share of the budget and the search are :mod:`tokcom.schemes.ratecontrol`'s (shared with tvc): the
search gallops from the previous GOP's choice towards better (or cheaper) candidates and bisects the last step; every cost is exact (the GOP is encoded and its PDUs counted as the link charges them), so
the plan never exceeds the budget.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """One rung of the ladder: a quality preset, a factor on η, and whether the P-frames are sent."""

    quality: int
    eta_scale: float = 1.0
    p_frames: bool = True

    @property
    def label(self) -> str:
        s = f"q{self.quality}"
        if self.eta_scale != 1.0:
            s += f" η×{self.eta_scale:g}"
        if not self.p_frames:
            s += " I-only"
        return s


def ladder(num_qualities: int, fixed_quality: int | None = None) -> tuple[Candidate, ...]:
    """The candidates from best to cheapest (module docstring); a fixed preset replaces the preset rungs."""
    qs = [int(fixed_quality)] if fixed_quality is not None else list(range(num_qualities - 1, -1, -1))
    low = qs[-1]
    return (*(Candidate(q) for q in qs), Candidate(low, 0.5), Candidate(low, 0.25), Candidate(low, 0.0),
            Candidate(low, 0.0, False))
