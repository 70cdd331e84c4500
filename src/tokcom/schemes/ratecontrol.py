"""Per-GOP rate control shared by the learned schemes (``pvsc``, ``tvc``): each GOP may take its share of
what is left of the channel-use budget, and a cost-ordered ladder of operating points is searched for the best
one that fits.

::

    share_g = ⌊remaining budget · frames(g) / remaining frames⌋   (what earlier GOPs left over carries on)
    ladder  c_0 (best, most channel uses) … c_{n−1} (cheapest); pick the lowest index i with cost(c_i) ≤ share_g
    then    (optional, :func:`descend`) a cheaper rung j > i that fits, when its expected loss is lower

Every cost is exact (the GOP is coded and its PDUs counted as the link charges them), so a plan built with
:func:`search` (galloping from the previous GOP's choice) or :func:`search_by_cost` (no previous choice:
interpolation on the measured costs) never exceeds the budget.
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


def search_by_cost(n: int, cost: Callable[[int], int], share: int, probe: int) -> int | None:
    """The lowest index of a ladder of ``n`` candidates whose ``cost`` fits ``share`` (costs falling along the
    ladder), without a previous choice to start from: index 0, then ``probe`` (a rung above which the log-cost
    falls roughly linearly with the index, e.g. pvsc's q0), then interpolation on log cost between a rung that
    does not fit and one that does, testing the neighbour on the far side of each estimate, with bisection
    whenever the bracket did not halve. None when nothing fits. The index returned always fits, whatever the
    costs do; on falling costs it is :func:`search`'s answer."""
    if n <= 0:
        return None
    if cost(0) <= share:
        return 0
    bad = 0
    probe = min(max(int(probe), 1), n - 1)
    if cost(probe) <= share:
        good = probe
    else:
        bad, good = probe, None
        for i in range(probe + 1, n):  # the (few) rungs below the probe: in order
            if cost(i) <= share:
                good = i
                break
            bad = i
        if good is None:
            return None
    # between a rung that does not fit (bad) and one that does (good): interpolate on log cost and test the
    # neighbour on the far side (an estimate off by one ends the search); bisect when the bracket did not halve
    target = math.log(max(share, 1))
    while good - bad > 1:
        lb, lg = math.log(max(cost(bad), 1)), math.log(max(cost(good), 1))
        width = good - bad
        m = bad + round((lb - target) / (lb - lg) * width) if lb > lg else (bad + good) // 2
        m = min(max(m, bad + 1), good - 1)
        if cost(m) <= share:
            good = m
            if m - 1 > bad and cost(m - 1) > share:
                bad = m - 1
        else:
            bad = m
            if m + 1 < good and cost(m + 1) <= share:
                good = m + 1
        if good - bad > max(width // 2, 1):
            m = (bad + good) // 2
            if cost(m) <= share:
                good = m
            else:
                bad = m
    return good


def descend(n: int, start: int, loss: Callable[[int], float], fits: Callable[[int], bool]) -> int:
    """From a rung ``start`` that fits, the cheaper rung (index ≥ ``start``) with the least ``loss``: galloping
    down the ladder (1, 2, 4, … rungs) while the loss falls and the rungs fit, then a discrete bisection of the
    last bracket (the loss taken as unimodal there). A rung that does not fit is never returned. On a loss that
    grows along the ladder (the usual case: a cheaper rung is a worse one) it costs two evaluations and returns
    ``start``."""
    cache: dict[int, float] = {}

    def f(i: int) -> float:
        if i not in cache:
            cache[i] = loss(i)
        return cache[i]

    before, best, step = start, start, 1
    end = n - 1  # the bracket's far end: the first rung that did not improve (or the ladder's end)
    while best < n - 1:
        j = min(best + step, n - 1)
        if not fits(j):
            end = j - 1  # the rungs before the one that does not fit
            break
        if f(j) >= f(best):
            end = j
            break
        before, best, step = best, j, step * 2
    # the minimum lies in [before, end]: bisect on the slope between neighbours
    lo, hi = before, end
    while hi - lo > 2:
        m = (lo + hi) // 2
        if not (fits(m) and fits(m + 1)):
            break
        if f(m) < f(m + 1):
            hi = m + 1
        else:
            lo = m
    for j in range(lo, hi + 1):
        if j != best and fits(j) and f(j) < f(best):
            best = j
    return best
