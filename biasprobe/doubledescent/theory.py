"""Closed-form double-descent curves: Hastie et al. min-norm least squares and Mei–Montanari random features."""

from __future__ import annotations

import math

import numpy as np

# ReLU Hermite coefficients for a standard normal pre-activation G:
# mu0 = E relu(G), mu1 = E G relu(G), mu_star^2 = E relu(G)^2 - mu0^2 - mu1^2.
RELU_MU0 = 1.0 / math.sqrt(2.0 * math.pi)
RELU_MU1 = 0.5
RELU_MU_STAR2 = 0.25 - 1.0 / (2.0 * math.pi)


def min_norm_risk_asymptotic(gamma, r2: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Limiting excess risk ‖β̂ − β‖² of min-norm least squares at γ = p/n (isotropic features).

    Hastie, Montanari, Rosset & Tibshirani (2022), Theorems 1–2:
    σ²γ/(1−γ) for γ < 1 and r²(1 − 1/γ) + σ²/(γ − 1) for γ > 1; infinite at γ = 1.
    """
    g = np.asarray(gamma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = sigma2 * g / (1.0 - g)
        over = r2 * (1.0 - 1.0 / g) + sigma2 / (g - 1.0)
    return np.where(g < 1, under, np.where(g > 1, over, np.inf))


def min_norm_norm2_asymptotic(gamma, r2: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Limiting ‖β̂‖² of min-norm least squares: r² + σ²γ/(1−γ) (γ < 1), r²/γ + σ²/(γ−1) (γ > 1)."""
    g = np.asarray(gamma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = r2 + sigma2 * g / (1.0 - g)
        over = r2 / g + sigma2 / (g - 1.0)
    return np.where(g < 1, under, np.where(g > 1, over, np.inf))


def min_norm_risk_exact(p, n, r2: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Exact E‖β̂ − β‖² for Gaussian X (n × p, iid N(0,1)) at finite n, p; NaN where p ∈ [n−1, n+1].

    p < n−1: σ² p/(n−p−1) (the inverse-Wishart mean); p > n+1: r²(1 − n/p) + σ² n/(p−n−1)
    (projection of an isotropic β plus the inverse-Wishart mean of XXᵀ).
    """
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = sigma2 * p / (n - p - 1.0)
        over = r2 * (1.0 - n / p) + sigma2 * n / (p - n - 1.0)
    return np.where(p < n - 1, under, np.where(p > n + 1, over, np.nan))


def min_norm_norm2_exact(p, n, r2: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Exact E‖β̂‖² for Gaussian X: r² + σ² p/(n−p−1) (p < n−1), r² n/p + σ² n/(p−n−1) (p > n+1)."""
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = r2 + sigma2 * p / (n - p - 1.0)
        over = r2 * n / p + sigma2 * n / (p - n - 1.0)
    return np.where(p < n - 1, under, np.where(p > n + 1, over, np.nan))


def misspecified_risk_exact(p, n, dim: int, r2: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Exact excess risk when the model sees the first p of `dim` isotropic features, β spread evenly.

    With β_j² = r²/dim the unobserved part acts as extra noise ‖θ‖² = r²(1 − p/dim), independent
    of the observed features (Hastie et al. 2022, §5.1): R = R_wellspec(r²p/dim, σ² + ‖θ‖²) + ‖θ‖².
    """
    p = np.asarray(p, dtype=float)
    theta2 = r2 * (1.0 - p / dim)
    return min_norm_risk_exact(p, n, r2 * p / dim, sigma2 + theta2) + theta2


def misspecified_risk_asymptotic(gamma, n_over_dim: float, r2: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Limit of `misspecified_risk_exact` with p/n → γ and n/dim fixed (so p/dim = γ·n/dim)."""
    g = np.asarray(gamma, dtype=float)
    frac = g * n_over_dim
    theta2 = r2 * (1.0 - frac)
    return min_norm_risk_asymptotic(g, r2 * frac, sigma2 + theta2) + theta2


def misspecified_norm2_exact(p, n, dim: int, r2: float = 1.0, sigma2: float = 1.0) -> np.ndarray:
    """Exact E‖β̂‖² in the misspecified model-wise setting of `misspecified_risk_exact`."""
    p = np.asarray(p, dtype=float)
    theta2 = r2 * (1.0 - p / dim)
    return min_norm_norm2_exact(p, n, r2 * p / dim, sigma2 + theta2)


def random_features_risk(psi1, psi2, zeta: float | None = None, f1_2: float = 1.0,
                         fstar2: float = 0.0, tau2: float = 0.0) -> np.ndarray:
    """Ridgeless test risk of random-features regression, Mei & Montanari (2022), Theorem 3 (λ → 0).

    psi1 = N/d (features), psi2 = n/d (samples), zeta = μ1/μ* of the activation (ReLU by default),
    f1_2 = ‖β1‖², fstar2 = E f_NL², tau2 = noise variance. Written exactly as docs/definitions.md §6.
    """
    if zeta is None:
        zeta = RELU_MU1 / math.sqrt(RELU_MU_STAR2)
    psi1, psi2 = np.broadcast_arrays(np.asarray(psi1, dtype=float), np.asarray(psi2, dtype=float))
    z2 = zeta**2
    psi = np.minimum(psi1, psi2)
    a = psi * z2 - z2 - 1.0
    chi = -(a + np.sqrt(a**2 + 4.0 * psi * z2)) / (2.0 * z2)
    pp = psi1 * psi2
    e0 = (-(chi**5) * zeta**6 + 3 * chi**4 * zeta**4 + (pp - psi2 - psi1 + 1) * chi**3 * zeta**6
          - 2 * chi**3 * zeta**4 - 3 * chi**3 * z2 + (psi1 + psi2 - 3 * pp + 1) * chi**2 * zeta**4
          + 2 * chi**2 * z2 + chi**2 + 3 * pp * chi * z2 - pp)
    e1 = psi2 * chi**3 * zeta**4 - psi2 * chi**2 * z2 + pp * chi * z2 - pp
    e2 = (chi**5 * zeta**6 - 3 * chi**4 * zeta**4 + (psi1 - 1) * chi**3 * zeta**6 + 2 * chi**3 * zeta**4
          + 3 * chi**3 * z2 + (-psi1 - 1) * chi**2 * zeta**4 - 2 * chi**2 * z2 - chi**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = f1_2 * e1 / e0 + (tau2 + fstar2) * e2 / e0 + fstar2
    return np.where(psi1 == psi2, np.inf, risk)


def min_norm_train_exact(p, n, sigma2: float = 1.0) -> np.ndarray:
    """Exact E train MSE of least squares: σ²(n − p)/n for p < n (residual projection of the noise), 0 for p ≥ n."""
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    return np.where(p < n, sigma2 * (n - p) / n, 0.0)
