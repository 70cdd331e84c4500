"""Bjøntegaard deltas (VCEG-M33, 2001) of rate–quality curves, via the ``bjontegaard`` package.

* :func:`bd_rate`: the average rate difference of ``test`` against ``anchor`` at equal quality, in percent
  (negative = ``test`` needs less rate). With ``rate = CBR`` this is PVSC's BD-CBR (PVSC Table I:
  "negative values indicate CBR savings").
* :func:`bd_quality`: the average quality difference at equal rate, ``test − anchor`` in the metric's unit
  (BD-PSNR for PSNR). For lower-is-better metrics (LPIPS, DISTS, FVD) a negative value means ``test`` is
  better; :func:`bd_quality` reports the sign convention in its docstring, it does not flip it.

Lower-is-better metrics: log-rate is integrated as a function of quality over the overlap of the two
curves' quality ranges. The ``bjontegaard`` package expects the quality axis in increasing order together
with increasing rate (it asserts on a curve whose quality falls as rate rises), so such metrics are negated
before the call — BD-rate is invariant to that (same interval, same average) and BD-quality is negated back.
Points are sorted by quality (BD-rate) or by rate (BD-quality); duplicates are an error.

Curves whose quality ranges do not overlap have no BD-rate (the integral is over an empty interval);
:func:`bd_rate_bound` then says what the points do imply — a bound on the rate ratio at one quality (see there).

Interpolation: ``akima`` (default, the package's recommendation and the JVET CTC 2023 practice) or
``pchip``; ``cubic`` is the original 2001 polynomial fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tokcom.errors import InputError
from tokcom.metrics.base import higher_is_better

METHODS = ("akima", "pchip", "cubic")


@dataclass(frozen=True)
class RDCurve:
    """A rate–quality curve.

    Attributes:
        rate: rates (CBR, bpp, bit/s: any positive unit, the same for both curves) ``[N]``.
        quality: the metric at each rate ``[N]``.
    """

    rate: tuple[float, ...]
    quality: tuple[float, ...]

    @classmethod
    def of(cls, c: Any) -> RDCurve:
        """From an RDCurve, ``{"rate": [...], "quality": [...]}``, ``(rates, qualities)`` or
        ``[(r, q), ...]``."""
        if isinstance(c, RDCurve):
            return c
        if isinstance(c, Mapping):
            r, q = c["rate"], c.get("quality", c.get("metric"))
        else:
            c = list(c)
            if len(c) == 2 and np.ndim(c[0]) == 1:
                r, q = c
            else:
                arr = np.asarray(c, dtype=float)
                if arr.ndim != 2 or arr.shape[1] != 2:
                    raise InputError("a curve is (rates, qualities) or a list of (rate, quality) points")
                r, q = arr[:, 0], arr[:, 1]
        r = tuple(float(x) for x in np.asarray(r, float).ravel())
        q = tuple(float(x) for x in np.asarray(q, float).ravel())
        if len(r) != len(q) or len(r) < 2:
            raise InputError(f"a curve needs ≥ 2 (rate, quality) points, as many of each; got {len(r)}, {len(q)}")
        if any(not np.isfinite(x) for x in r + q) or min(r) <= 0:
            raise InputError("curve rates must be positive and all values finite")
        return cls(r, q)


def _higher_is_better(metric: str | bool) -> bool:
    return metric if isinstance(metric, bool) else higher_is_better(metric)


def _sorted(x: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if np.any(np.diff(x) <= 0):
        raise InputError(f"BD needs distinct {what} values within a curve")
    return x, y


def bd_rate(anchor: Any, test: Any, metric: str | bool = "psnr", *, method: str = "akima",
            min_overlap: float = 0.0) -> float:
    """Bjøntegaard-delta rate (percent) of ``test`` against ``anchor``.

    Args:
        anchor, test: curves (see :meth:`RDCurve.of`), e.g. ``{"rate": cbrs, "quality": lpips}``.
        metric: metric name (its ``higher_is_better`` decides the direction) or that flag itself.
        method: ``akima``, ``pchip`` or ``cubic``.
        min_overlap: the package warns below this relative overlap of quality ranges (0 = never).

    Returns:
        ``100·(10^{mean Δlog10 rate} − 1)``; negative = ``test`` saves rate. NaN when the curves' quality
        ranges do not overlap.
    """
    import bjontegaard as bd

    if method not in METHODS:
        raise InputError(f"BD method must be one of {', '.join(METHODS)}; got {method!r}")
    a, t = RDCurve.of(anchor), RDCurve.of(test)
    sign = 1.0 if _higher_is_better(metric) else -1.0
    qa, ra = _sorted(sign * np.array(a.quality), np.array(a.rate), "quality")
    qt, rt = _sorted(sign * np.array(t.quality), np.array(t.rate), "quality")
    return float(bd.bd_rate(ra, qa, rt, qt, method=method, require_matching_points=False,
                            min_overlap=min_overlap))


def bd_quality(anchor: Any, test: Any, metric: str | bool = "psnr", *, method: str = "akima",
               min_overlap: float = 0.0) -> float:
    """Bjøntegaard-delta quality of ``test`` against ``anchor``: mean ``test − anchor`` at equal rate.

    In the metric's own unit (BD-PSNR in dB for ``psnr``). Positive is better for higher-is-better metrics,
    negative is better for lower-is-better ones (LPIPS, DISTS, FVD).
    """
    import bjontegaard as bd

    if method not in METHODS:
        raise InputError(f"BD method must be one of {', '.join(METHODS)}; got {method!r}")
    a, t = RDCurve.of(anchor), RDCurve.of(test)
    sign = 1.0 if _higher_is_better(metric) else -1.0
    ra, qa = _sorted(np.array(a.rate), sign * np.array(a.quality), "rate")
    rt, qt = _sorted(np.array(t.rate), sign * np.array(t.quality), "rate")
    return sign * float(bd.bd_psnr(ra, qa, rt, qt, method=method, require_matching_points=False,
                                   min_overlap=min_overlap))


@dataclass(frozen=True)
class BdBound:
    """What two curves with disjoint quality ranges imply about their rates, at one quality.

    Attributes:
        ratio: ``test rate / anchor rate`` needed for ``quality``: a lower bound when ``test_worse`` (the test
            needs more than ``ratio`` × the anchor's rate), an upper bound otherwise.
        quality: the quality the bound is stated at, in the metric's unit: the worse curve's best point.
        test_worse: True when every test point is worse than every anchor point.
    """

    ratio: float
    quality: float
    test_worse: bool

    @property
    def percent(self) -> float:
        """The bound as a BD-rate would be written: ``100·(ratio − 1)``."""
        return 100.0 * (self.ratio - 1.0)

    def __str__(self) -> str:
        return f"> +{self.percent:.0f} %" if self.test_worse else f"< {self.percent:.0f} %"


def bd_rate_bound(anchor: Any, test: Any, metric: str | bool = "psnr") -> BdBound | None:
    """A bound on the rate ratio of two curves whose quality ranges do not overlap; None when they overlap or
    the points imply no bound.

    Test worse everywhere (its best point is worse than the anchor's worst): the anchor reaches better than
    the test's best quality ``q*`` already at its worst point's rate ``r_a``, so on a curve whose rate rises
    with quality it needs at most ``r_a`` for ``q*``, where the test spends ``r_t(q*)``: the ratio is > ``r_t(q*) /
    r_a``. Test better everywhere: mirrored, at the anchor's best quality, test rate at its worst point over the
    anchor's best point's: the ratio is < that. Only a ratio beyond 1 is reported (a bound that says something
    BD-rate would: more rate when worse, less when better).
    """
    a, t = RDCurve.of(anchor), RDCurve.of(test)
    sign = 1.0 if _higher_is_better(metric) else -1.0
    qa, qt = sign * np.array(a.quality), sign * np.array(t.quality)  # higher is better from here on
    if qt.max() < qa.min():
        r_t, r_a = t.rate[int(np.argmax(qt))], a.rate[int(np.argmin(qa))]
        ratio, quality, worse = r_t / r_a, t.quality[int(np.argmax(qt))], True
        return BdBound(ratio, quality, worse) if ratio > 1.0 else None
    if qt.min() > qa.max():
        r_t, r_a = t.rate[int(np.argmin(qt))], a.rate[int(np.argmax(qa))]
        ratio, quality, worse = r_t / r_a, a.quality[int(np.argmax(qa))], False
        return BdBound(ratio, quality, worse) if ratio < 1.0 else None
    return None


def curve_from_results(results: Sequence[Mapping[str, Any]], metric: str, rate_key: str = "cbr") -> RDCurve:
    """An RD curve from ``result.json`` records (``rate_key``, ``metrics[metric]``; invalid ones skipped)."""
    pts = [(r[rate_key], r["metrics"][metric]) for r in results
           if r.get("valid", True) and metric in r.get("metrics", {}) and r.get(rate_key)]
    if len(pts) < 2:
        raise InputError(f"need ≥ 2 valid results with {rate_key} and {metric}; got {len(pts)}")
    pts.sort()
    return RDCurve.of(pts)
