"""What the GP estimates are checked against: exact P(S) counted from a stored sample, and the PAC-Bayes bound (docs/definitions.md §7).

Small versions for the gp-vs-exact experiment; `biasprobe.learning` holds the
conditioned sampler and the fuller posterior tools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biasprobe import tables
from biasprobe.errors import UserError

PAC_BAYES_FORMS = ("paper", "code")


@dataclass(frozen=True)
class CountedPS:
    """P(S) from counting: accepted of samples draws agree with the target on every training input."""

    accepted: int
    samples: int
    p: float
    lo: float  # 95% Clopper-Pearson interval; lo = 0 and hi is an upper bound when accepted = 0
    hi: float

    @property
    def log_p(self) -> float:
        return math.log(self.p) if self.accepted else -math.inf

    @property
    def log_lo(self) -> float:
        return math.log(self.lo) if self.lo > 0 else -math.inf

    @property
    def log_hi(self) -> float:
        return math.log(self.hi)


def _mask_words(bits: np.ndarray) -> np.ndarray:
    return tables.pack(np.asarray(bits, dtype=np.uint8)[None, :])[0]


def p_s_from_counts(counts, target, train) -> CountedPS:
    """Exact P(S) from a `sample_counts` result: the draws whose function equals `target` on the training inputs.

    ``target``: (N,) 0/1 truth table in canonical order; ``train``: (N,) boolean mask of the training
    inputs (or an index array). The denominator is every draw requested (`counts.samples`), so draws
    with a non-finite output count as disagreeing. One pass over the packed words: ((f XOR t) AND mask)
    = 0 in every word.
    """
    from biasprobe.gp.orthant import clopper_pearson

    n = counts.domain.n_points
    target = np.asarray(target)
    if target.shape != (n,) or not np.isin(target, (0, 1)).all():
        raise UserError(f"target must be {n} bits (0/1) in canonical order, got shape {target.shape}")
    mask = np.zeros(n, bool)
    train = np.asarray(train)
    if train.dtype == bool:
        if train.shape != (n,):
            raise UserError(f"training mask must have {n} entries, got {train.shape}")
        mask = train
    else:
        if train.size and (train.min() < 0 or train.max() >= n):
            raise UserError(f"training indices must lie in 0..{n - 1}")
        mask[train] = True
    if not mask.any():
        raise UserError("the training set is empty")
    t, mw = _mask_words(target), _mask_words(mask)
    agree = ((counts.words ^ t[None, :]) & mw[None, :] == 0).all(axis=1)
    accepted = int(counts.counts[agree].sum())
    lo, hi = clopper_pearson(accepted, counts.samples)
    return CountedPS(accepted, int(counts.samples), accepted / counts.samples, lo, hi)


def pac_bayes_bound(log_p_s, m: int, delta: float = 0.05, form: str = "paper"):
    """Upper bound on the Bayesian posterior's expected generalisation error from ln P(S) (docs/definitions.md §7).

    ``paper`` (McAllester; Valle-Perez et al. 2019, eq. 1): -ln(1 - eps) <= (ln(1/P(S)) + ln(2m/delta)) / (m - 1),
    so eps <= 1 - exp(-(ln(1/P(S)) + ln(2m/delta)) / (m - 1)).
    ``code`` (their released code): eps <= 1 - exp(-(ln(1/P(S)) + 2 ln m + 1 - ln delta) / m).
    Vectorised over log_p_s; ln P(S) = -inf gives 1.
    """
    if form not in PAC_BAYES_FORMS:
        raise UserError(f"unknown PAC-Bayes form {form!r}; valid: {', '.join(PAC_BAYES_FORMS)}")
    if isinstance(m, bool) or int(m) != m or m < 2:
        raise UserError(f"PAC-Bayes bound needs m >= 2 training points, got {m}")
    if not 0 < delta < 1:
        raise UserError(f"PAC-Bayes delta={delta} must lie in (0, 1)")
    lp = np.asarray(log_p_s, dtype=np.float64)
    if np.any(lp > 1e-12):
        raise UserError("ln P(S) must be <= 0")
    with np.errstate(over="ignore", invalid="ignore"):
        if form == "paper":
            rate = (-lp + math.log(2 * m / delta)) / (m - 1)
        else:
            rate = (-lp + 2 * math.log(m) + 1 - math.log(delta)) / m
        eps = -np.expm1(-rate)
    eps = np.where(np.isneginf(lp), 1.0, eps)
    return float(eps) if eps.ndim == 0 else eps
