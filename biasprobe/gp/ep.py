"""ln P(S) under a GP with a probit link by expectation propagation (Rasmussen & Williams 2006, Algorithm 3.5, eq. 3.65).

This is the estimate Valle-Perez et al. (ICLR 2019) feed into their PAC-Bayes bound
(their code: GPy's EP with a Bernoulli likelihood and probit link on the NNGP kernel).
Note what it estimates: with the probit link, P(y | f) = Phi(y f) = Pr[y (f + e) > 0]
for e ~ N(0, 1), so the exact probit marginal likelihood is the orthant probability
of N(0, K + I) (the hard-threshold P(S) of a GP whose kernel has unit white noise
added), not that of N(0, K). `biasprobe.gp.orthant` computes both exactly.

Sequential EP sweeps over the sites in index order with rank-one updates of the
posterior covariance, refactoring it from scratch after every sweep (R&W Alg. 3.5);
site precisions are clipped at 0 (the probit likelihood is log-concave, so a negative
one can only come from rounding). The log marginal likelihood is R&W eq. 3.65 in the
form of their Algorithm 3.5 / eqs. 3.73-3.74, finite even where a site precision is 0.
Problems of the same size run as one batch (arrays (B, m, m)); a problem stops
updating once it has converged, so its result does not depend on the batch it ran in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biasprobe.errors import UserError

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True, eq=False)
class EPResult:
    """EP's answer for B problems of m training points each."""

    log_z: np.ndarray  # (B,) ln Z_EP, the approximation of ln P(S) = ln E[prod_i Phi(y_i f_i)]
    converged: np.ndarray  # (B,) bool: |change of ln Z| < tol within max_sweeps
    sweeps: np.ndarray  # (B,) sweeps run
    mean: np.ndarray  # (B, m) approximate posterior mean of f at the training points
    var: np.ndarray  # (B, m) approximate posterior marginal variances
    site_tau: np.ndarray  # (B, m) site precisions tau~
    site_nu: np.ndarray  # (B, m) site natural means nu~


def _ratio(z: np.ndarray) -> np.ndarray:
    """N(z) / Phi(z), stable for very negative z."""
    from scipy import special

    return np.exp(-0.5 * z * z - LOG_SQRT_2PI - special.log_ndtr(z))


def _inputs(k, y, mean):
    k = np.asarray(k, dtype=np.float64)
    y = np.asarray(y)
    single = k.ndim == 2
    if single:
        k, y = k[None], y[None]
    if k.ndim != 3 or k.shape[1] != k.shape[2] or y.shape != k.shape[:2]:
        raise UserError(f"EP needs kernels (B, m, m) and labels (B, m); got {k.shape} and {y.shape}")
    if k.shape[1] < 1:
        raise UserError("EP needs at least one training point")
    if not np.isin(y, (0, 1)).all():
        raise UserError("EP labels must be 0 or 1")
    if not np.isfinite(k).all():
        raise UserError("EP kernel matrix has non-finite entries")
    m0 = np.zeros(y.shape) if mean is None else np.broadcast_to(np.asarray(mean, dtype=np.float64), y.shape)
    return k, np.where(y == 1, 1.0, -1.0), np.array(m0, dtype=np.float64), single


def _refactor(k, tau, nu):
    """Sigma = (K^-1 + S)^-1 = K - V^T V and mu = Sigma nu, with L = chol(I + S^1/2 K S^1/2), V = L^-1 S^1/2 K."""
    m = k.shape[-1]
    s = np.sqrt(tau)
    b = np.eye(m) + s[:, :, None] * k * s[:, None, :]
    chol = np.linalg.cholesky(b)
    v = np.linalg.solve(chol, s[:, :, None] * k)
    sigma = k - np.swapaxes(v, 1, 2) @ v
    return sigma, np.einsum("bij,bj->bi", sigma, nu), chol


