"""The PAC-Bayes bound on the Bayesian learner's expected error from the marginal likelihood P(S) (docs/definitions.md §7).

McAllester's bound as Valle-Perez et al. (ICLR 2019, eq. 1) state it: with
probability >= 1 - delta over the draw of the m training inputs, the posterior's
expected error eps satisfies

    -ln(1 - eps) <= (ln(1/P(S)) + ln(2m/delta)) / (m - 1)          ("paper")

Their code computes instead

    eps <= 1 - exp(-(ln(1/P(S)) + 2 ln m + 1 - ln delta) / m),  delta = 2^-10   ("code")

Both are offered; results name the one they use. The bound is capped at 1 and is
1 when P(S) = 0.
"""

from __future__ import annotations

import numpy as np

from biasprobe.errors import UserError

DELTA = 2.0**-10  # the confidence parameter in Valle-Perez et al.'s code
VARIANTS = ("paper", "code")


def pac_bayes_bound(ln_p_s, m, delta: float = DELTA, variant: str = "paper"):
    """Upper bound on the expected generalisation error from ln P(S) (natural log, <= 0), vectorised.

    `ln_p_s` may be -inf (P(S) = 0): the bound is then 1.
    """
    if variant not in VARIANTS:
        raise UserError(f"unknown PAC-Bayes variant {variant!r}; valid: {', '.join(VARIANTS)}")
    if not 0 < delta < 1:
        raise UserError(f"PAC-Bayes delta must lie in (0, 1), got {delta}")
    ln_p_s = np.asarray(ln_p_s, dtype=float)
    m = np.asarray(m, dtype=float)
    if np.any(ln_p_s > 0):
        raise UserError("ln P(S) must be <= 0")
    if np.any(m < 2):
        raise UserError("the PAC-Bayes bound needs m >= 2 training inputs")
    with np.errstate(over="ignore", invalid="ignore"):
        if variant == "paper":
            exponent = (-ln_p_s + np.log(2 * m / delta)) / (m - 1)
        else:
            exponent = (-ln_p_s + 2 * np.log(m) + 1 - np.log(delta)) / m
        eps = np.where(np.isfinite(exponent), -np.expm1(-exponent), 1.0)
    eps = np.minimum(eps, 1.0)
    return float(eps) if eps.ndim == 0 else eps


def pac_bayes_from_p_s(p_s, m, delta: float = DELTA, variant: str = "paper"):
    """The same bound from P(S) itself (0 allowed: the bound is then 1)."""
    p_s = np.asarray(p_s, dtype=float)
    if np.any((p_s < 0) | (p_s > 1)):
        raise UserError("P(S) must lie in [0, 1]")
    with np.errstate(divide="ignore"):
        return pac_bayes_bound(np.log(p_s), m, delta, variant)
