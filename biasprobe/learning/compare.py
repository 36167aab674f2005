"""P_SGD(f | S) against P_B(f | S): the probability mass where the two agree within a factor, and rank correlations with bootstrap intervals.

Mingard et al. (JMLR 2021) compare the two on a log-log scatter of the functions both
found. Both sides here are finite samples (training runs; accepted draws), so every
figure gets a bootstrap interval: the two count vectors are redrawn multinomially, the
statistic recomputed, and the 2.5% and 97.5% percentiles reported. These statistics
depend on which rare functions each side happened to find, so they are biased at finite
sample sizes; where the interval excludes the point estimate, that bias is as large as
the interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def joint(sgd_words, sgd_counts, bayes_words, bayes_counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(words (U, W), sgd counts (U,), bayes counts (U,)) over the union of the functions either side found."""
    sgd_words = np.asarray(sgd_words, np.uint64).reshape(len(sgd_counts), -1)
    bayes_words = np.asarray(bayes_words, np.uint64).reshape(len(bayes_counts), -1)
    words = np.concatenate([sgd_words, bayes_words])
    if not len(words):
        return words, np.zeros(0, np.int64), np.zeros(0, np.int64)
    uniq, inverse = np.unique(words, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    cs = np.bincount(inverse[:len(sgd_words)], weights=sgd_counts, minlength=len(uniq)).astype(np.int64)
    cb = np.bincount(inverse[len(sgd_words):], weights=bayes_counts, minlength=len(uniq)).astype(np.int64)
    return uniq, cs, cb


def _stats(cs: np.ndarray, cb: np.ndarray, factor: float) -> dict:
    from scipy import stats

    ns, nb = cs.sum(), cb.sum()
    out = {"mass_sgd_agree": np.nan, "mass_bayes_agree": np.nan, "mass_sgd_on_bayes_seen": np.nan,
           "mass_bayes_on_sgd_seen": np.nan, "spearman": np.nan, "both_seen": 0}
    if ns == 0 or nb == 0:
        return out
    ps, pb = cs / ns, cb / nb
    both = (cs > 0) & (cb > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(both, ps / pb, np.nan)
    agree = both & (ratio <= factor) & (ratio >= 1 / factor)
    out.update(mass_sgd_agree=float(ps[agree].sum()), mass_bayes_agree=float(pb[agree].sum()),
               mass_sgd_on_bayes_seen=float(ps[cb > 0].sum()), mass_bayes_on_sgd_seen=float(pb[cs > 0].sum()),
               both_seen=int(both.sum()))
    if both.sum() >= 3:
        rho = stats.spearmanr(ps[both], pb[both]).statistic
        out["spearman"] = float(rho) if np.isfinite(rho) else np.nan
    return out


def agreement(sgd_words, sgd_counts, bayes_words, bayes_counts, factor: float = 10.0, boot: int = 200,
              seed: int = 0, level: float = 0.95) -> dict:
    """Agreement of P_SGD and P_B with bootstrap percentile intervals (`<stat>_lo`, `<stat>_hi`).

    mass_sgd_agree: P_SGD mass on functions both found whose estimated probabilities are within
    `factor` of each other (mass_bayes_agree: the same in P_B mass); mass_sgd_on_bayes_seen: P_SGD
    mass on functions rejection sampling also found; spearman: rank correlation of the two
    probabilities over the functions both found.
    """
    _, cs, cb = joint(sgd_words, sgd_counts, bayes_words, bayes_counts)
    point = _stats(cs, cb, factor)
    out = {**point, "sgd_runs": int(cs.sum()), "bayes_draws": int(cb.sum()), "distinct_sgd": int((cs > 0).sum()),
           "distinct_bayes": int((cb > 0).sum()), "factor": factor}
    keys = ["mass_sgd_agree", "mass_bayes_agree", "mass_sgd_on_bayes_seen", "mass_bayes_on_sgd_seen", "spearman"]
    if boot and cs.sum() and cb.sum():
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 0xB007])))
        draws = {k: [] for k in keys}
        for _ in range(boot):
            s = _stats(rng.multinomial(cs.sum(), cs / cs.sum()), rng.multinomial(cb.sum(), cb / cb.sum()), factor)
            for k in keys:
                draws[k].append(s[k])
        a = (1 - level) / 2
        for k in keys:
            v = np.asarray(draws[k], float)
            v = v[np.isfinite(v)]
            if not len(v) or not np.isfinite(point[k]):
                out[f"{k}_lo"] = out[f"{k}_hi"] = np.nan
                continue
            # Percentile interval: the spread of the estimate over re-runs. A resample loses rare functions,
            # so where they matter the interval sits off the point estimate: that is the estimator's own
            # finite-sample bias showing, which the basic interval's reflection would only exaggerate.
            out[f"{k}_lo"], out[f"{k}_hi"] = float(np.quantile(v, a)), float(np.quantile(v, 1 - a))
    else:
        for k in keys:
            out[f"{k}_lo"] = out[f"{k}_hi"] = np.nan
    return out


def scatter_points(sgd_words, sgd_counts, bayes_words, bayes_counts, condition) -> pd.DataFrame:
    """One row per function either side found: function, sgd_count, bayes_count, p_sgd, p_bayes, test_error."""
    from biasprobe import tables

    words, cs, cb = joint(sgd_words, sgd_counts, bayes_words, bayes_counts)
    return pd.DataFrame({"function": tables.to_hex(words, condition.n_points), "sgd_count": cs, "bayes_count": cb,
                         "p_sgd": cs / max(cs.sum(), 1), "p_bayes": cb / max(cb.sum(), 1),
                         "test_error": condition.test_errors(words)})