def _log_z(k, ys, m0, tau, nu, sigma, mu, chol):
    """R&W eq. 3.65 (terms as in Algorithm 3.5), with the cavities of the current approximation."""
    from scipy import special

    d = np.einsum("bii->bi", sigma)
    tau_c = 1.0 / d - tau
    nu_c = mu / d - nu
    z = ys * (nu_c / tau_c + m0) / np.sqrt(1.0 + 1.0 / tau_c)
    terms = (special.log_ndtr(z).sum(1)
             + 0.5 * np.log1p(tau / tau_c).sum(1)
             - np.log(np.einsum("bii->bi", chol)).sum(1)
             + 0.5 * np.einsum("bi,bij,bj->b", nu, sigma, nu)
             + 0.5 * ((nu_c**2 * tau - 2.0 * nu_c * nu * tau_c - nu**2 * tau_c) / (tau_c * (tau + tau_c))).sum(1))
    return terms


def _sweep(k, ys, m0, tau, nu, sigma, mu):
    """One pass of sequential EP over the m sites (R&W Alg. 3.5, lines 4-11), in place, all problems at once."""
    m = k.shape[-1]
    for i in range(m):
        s_ii = sigma[:, i, i]
        tau_c = 1.0 / s_ii - tau[:, i]
        nu_c = mu[:, i] / s_ii - nu[:, i]
        var_c = 1.0 / tau_c
        mean_c = nu_c * var_c
        root = np.sqrt(1.0 + var_c)
        z = ys[:, i] * (mean_c + m0[:, i]) / root
        r = _ratio(z)
        mu_hat = mean_c + ys[:, i] * var_c * r / root
        var_hat = var_c - var_c**2 * r / (1.0 + var_c) * (z + r)
        new_tau = np.maximum(1.0 / var_hat - tau_c, 0.0)
        dtau = new_tau - tau[:, i]
        tau[:, i] = new_tau
        nu[:, i] = mu_hat / var_hat - nu_c
        col = sigma[:, :, i].copy()
        coef = dtau / (1.0 + dtau * s_ii)
        sigma -= coef[:, None, None] * col[:, :, None] * col[:, None, :]
        mu[:] = np.einsum("bij,bj->bi", sigma, nu)


def ep_probit(k, y, mean=None, tol: float = 1e-10, max_sweeps: int = 100) -> EPResult:
    """EP for GP classification with the probit link Phi(y f), y in {0, 1} mapped to -1, +1.

    ``k``: (m, m) or (B, m, m) prior covariance of f at the training points; ``y``: (m,) or (B, m)
    labels; ``mean``: optional prior mean of f (default 0). Iterates sweeps until ln Z changes by less
    than ``tol`` between two sweeps (at most ``max_sweeps``; `converged` says which problems got there).
    """
    k, ys, m0, single = _inputs(k, y, mean)
    nb, m = ys.shape
    tau = np.zeros((nb, m))
    nu = np.zeros((nb, m))
    sigma = k.copy()
    mu = np.zeros((nb, m))
    log_z = np.full(nb, -np.inf)
    done = np.zeros(nb, bool)
    sweeps = np.zeros(nb, np.int64)
    for _ in range(max_sweeps):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        kt, tt, nt, st, mt = k[act], tau[act], nu[act], sigma[act], mu[act]
        _sweep(kt, ys[act], m0[act], tt, nt, st, mt)
        st, mt, chol = _refactor(kt, tt, nt)
        new = _log_z(kt, ys[act], m0[act], tt, nt, st, mt, chol)
        done[act] = np.abs(new - log_z[act]) < tol
        tau[act], nu[act], sigma[act], mu[act], log_z[act] = tt, nt, st, mt, new
        sweeps[act] += 1
    var = np.einsum("bii->bi", sigma).copy()
    out = EPResult(log_z=log_z, converged=done, sweeps=sweeps, mean=mu + m0, var=var, site_tau=tau, site_nu=nu)
    if single:
        out = EPResult(*(np.asarray(getattr(out, f)[0]) for f in
                         ("log_z", "converged", "sweeps", "mean", "var", "site_tau", "site_nu")))
    return out


def log_p_s_ep(k, y, **kwargs):
    """ln P(S) by EP with the probit link: `ep_probit(k, y).log_z` (a float for one problem, (B,) for a batch)."""
    res = ep_probit(k, y, **kwargs)
    return float(res.log_z) if np.ndim(res.log_z) == 0 else res.log_z
