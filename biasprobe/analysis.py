"""Statistics the simplicity-bias experiments share: P(T) laws, KL to the counting measure, Zipf, the P–K bound fit."""

from __future__ import annotations

import math

import numpy as np


def binary_entropy(p) -> np.ndarray:
    """H(p) in bits, with H(0) = H(1) = 0."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.where((p <= 0) | (p >= 1), 0.0, h)


def counting_pmf(n_points: int) -> np.ndarray:
    """P(T = t) under the counting measure: every function equally likely, so T ~ Binomial(N, 1/2)."""
    from scipy import stats

    return stats.binom.pmf(np.arange(n_points + 1), n_points, 0.5)


def perceptron_pmf(n_points: int) -> np.ndarray:
    """P(T = t) for a bias-free perceptron on bool:n (Mingard et al. 2019): 1/N for t < N, 0 for t = N."""
    p = np.full(n_points + 1, 1.0 / n_points)
    p[-1] = 0.0
    return p


def ones_histogram(ones: np.ndarray, weights: np.ndarray, n_points: int) -> np.ndarray:
    """Sample counts of T = 0..N from per-function T values and their multiplicities."""
    return np.bincount(np.asarray(ones, dtype=np.int64), weights=np.asarray(weights, dtype=float),
                       minlength=n_points + 1)


def kl_bits(p, q) -> float:
    """KL(p || q) in bits; terms with p = 0 contribute 0, and p > 0 where q = 0 gives inf."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p = p / p.sum()
    mask = p > 0
    if np.any(q[mask] <= 0):
        return math.inf
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def weighted_mean_ci(values, weights, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi) of a sample given as distinct values with integer multiplicities (normal approximation)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = w.sum()
    m = float(np.sum(w * v) / n)
    if n < 2:
        return m, math.nan, math.nan
    sd = math.sqrt(float(np.sum(w * (v - m) ** 2)) / (n - 1))
    half = float(stats.norm.ppf(0.5 + level / 2)) * sd / math.sqrt(n)
    return m, m - half, m + half


def zipf_reference(rank, n_functions_log2: float) -> np.ndarray:
    """Valle-Pérez et al.'s Zipf law P(r) = 1/(r ln 2^(2^n)), normalised over all 2^(2^n) ranks."""
    return 1.0 / (np.asarray(rank, dtype=float) * n_functions_log2 * math.log(2))


def rank_frequency(counts) -> np.ndarray:
    """Estimated probabilities of the distinct functions sorted in decreasing order (rank 1 first)."""
    c = np.sort(np.asarray(counts, dtype=float))[::-1]
    return c / c.sum()


def rank_frequency_steps(counts, functions) -> tuple[np.ndarray, np.ndarray]:
    """The exact rank-frequency curve from count levels: (ranks, probabilities), two vertices per level.

    `counts[i]` is a number of draws and `functions[i]` how many distinct functions were drawn that often;
    the functions of one level take consecutive ranks, so the curve is a staircase with one step per level
    instead of one vertex per function (a million vertices makes a slow, bloated PDF).
    """
    c = np.asarray(counts, dtype=float)
    m = np.asarray(functions, dtype=np.int64)
    order = np.argsort(-c, kind="stable")
    c, m = c[order], m[order]
    end = np.cumsum(m)
    ranks = np.column_stack([end - m + 1, end]).ravel()
    probs = np.repeat(c / float((c * m).sum()), 2)
    return ranks, probs


