"""Peak tables for double-descent curves: where the peak is, how high, the minimum on each side, and whether the bump is real."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

K_SE = 2.0  # default: a peak must exceed each side's minimum by this many standard errors of the difference

COLUMNS = ["peak_at", "peak", "peak_se", "left_min_at", "left_min", "left_min_se", "right_min_at", "right_min",
           "right_min_se", "left_z", "right_z", "k_se", "is_peak"]


def median_se(values) -> float:
    """Distribution-free standard error of a sample median: half the width of its order-statistic 95% interval / 1.96.

    The interval is [x_(l), x_(u)] with l, u = n/2 -+ 1.96 sqrt(n)/2 (the sign-test interval,
    normal approximation to Binomial(n, 1/2)), so it needs no density estimate and holds for the
    heavy-tailed risks near an interpolation threshold, where the mean's SE is meaningless.
    """
    v = np.sort(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    n = v.size
    if n < 2:
        return math.nan
    half = 1.959964 * math.sqrt(n) / 2
    lo = int(min(max(math.floor(n / 2 - half), 0), n - 1))
    hi = int(min(max(math.ceil(n / 2 + half) - 1, 0), n - 1))
    return float((v[hi] - v[lo]) / (2 * 1.959964))


def peak_row(x, y, window: tuple[float, float] | None = None, se=None, k_se: float = K_SE) -> dict:
    """Location and height of the peak of the curve y(x), the lowest point on each side, and whether it is a bump.

    The peak is the largest y with x inside `window` (the whole curve if None): double descent
    has its peak near the interpolation threshold, while the curve's global maximum may sit at
    the smallest model (an under-fitting network is as bad as the peak). NaNs are ignored.

    `se` gives each point's standard error (of a mean over seeds, or of a median). Then
    `is_peak` requires the peak to exceed the minimum on *each* side by at least `k_se`
    standard errors of the difference, sqrt(se_peak^2 + se_min^2) (the SE of a difference of two
    independent means; conservative when the seeds at two sizes are positively correlated), and
    `left_z` / `right_z` give the two margins in those units. With `se=None` the curve is taken as
    exact (a formula): `is_peak` only asks that the peak be higher than both minima, and the z
    columns are NaN. A monotone curve has no peak either way.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    s = np.full_like(y, np.nan) if se is None else np.asarray(se, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y, s = x[order], y[order], s[order]
    ok = np.isfinite(y)
    inside = ok & (((x >= window[0]) & (x <= window[1])) if window is not None else True)
    empty = dict.fromkeys(COLUMNS, math.nan)
    empty.update(k_se=float(k_se) if se is not None else math.nan, is_peak=False)
    if not inside.any():
        return empty
    k = int(np.flatnonzero(inside)[np.argmax(y[inside])])
    left, right = ok & (x < x[k]), ok & (x > x[k])
    kl = int(np.flatnonzero(left)[np.argmin(y[left])]) if left.any() else None
    kr = int(np.flatnonzero(right)[np.argmin(y[right])]) if right.any() else None

    def at(i, arr):
        return float(arr[i]) if i is not None else math.nan

    def margin(i):
        if i is None or se is None:
            return math.nan
        diff, spread = y[k] - y[i], math.hypot(s[k], s[i])
        if spread == 0:
            return math.inf if diff > 0 else (math.nan if diff == 0 else -math.inf)
        return float(diff / spread)

    lz, rz = margin(kl), margin(kr)
    if se is None:
        real = kl is not None and kr is not None and y[k] > y[kl] and y[k] > y[kr]
    else:
        real = lz >= k_se and rz >= k_se  # NaN (no side) compares False, +inf (exact difference) True
    return {"peak_at": float(x[k]), "peak": float(y[k]), "peak_se": at(k, s),
            "left_min_at": at(kl, x), "left_min": at(kl, y), "left_min_se": at(kl, s),
            "right_min_at": at(kr, x), "right_min": at(kr, y), "right_min_se": at(kr, s),
            "left_z": lz, "right_z": rz, "k_se": float(k_se) if se is not None else math.nan,
            "is_peak": bool(real)}


def peak_table(curves: pd.DataFrame, by, x: str, y: str, window=None, extra: dict | None = None,
               se: str | None = None, k_se: float = K_SE) -> pd.DataFrame:
    """One `peak_row` per group of a tidy curve table (already reduced to one y per x in each group).

    `se` names the column of standard errors of y (None: the curve is exact); `k_se` is the
    number of standard errors the peak must clear on each side.
    """
    by = [by] if isinstance(by, str) else list(by)
    rows = []
    groups = curves.groupby(by, sort=False) if by else [((), curves)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        w = window(g) if callable(window) else window
        rows.append({**dict(zip(by, key)), **peak_row(g[x], g[y], w, g[se] if se is not None else None, k_se),
                     **(extra or {})})
    return pd.DataFrame(rows)


def peak_rule(k_se: float = K_SE) -> str:
    """The sentence every peak table's caption uses to state the rule."""
    return (f"is_peak: the peak exceeds the minimum on each side by at least {k_se:g} standard errors of the "
            f"difference (left_z and right_z give the margins; exact curves: higher than both)")
