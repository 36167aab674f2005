"""P(S) under a GP with the hard threshold (label 1 iff f > 0): an orthant probability of N(0, K_S), estimated exactly.

For training points with kernel K_S and labels y in {0, 1} (signs s = 2y - 1),
P(S) = Pr[s_i f_i > 0 for all i], f ~ N(0, K_S), the probability of an orthant of
N(0, D K_S D), D = diag(s). Two unbiased, seeded estimators with 95% intervals:

* ``orthant_mc``: plain Monte Carlo, draws f from the GP restricted to the
  training points and counts the agreeing ones (a binomial count, Clopper-Pearson
  interval; with none accepted, the interval's upper end bounds P(S)).
* ``orthant_ghk``: the Geweke-Hajivassiliou-Keane importance sampler with Genz's
  variable reordering (Genz & Bretz 2009, sections 4.1-4.2) and Botev's (2017)
  minimax exponential tilting: each draw's weight is a likelihood ratio, so tiny
  orthant probabilities (1e-30 and below) are estimated with a few thousand draws
  to a small relative error, where plain Monte Carlo would need ~1/P(S) draws and
  plain GHK (``tilt=False``) or scipy's Genz quasi-Monte Carlo have heavy-tailed
  weights on the strongly correlated kernels of random networks (at m = 32 and
  P(S) ~ 1e-16 their relative error exceeds 100%). Interval: mean +- 1.96
  standard errors of the weights.

Both draw in fixed blocks of BLOCK samples, block j from its own stream
SeedSequence(seed, spawn_key=(j,)), so an estimate does not depend on how it is
batched. For two points, Sheppard's formula is exact: `sheppard`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biasprobe.analysis import clopper_pearson

from biasprobe.errors import UserError

BLOCK = 1 << 14  # draws per seeding block
Z95 = 1.959963984540054


@dataclass(frozen=True)
class OrthantEstimate:
    """An estimate of P(S) with its 95% interval; log fields are natural logs (-inf where a bound is 0)."""

    p: float
    lo: float
    hi: float
    log_p: float
    log_lo: float
    log_hi: float
    samples: int
    method: str
    hits: int = -1  # accepted draws (mc only)


def sheppard(rho):
    """Pr[f1 > 0, f2 > 0] for a standard bivariate normal with correlation rho: 1/4 + arcsin(rho) / (2 pi)."""
    return 0.25 + np.arcsin(np.clip(rho, -1.0, 1.0)) / (2.0 * math.pi)


def _signed_cov(k, y) -> np.ndarray:
    k = np.asarray(k, dtype=np.float64)
    y = np.asarray(y)
    m = y.shape[0] if y.ndim == 1 else -1
    if k.ndim != 2 or k.shape != (m, m):
        raise UserError(f"orthant needs a kernel (m, m) and labels (m,); got {k.shape} and {y.shape}")
    if m < 1:
        raise UserError("orthant needs at least one training point")
    if not np.isin(y, (0, 1)).all():
        raise UserError("orthant labels must be 0 or 1")
    s = np.where(y == 1, 1.0, -1.0)
    return k * np.outer(s, s)


def _check_samples(samples) -> int:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise UserError(f"orthant samples must be an integer >= 2, got {samples!r}")
    return int(samples)


def _blocks(samples: int):
    for j in range(-(-samples // BLOCK)):
        yield j, min(BLOCK, samples - j * BLOCK)


def _rng(seed: int, block: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(block,))))


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def orthant_mc(k, y, samples: int = 100_000, seed: int = 0, jitter: float = 1e-10) -> OrthantEstimate:
    """Plain Monte Carlo: the fraction of f ~ N(0, K) (restricted to the training points) that agrees with y."""
    from biasprobe.gp.sampling import cholesky_factor

    c = _signed_cov(k, y)
    samples = _check_samples(samples)
    chol = cholesky_factor(c, jitter)
    hits = 0
    for j, count in _blocks(samples):
        f = _rng(seed, j).standard_normal((count, c.shape[0])) @ chol.T
        hits += int((f > 0).all(axis=1).sum())
    lo, hi = clopper_pearson(hits, samples)
    p = hits / samples
    return OrthantEstimate(p, lo, hi, _log(p), _log(lo), _log(hi), samples, "mc", hits)


def genz_order(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(perm, L): Genz & Bretz's reordering for the orthant {x > 0} of N(0, c) and the pivoted Cholesky factor.

    At step i the variable with the smallest conditional probability of its constraint, given the
    earlier ones at their truncated means, goes next; L L^T = c[perm][:, perm].
    """
    from scipy import special

    c = np.array(c, dtype=np.float64)
    m = c.shape[0]
    perm = np.arange(m)
    chol = np.zeros((m, m))
    ybar = np.zeros(m)
    for i in range(m):
        rest = np.arange(i, m)
        var = c[rest, rest] - (chol[rest, :i] ** 2).sum(1)
        sd = np.sqrt(np.maximum(var, 1e-300))
        # constraint x_j > 0, i.e. z_j > a_j = -(L[j, :i] . ybar) / sd_j; its probability is Phi(-a_j)
        a = -(chol[rest, :i] @ ybar[:i]) / sd
        j = i + int(np.argmax(a))  # largest lower limit = smallest probability
        if j != i:
            perm[[i, j]] = perm[[j, i]]
            c[[i, j], :] = c[[j, i], :]
            c[:, [i, j]] = c[:, [j, i]]
            chol[[i, j], :] = chol[[j, i], :]
            a[[0, j - i]] = a[[j - i, 0]]
        d = c[i, i] - (chol[i, :i] ** 2).sum()
        if d <= 0:
            raise UserError("orthant kernel matrix is not positive definite on the training points"
                            " (e.g. a repeated input); drop duplicates or add jitter")
        chol[i, i] = math.sqrt(d)
        chol[i + 1:, i] = (c[i + 1:, i] - chol[i + 1:, :i] @ chol[i, :i]) / chol[i, i]
        # truncated mean of z ~ N(0, 1) given z > a: phi(a) / Phi(-a)
        ai = a[0]
        ybar[i] = math.exp(-0.5 * ai * ai - 0.5 * math.log(2 * math.pi) - float(special.log_ndtr(-ai)))
    return perm, chol


