"""Peak tables for double-descent curves: where the peak is, how high, and the minimum on each side."""

from __future__ import annotations

import numpy as np
import pandas as pd


def peak_row(x, y, window: tuple[float, float] | None = None) -> dict:
    """Location and height of the peak of the curve y(x), and the lowest point on each side of it.

    The peak is the largest y with x inside `window` (the whole curve if None): double descent
    has its peak near the interpolation threshold, while the curve's global maximum may sit at
    the smallest model (an under-fitting network is as bad as the peak). `is_peak` says whether
    it is a genuine bump, higher than the lowest point on both sides; a monotone curve has none.
    NaNs are ignored.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(x)
    x, y = x[order], y[order]
    ok = np.isfinite(y)
    inside = ok & (((x >= window[0]) & (x <= window[1])) if window is not None else True)
    if not inside.any():
        return {"peak_at": np.nan, "peak": np.nan, "left_min_at": np.nan, "left_min": np.nan,
                "right_min_at": np.nan, "right_min": np.nan, "is_peak": False}
    k = int(np.flatnonzero(inside)[np.argmax(y[inside])])
    left, right = ok & (x < x[k]), ok & (x > x[k])
    kl = int(np.flatnonzero(left)[np.argmin(y[left])]) if left.any() else None
    kr = int(np.flatnonzero(right)[np.argmin(y[right])]) if right.any() else None
    return {"peak_at": x[k], "peak": y[k],
            "left_min_at": x[kl] if kl is not None else np.nan, "left_min": y[kl] if kl is not None else np.nan,
            "right_min_at": x[kr] if kr is not None else np.nan, "right_min": y[kr] if kr is not None else np.nan,
            "is_peak": bool(kl is not None and kr is not None and y[k] > y[kl] and y[k] > y[kr])}


def peak_table(curves: pd.DataFrame, by, x: str, y: str, window=None, extra: dict | None = None) -> pd.DataFrame:
    """One `peak_row` per group of a tidy curve table (already reduced to one y per x in each group)."""
    by = [by] if isinstance(by, str) else list(by)
    rows = []
    groups = curves.groupby(by, sort=False) if by else [((), curves)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        w = window(g) if callable(window) else window
        rows.append({**dict(zip(by, key)), **peak_row(g[x], g[y], w), **(extra or {})})
    return pd.DataFrame(rows)
