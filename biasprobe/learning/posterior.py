"""The exact Bayesian posterior P_B(f | S) by rejection: conditioned sampling, P(S) with its interval, the posterior's test error.

With the 0-1 likelihood the posterior is the prior restricted to the functions that
agree with S (docs/definitions.md §7), so keeping exactly the draws that agree with S is
exact: the accepted draws are distributed as P_B(. | S) and accepted/samples
estimates the marginal likelihood P(S) (Chiang et al., ICLR 2023, call this learner
"guess and check"). Intervals: Clopper-Pearson (exact binomial) for P(S), with the
one-sided 95% upper bound 1 - 0.05^(1/samples) when nothing is accepted; a
Student-t interval over the accepted draws for the posterior's mean test error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from biasprobe import tables
from biasprobe.analysis import clopper_pearson  # noqa: F401  (re-exported)

LEVEL = 0.95
P_S_INTERVAL = "clopper-pearson"


def upper_bound_none_seen(n, level: float = LEVEL):
    """One-sided exact upper bound on a probability when 0 of n trials succeeded: 1 - (1 - level)^(1/n) (about 3/n)."""
    n = np.asarray(n, dtype=float)
    out = -np.expm1(np.log1p(-level) / n)
    return float(out) if out.ndim == 0 else out


def mean_interval(total, total_sq, k, level: float = LEVEL):
    """(mean, lo, hi) of k i.i.d. values from their sum and sum of squares (Student t; NaN interval below 2 values)."""
    from scipy import stats

    total = np.asarray(total, dtype=float)
    total_sq = np.asarray(total_sq, dtype=float)
    k = np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(k > 0, total / k, np.nan)
        var = np.where(k > 1, np.maximum(total_sq - k * mean**2, 0.0) / (k - 1), np.nan)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(k - 1, 1)) * np.sqrt(var / k)
        lo, hi = np.where(k > 1, mean - half, np.nan), np.where(k > 1, mean + half, np.nan)
    if mean.ndim == 0:
        return float(mean), float(lo), float(hi)
    return mean, lo, hi


@dataclass(frozen=True, eq=False)
class Posterior:
    """The accepted functions of a rejection run (sorted like `sample`'s counts) and what they say about S."""

    words: np.ndarray  # (D, W) uint64 accepted distinct functions, count descending then function
    counts: np.ndarray  # (D,) int64
    condition: object  # biasprobe.learning.Condition
    samples: int  # draws made (accepted + rejected + nonfinite)
    nonfinite: int
    domain: object = None
    prior: object = None
    seed: int = 0
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return int(self.counts.sum())

    @property
    def distinct(self) -> int:
        return int(self.counts.shape[0])

    @property
    def p_s(self) -> float:
        """accepted / samples: non-finite draws count as draws that are not consistent with S."""
        return self.accepted / self.samples

    def p_s_interval(self, level: float = LEVEL) -> tuple[float, float]:
        return clopper_pearson(self.accepted, self.samples, level)

    def p_s_upper(self, level: float = LEVEL) -> float:
        """One-sided upper bound on P(S); the number to quote when nothing was accepted."""
        if self.accepted == 0:
            return upper_bound_none_seen(self.samples, level)
        return float(clopper_pearson(self.accepted, self.samples, 2 * level - 1)[1])

    def test_mistakes(self) -> np.ndarray:
        return self.condition.test_mistakes(self.words)

    def test_errors(self) -> np.ndarray:
        """(D,) test error of each accepted distinct function."""
        return self.condition.test_errors(self.words)

    def mean_test_error(self, level: float = LEVEL) -> tuple[float, float, float]:
        """(mean, lo, hi): the Bayesian learner's expected test error, over the accepted draws (NaN if none)."""
        e = self.test_errors()
        c = self.counts.astype(float)
        return mean_interval(float((c * e).sum()), float((c * e * e).sum()), float(c.sum()), level)

    def hex(self) -> list[str]:
        return tables.to_hex(self.words, self.condition.n_points)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"function": self.hex(), "count": self.counts, "test_error": self.test_errors()})

    def summary(self) -> dict:
        """JSON-ready summary: S, the counts, P(S) with its interval and the posterior's mean test error."""
        lo, hi = self.p_s_interval()
        mean, mlo, mhi = self.mean_test_error()
        out = {**self.condition.describe(), "samples": self.samples, "accepted": self.accepted,
               "rejected": self.samples - self.accepted - self.nonfinite, "nonfinite": self.nonfinite,
               "distinct": self.distinct, "p_s": self.p_s, "p_s_lo": lo, "p_s_hi": hi,
               "p_s_interval": f"{P_S_INTERVAL} {LEVEL:.0%}", "p_s_upper": self.p_s_upper(),
               "p_s_upper_kind": f"one-sided {LEVEL:.0%} exact binomial upper bound",
               "test_error_mean": _json_float(mean), "test_error_lo": _json_float(mlo),
               "test_error_hi": _json_float(mhi), "test_error_interval": f"student-t {LEVEL:.0%} over accepted draws"}
        if self.accepted == 0:
            out["note"] = (f"nothing accepted in {self.samples} draws: P(S) < {out['p_s_upper']:.3g}"
                           f" ({out['p_s_upper_kind']}); the posterior is not measurable at this sample size")
        return out


def _json_float(x: float):
    return None if x is None or not math.isfinite(x) else float(x)


def condition_sample(prior, domain, condition, samples: int, seed: int = 0, **engine) -> Posterior:
    """Rejection-sample P_B(. | S): the draws of `sample_counts(prior, domain, samples, seed)` that agree with S.

    Same seed => the accepted functions are exactly those of the unconditioned run that agree with S.
    `engine` passes batch_size, workers, device, progress through to the sampler.
    """
    from biasprobe.sampling import sample_counts

    _check_domain(condition, domain)
    c = sample_counts(prior, domain, samples=samples, seed=seed, condition=condition, **engine)
    if c.rejected != c.samples - int(c.counts.sum()) - c.nonfinite:  # every draw is accepted, rejected or non-finite
        raise RuntimeError(f"sampler bookkeeping: {c.rejected} rejected does not balance {c.samples} draws")
    return Posterior(words=c.words, counts=c.counts, condition=condition, samples=c.samples, nonfinite=c.nonfinite,
                     domain=domain, prior=prior, seed=c.seed, wall_time=c.wall_time, info=dict(c.info))


def posterior_from_counts(words, counts, condition, samples: int, nonfinite: int = 0, **meta) -> Posterior:
    """The posterior from a stored table of all draws (words (D, W), counts (D,)), without re-sampling."""
    words = np.asarray(words, dtype=np.uint64)
    counts = np.asarray(counts, dtype=np.int64)
    keep = condition.accepts(words) if len(words) else np.zeros(0, bool)
    return Posterior(words=np.ascontiguousarray(words[keep]), counts=np.ascontiguousarray(counts[keep]),
                     condition=condition, samples=int(samples), nonfinite=int(nonfinite), **meta)


def _check_domain(condition, domain) -> None:
    if condition.n_points != domain.n_points:
        raise ValueError(f"condition has {condition.n_points} points but {domain} has {domain.n_points}")
