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


def fit_upper_bound(complexity, counts, min_count: int = 10) -> dict:
    """Fit log2 P(f) <= -a K(f) - b to the upper envelope of the sampled functions.

    The envelope is the most frequent function at each observed K among
    functions sampled at least ``min_count`` times (rarer ones sit on the
    1/samples floor and say nothing about the bound); a is the least-squares
    slope through those maxima, and b is then lowered until every function
    with at least ``min_count`` draws lies on or below the line, so the result
    is a bound on the data in the sense of Dingle et al. (2018) and
    Valle-Pérez et al. (2019), not a regression through the cloud.
    """
    k = np.asarray(complexity, dtype=float)
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    keep = c >= min_count
    out = {"a": math.nan, "b": math.nan, "envelope_points": 0, "min_count": min_count}
    if keep.sum() == 0:
        return out
    k, logp = k[keep], np.log2(c[keep] / total)
    levels = np.unique(k)
    env = np.array([logp[k == lv].max() for lv in levels])
    out["envelope_points"] = int(levels.size)
    if levels.size < 2:
        return out
    slope, _ = np.polyfit(levels, env, 1)
    a = -float(slope)
    b = float(np.min(-logp - a * k))
    out.update(a=a, b=b)
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
