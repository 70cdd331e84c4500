"""Per-GOP rate control shared by the learned schemes (``pvsc``, ``tvc``): each GOP may take its share of
what is left of the channel-use budget, and a cost-ordered ladder of operating points is searched for the best
one that fits.

::

    share_g = ⌊remaining budget · frames(g) / remaining frames⌋   (what earlier GOPs left over carries on)
    ladder  c_0 (best, most channel uses) … c_{n−1} (cheapest); pick the lowest index i with cost(c_i) ≤ share_g

Every cost is exact (the GOP is coded and its PDUs counted as the link charges them), so a plan built with
:func:`search` never exceeds the budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tokcom.link.accounting import pdu_channel_uses
from tokcom.types import LinkState, Mcs


def pdu_uses(state: LinkState, bits: int, mcs: Mcs | None) -> int:
    """The channel uses the link charges for one PDU of ``bits`` payload bits sent with ``mcs`` (the link's
    own count when it has one, :mod:`tokcom.link.accounting`'s otherwise)."""
    if state.pdu_channel_uses is not None:
        return int(state.pdu_channel_uses(int(bits), mcs))
    if mcs is not None:
        return pdu_channel_uses(int(bits), mcs, state.overhead)
    return math.ceil(bits / max(state.bits_per_channel_use or 1.0, 1e-9))


def gop_share(remaining: int, remaining_frames: int, gop_frames: int) -> int:
    """The channel uses a GOP of ``gop_frames`` may take: its share of what is left."""
    if remaining_frames <= 0:
        return max(int(remaining), 0)
    return max(int(remaining), 0) * int(gop_frames) // int(remaining_frames)


def search(n: int, fits: Callable[[int], bool], start: int = 0) -> int | None:
    """The best (lowest) index of a cost-ordered ladder of ``n`` candidates that ``fits``, or None when none
    fits. Galloping from ``start`` (the previous GOP's choice: usually one or two evaluations), then
    bisection. Assumes costs fall along the ladder; the index returned always fits, so the plan never
    exceeds the budget even where they do not."""
    if n <= 0:
        return None
    i = min(max(int(start), 0), n - 1)
    step = 1
    if fits(i):
        good, bad = i, -1
        while good > 0:
            j = max(good - step, 0)
            if fits(j):
                good = j
                step *= 2
            else:
                bad = j
                break
    else:
        bad, good = i, None
        while good is None:
            if bad == n - 1:
                return None
            j = min(bad + step, n - 1)
            if fits(j):
                good = j
            else:
                bad = j
                step *= 2
    while good - bad > 1:  # fits(good), not fits(bad) (bad = −1: none above)
        m = (good + bad) // 2
        if fits(m):
            good = m
        else:
            bad = m
    return good