def _truncated_above(rng_u: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, ln Pr[Z > lower]) with z a standard normal conditioned on z > lower, by inversion in log space."""
    from scipy import special

    logp = special.log_ndtr(-lower)
    return -special.ndtri_exp(np.log(rng_u) + logp), logp


def _tilting(chol_unit: np.ndarray) -> np.ndarray | None:
    """Botev's (2017) minimax tilting mu* for the orthant {x > 0}, or None if the saddle point is not found.

    `chol_unit` is the reordered Cholesky factor scaled to unit diagonal and with the diagonal
    removed. mu* (length m - 1) solves grad psi(x, mu) = 0 with
    psi = sum_k ln Phi(-(l_k)) + mu_k^2 / 2 - x_k mu_k, l_k = -mu_k - (L x)_k (Botev's gradpsi).
    """
    from scipy import optimize, special

    m = chol_unit.shape[0]
    lstrict = chol_unit

    def grad(v):
        x = np.append(v[: m - 1], 0.0)
        mu = np.append(v[m - 1:], 0.0)
        lt = -mu - lstrict @ x  # lower limits (l = 0); the upper ones are +inf
        w = special.log_ndtr(-lt)
        pl = np.exp(-0.5 * lt * lt - w - 0.5 * math.log(2 * math.pi))
        dfdx = -mu[: m - 1] + (pl @ lstrict)[: m - 1]
        dfdm = mu - x + pl
        dp = -pl * pl + lt * pl
        dl = dp[:, None] * lstrict
        mx = (-np.eye(m) + dl)[: m - 1, : m - 1]
        xx = (lstrict.T @ dl)[: m - 1, : m - 1]
        jac = np.block([[xx, mx.T], [mx, np.diag(1.0 + dp[: m - 1])]])
        return np.concatenate([dfdx, dfdm[: m - 1]]), jac

    sol = optimize.root(grad, np.zeros(2 * (m - 1)), jac=True, method="hybr")
    if not sol.success or not np.isfinite(sol.x).all() or np.abs(grad(sol.x)[0]).max() > 1e-6:
        return None
    return np.append(sol.x[m - 1:], 0.0)


def orthant_ghk(k, y, samples: int = 20_000, seed: int = 0, reorder: bool = True, tilt: bool = True,
                jitter: float = 1e-10) -> OrthantEstimate:
    """Importance sampling of Pr[s_i f_i > 0 for all i]: GHK, by default with Botev's minimax tilting.

    Each draw walks the (Genz-reordered) Cholesky factor, sampling coordinate i from a normal with
    mean mu_i truncated to the region the constraints leave it, and carries the likelihood ratio
    as its weight; mu = 0 is plain GHK (Genz & Bretz 2009), mu = mu* the minimax-tilted estimator
    of Botev (2017, J. R. Stat. Soc. B 79:125), whose weights stay nearly constant even for
    orthant probabilities far below 1e-30, where plain GHK's are heavy-tailed. Without a saddle
    point (never seen in the tests) it falls back to plain GHK and says so in `method`.
    95% interval: mean +- 1.96 standard errors of the weights.
    """
    c = _signed_cov(k, y)
    samples = _check_samples(samples)
    m = c.shape[0]
    c = c + jitter * float(np.mean(np.diag(c))) * np.eye(m)
    if reorder:
        _, chol = genz_order(c)
    else:
        try:
            chol = np.linalg.cholesky(c)
        except np.linalg.LinAlgError:
            raise UserError("orthant kernel matrix is not positive definite on the training points") from None
    unit = chol / np.diag(chol)[:, None]
    np.fill_diagonal(unit, 0.0)
    mu = _tilting(unit) if (tilt and m >= 2) else None
    method = "ghk-tilted" if mu is not None else "ghk"
    if mu is None:
        mu = np.zeros(m)
    logw_parts = []
    for j, count in _blocks(samples):
        u = _rng(seed, j).random((count, m))
        z = np.zeros((count, m))
        logw = np.zeros(count)
        for i in range(m):
            # constraint: z_i + (L z)_i > 0 with z_i = mu_i + t, t ~ N(0, 1) truncated to t > lower
            lower = -mu[i] - z[:, :i] @ unit[i, :i]
            t, logp = _truncated_above(u[:, i], lower)
            z[:, i] = mu[i] + t
            logw += logp + 0.5 * mu[i] ** 2 - mu[i] * z[:, i]
        logw_parts.append(logw)
    logw = np.concatenate(logw_parts)
    top = float(logw.max())
    w = np.exp(logw - top)
    mean = float(w.mean())
    se = float(w.std(ddof=1) / math.sqrt(samples))
    log_p = top + math.log(mean)
    log_lo = top + _log(max(mean - Z95 * se, 0.0))
    log_hi = min(0.0, top + math.log(mean + Z95 * se))
    return OrthantEstimate(math.exp(log_p), math.exp(log_lo), math.exp(log_hi), log_p, log_lo, log_hi, samples,
                           method)


def orthant_genz_scipy(k, y, seed: int = 0, maxpts: int | None = None) -> float:
    """scipy's multivariate normal CDF (Genz's quasi-Monte Carlo) of the same orthant: an independent check."""
    from scipy import stats

    c = _signed_cov(k, y)
    m = c.shape[0]
    kw = {"maxpts": maxpts} if maxpts else {}
    return float(stats.multivariate_normal.cdf(np.zeros(m), mean=np.zeros(m), cov=c, rng=np.random.default_rng(seed),
                                               **kw))