def fit_upper_bound(complexity, counts, min_count: int = 10, functions=None) -> dict:
    """Fit log2 P(f) <= -a K(f) - b as the upper envelope of the functions drawn at least ``min_count`` times.

    Rows are functions, or groups of ``functions`` functions sharing a (K, count) pair. P(f) is
    estimated by count / total draws. The envelope is the most frequent function at each observed K
    among those drawn at least ``min_count`` times; a is the least-squares slope through those maxima,
    and b is then lowered until every one of those functions lies on or below the line. It is an
    envelope of the well-sampled functions in the sense of Dingle et al. (2018) and Valle-Pérez et al.
    (2019), not a bound tested on rare functions: a function drawn once has estimate 1/total whatever
    its true probability, so beyond ``k_floor``, where the line falls below 1/total, every function
    the sample contains lies above the line by construction and the sample cannot test it.

    Returns a, b, envelope_points (K levels fitted), fitted (functions with count >= min_count),
    k_fit_min / k_fit_max (their K range: the fit's scope), k_floor (the K where the line meets
    log2(1/total)), above (sampled functions of any count above the line) and k_above_min (the
    smallest K among them), min_count and total.
    """
    k = np.asarray(complexity, dtype=float).ravel()
    c = np.asarray(counts, dtype=float).ravel()
    w = np.ones_like(c) if functions is None else np.asarray(functions, dtype=float).ravel()
    present = (c > 0) & (w > 0)
    k, c, w = k[present], c[present], w[present]
    total = float((c * w).sum())
    keep = c >= min_count
    out = {"a": math.nan, "b": math.nan, "envelope_points": 0, "fitted": int(w[keep].sum()),
           "k_fit_min": math.nan, "k_fit_max": math.nan, "k_floor": math.nan, "above": 0,
           "k_above_min": math.nan, "min_count": int(min_count), "total": int(total)}
    if not keep.any():
        return out
    logp = np.log2(c / total)
    levels = np.unique(k[keep])
    env = np.array([logp[keep & (k == lv)].max() for lv in levels])
    out.update(envelope_points=int(levels.size), k_fit_min=float(levels.min()), k_fit_max=float(levels.max()))
    if levels.size < 2:
        return out
    slope, _ = np.polyfit(levels, env, 1)
    a = -float(slope)
    b = float(np.min(-logp[keep] - a * k[keep]))
    above = logp > -a * k - b + 1e-9
    out.update(a=a, b=b, above=int(w[above].sum()),
               k_above_min=float(k[above].min()) if above.any() else math.nan,
               k_floor=(math.log2(total) - b) / a if a > 0 else math.nan)
    return out


def clopper_pearson(k, n, level: float = 0.95):
    """Exact two-sided binomial interval (lo, hi) for k successes in n trials; vectorised, lo = 0 at k = 0, hi = 1 at k = n."""
    from scipy import stats

    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    a = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k <= 0, 0.0, stats.beta.ppf(a, np.maximum(k, 1), n - k + 1))
        hi = np.where(k >= n, 1.0, stats.beta.ppf(1 - a, k + 1, np.maximum(n - k, 1)))
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def thin_counts(counts, functions, fraction: float, rng: np.random.Generator):
    """Counts of a random subsample that keeps each draw with probability ``fraction`` (binomial thinning).

    Rows are (count, functions) groups of functions drawn ``count`` times each; returns the rows
    (counts', functions', source row) of the thinned sample, zero counts dropped, where source row
    indexes the input row each came from (to carry its K along). A group of m functions splits
    multinomially over the Binomial(count, fraction) outcomes, which is exact and keeps a million
    singletons one row.
    """
    from scipy import stats

    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    c = np.asarray(counts, dtype=np.int64).ravel()
    m = np.asarray(functions, dtype=np.int64).ravel()
    out_c, out_m, rows = [], [], []
    for i, (ci, mi) in enumerate(zip(c, m)):
        if mi == 1 or ci > 1000:
            new = rng.binomial(ci, fraction, size=mi)
            values, mult = np.unique(new, return_counts=True)
        else:
            pmf = stats.binom.pmf(np.arange(ci + 1), ci, fraction)
            mult = rng.multinomial(mi, pmf / pmf.sum())
            values = np.arange(ci + 1)
        nz = (values > 0) & (mult > 0)
        out_c.append(values[nz])
        out_m.append(mult[nz])
        rows.append(np.full(int(nz.sum()), i))
    cat = lambda parts: np.concatenate(parts) if parts else np.empty(0, np.int64)  # noqa: E731
    return cat(out_c).astype(np.int64), cat(out_m).astype(np.int64), cat(rows).astype(np.int64)
