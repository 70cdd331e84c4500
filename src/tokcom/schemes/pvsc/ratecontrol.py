"""Rate control with a single model (002_165f6aebfafa3581.txt §II-B-1 (iii), §III-C, §IV-A): pick, per GOP,
the highest quality whose symbols and side information fit the GOP's share of the channel-use budget.

Two ladders (``--set ladder=``), both from the best candidate to the cheapest. Rate control picks the
highest candidate on the ladder that fits.

::

    eta (default, session 10)
            (Q−1, 2η) … (Q−1, 1.25η)     above the top preset (session 16): more symbols per unit, the factors of
                                         TOP_ETA_SCALES up to the model's ``eta_top`` (what its symbol coder
                                         was trained for; none for a model trained at η only)
            (q = Q−1, η), (Q−1 − 1/8, η) … (q = 1, η)
                                         the presets (learnable channel-wise scaling vectors, ω_t of §IV-A) and
                                         QUALITY_RUNGS − 1 qualities between each pair: their vectors
                                         interpolated (model.preset_vector; Cui et al., CVPR 2021)
            (1, 7η/8), (1, 3η/4) … (1, η/4)
                                         η of eq. (14) lowered at the knee preset q1: fewer symbols per unit
            (1/2, 3η/8), (1/2, η/4), (1/2, η/8), (1/4, η/8)
                                         below it, lower qualities with a low η
            (0, 0)                       k = 0 everywhere: side information only (F_rx from the rate embedding + context)
            (0, 0, I-frame only)         the P-frames are not sent (the receiver repeats the I-frame)
            —                            nothing fits: the GOP is not sent

    quality (session 8)
            (q = Q−1, η) … (q = 0, η)    all qualities at η, down to the rate-minimising preset q0 (ω = 0.001)
            (0, η/2), (0, η/4), (0, 0), (0, 0, I-frame only)

Why the knee: between the presets q0 and q1, lowering η at q1 gives a better picture at the same cost than
lowering the quality (on the validation clip cockatoo, 8 frames, AWGN 6 dB: q1 at η/4 costs CBR 0.0041 at
LPIPS-vgg 0.661, q0.25 at η 0.0041 at 0.707; the same order at 0 dB; the table is in docs/pvsc.md). q0's
ω = 0.001 makes it nearly pure rate minimisation, so its pictures are blur whatever the symbols. The rungs
were chosen on the validation clips only.

The GOP's share of the budget and the searches are :mod:`tokcom.schemes.ratecontrol`'s (shared with tvc): the
search gallops from the previous GOP's highest fitting rung towards better (or cheaper) candidates and bisects
the last step; every cost is exact (the GOP is encoded and its PDUs counted as the link charges them), so the
plan never exceeds the budget. With ``rate_choice=received`` ``descend`` then walks down from the highest rung
that fits to the one whose simulated reception scores best (:mod:`tokcom.schemes.pvsc.received`). The first
GOP has no previous choice: the shared ``search_by_cost`` tries the best preset, then :func:`first_probe` (the
cheapest rung that still sends symbols: q0.25 at η/8 on ``eta``, q0 at η/4 on ``quality``), then interpolates
on the logarithm of the measured costs between the last rung that did not fit and the first that did (regula
falsi with a bisection fallback).
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


LADDERS = ("eta", "quality")
KNEE_QUALITY = 1
"""The ``eta`` ladder lowers η at this preset before it lowers the quality."""
KNEE_ETA_SCALES = (0.875, 0.75, 0.625, 0.5, 0.375, 0.25)
TOP_ETA_SCALES = (2.0, 1.75, 1.5, 1.25)
"""The ``eta`` ladder's factors on η at the top preset, above it (best first), for a model whose ``eta_top`` admits
them."""
LOW_RUNGS = ((0.5, 0.375), (0.5, 0.25), (0.5, 0.125), (0.25, 0.125))
"""The ``eta`` ladder's ``(quality, η factor)`` rungs below the knee, before side information only."""


def ladder(num_qualities: int, fixed_quality: float | None = None, rungs: int = QUALITY_RUNGS,
           kind: str = "eta", eta_top: float = 1.0) -> tuple[Candidate, ...]:
    """The candidates from best to cheapest (module docstring); a fixed quality replaces the quality rungs
    (``q``, then ``q`` at η/2, η/4, 0, I-frame only, whatever ``kind``); a model without a preset above the knee
    gets the ``quality`` ladder. ``rungs``: qualities per preset interval (1: the presets only). ``eta_top``:
    the ``eta`` ladder starts with the top preset at the factors of :data:`TOP_ETA_SCALES` up to it."""
    if kind not in LADDERS:
        raise ValueError(f"ladder must be one of {', '.join(LADDERS)}; got {kind!r}")
    if fixed_quality is not None:
        return _lowered_eta(snap_quality(fixed_quality))
    top = (num_qualities - 1) * rungs
    if kind == "quality" or num_qualities <= KNEE_QUALITY + 1:
        qs = [snap_quality(i / rungs) for i in range(top, -1, -1)]
        return (*(Candidate(q) for q in qs[:-1]), *_lowered_eta(qs[-1]))
    qs = [snap_quality(i / rungs) for i in range(top, KNEE_QUALITY * rungs - 1, -1)]
    above = tuple(Candidate(num_qualities - 1, e) for e in TOP_ETA_SCALES if e <= eta_top)
    return (*above, *(Candidate(q) for q in qs), *(Candidate(KNEE_QUALITY, e) for e in KNEE_ETA_SCALES),
            *(Candidate(q, e) for q, e in LOW_RUNGS), Candidate(0, 0.0), Candidate(0, 0.0, False))


def _lowered_eta(q: float) -> tuple[Candidate, ...]:
    """``q`` at η, η/2, η/4, then k = 0, then I-frame only: a fixed quality's ladder, and the quality ladder's end."""
    return (Candidate(q), Candidate(q, 0.5), Candidate(q, 0.25), Candidate(q, 0.0), Candidate(q, 0.0, False))


def first_probe(cands: tuple[Candidate, ...]) -> int:
    """Where the first GOP's search (``search_by_cost``) probes after the best rung: the cheapest rung that still
    sends symbols. Below it are only k = 0 and I-frame only, tried in order; log-cost interpolation covers the
    rest."""
    return max(i for i, c in enumerate(cands) if c.eta_scale > 0 and c.p_frames)
