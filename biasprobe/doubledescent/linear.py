"""Min-norm least squares and seeded model-wise and sample-wise double-descent sweeps on Gaussian data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.errors import UserError


def min_norm_solve(features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Minimum-norm least-squares coefficients X⁺y (SVD via LAPACK gelsd; columns of `targets` solved together).

    Below the interpolation threshold this is ordinary least squares; above it, the interpolant
    of smallest Euclidean norm, which gradient descent from zero converges to.
    """
    coef, *_ = np.linalg.lstsq(features, targets, rcond=None)
    return coef


def ridge_solve(features: np.ndarray, targets: np.ndarray, penalty: float) -> np.ndarray:
    """argmin ‖y − Xa‖² + penalty·‖a‖², through the smaller of the primal and dual systems; penalty 0 is min-norm."""
    if penalty < 0:
        raise UserError(f"ridge penalty must be >= 0, got {penalty}")
    if penalty == 0:
        return min_norm_solve(features, targets)
    n, p = features.shape
    if p <= n:
        gram = features.T @ features + penalty * np.eye(p)
        return np.linalg.solve(gram, features.T @ targets)
    gram = features @ features.T + penalty * np.eye(n)
    return features.T @ np.linalg.solve(gram, targets)


def gamma_grid(n: int, gamma_min: float, gamma_max: float, points: int, near_one: int = 0) -> np.ndarray:
    """Distinct integer sizes p = round(γ n) on a log grid of γ, plus `near_one` extra points in [0.8, 1.25].

    The extra points make the grid dense near the interpolation threshold, where the curve bends.
    """
    if not 0 < gamma_min < gamma_max:
        raise UserError(f"need 0 < gamma_min < gamma_max, got {gamma_min}, {gamma_max}")
    gammas = np.geomspace(gamma_min, gamma_max, points)
    if near_one:
        gammas = np.concatenate([gammas, np.geomspace(0.8, 1.25, near_one)])
    sizes = np.unique(np.maximum(1, np.round(gammas * n).astype(int)))
    return sizes


def min_norm_gram(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Min-norm fit through the smaller Gram matrix (LU solve; SVD if it is singular): for well-conditioned designs.

    A Gaussian n × p matrix has condition number O(max(n, p)) even at p = n (Edelman 1988), and
    random ReLU features inherit a floor μ*² on their kernel spectrum, so squaring the condition
    number costs at most ~10 digits of double precision while running several times faster than
    an SVD. Features whose kernel spectrum decays (Fourier features) must use `min_norm_solve`.
    """
    n, p = x.shape
    try:
        if p >= n:
            return x.T @ np.linalg.solve(x @ x.T, y)
        return np.linalg.solve(x.T @ x, x.T @ y)
    except np.linalg.LinAlgError:
        return min_norm_solve(x, y)


def _fit_stats(x: np.ndarray, y: np.ndarray, beta_seen: np.ndarray, unseen2: float) -> tuple[float, float, float]:
    """Excess risk (exact over isotropic test x), train MSE and ‖β̂‖² of the min-norm fit of y on x."""
    coef = min_norm_gram(x, y)
    risk = float(np.sum((coef - beta_seen) ** 2) + unseen2)
    train = float(np.mean((y - x @ coef) ** 2))
    return risk, train, float(np.sum(coef**2))


def modelwise_sweep(n: int, sizes, seeds: int, r2: float = 1.0, sigma2: float = 1.0,
                    dim: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Model-wise sweep at fixed n over p ∈ sizes; one row per (seed, p).

    dim=None is the well-specified model (a fresh β on the sphere of radius r in R^p for each p);
    an integer `dim` is the misspecified model: one data set of `dim` isotropic features with
    β_j = ±r/√dim per seed, and the model sees the first p (Hastie et al. 2022, §5.1).
    The risk is the exact expectation over an isotropic test point, so no test sample is drawn.
    """
    sizes = np.asarray(sizes, dtype=int)
    if dim is not None and sizes.max() > dim:
        raise UserError(f"model-wise sizes go up to p={sizes.max()} but only dim={dim} features exist")
    rows = []
    for s, ss in enumerate(np.random.SeedSequence([seed, n]).spawn(seeds)):
        rng = np.random.default_rng(ss)
        if dim is not None:
            x_all = rng.standard_normal((n, dim))
            beta = np.sqrt(r2 / dim) * rng.choice([-1.0, 1.0], size=dim)
            y = x_all @ beta + np.sqrt(sigma2) * rng.standard_normal(n)
        for p in sizes:
            if dim is None:
                x = rng.standard_normal((n, p))
                beta_p = rng.standard_normal(p)
                beta_p *= np.sqrt(r2) / np.linalg.norm(beta_p)
                y_p = x @ beta_p + np.sqrt(sigma2) * rng.standard_normal(n)
                unseen2 = 0.0
            else:
                x, beta_p, y_p = x_all[:, :p], beta[:p], y
                unseen2 = float(np.sum(beta[p:] ** 2))
            risk, train, norm2 = _fit_stats(x, y_p, beta_p, unseen2)
            rows.append((s, int(n), int(p), p / n, risk, train, norm2))
    return pd.DataFrame(rows, columns=["seed", "n", "p", "gamma", "risk", "train_mse", "norm2"])


def samplewise_sweep(p: int, n_values, seeds: int, r2: float = 1.0, sigma2: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """Sample-wise sweep: p fixed, n ∈ n_values (well-specified, one β per seed); one row per (seed, n).

    The data sets for different n are nested (the first n rows of one draw), as when a user adds data.
    """
    n_values = np.asarray(n_values, dtype=int)
    rows = []
    for s, ss in enumerate(np.random.SeedSequence([seed, p, 1]).spawn(seeds)):
        rng = np.random.default_rng(ss)
        n_max = int(n_values.max())
        x_all = rng.standard_normal((n_max, p))
        beta = rng.standard_normal(p)
        beta *= np.sqrt(r2) / np.linalg.norm(beta)
        y_all = x_all @ beta + np.sqrt(sigma2) * rng.standard_normal(n_max)
        for n in n_values:
            risk, train, norm2 = _fit_stats(x_all[:n], y_all[:n], beta, 0.0)
            rows.append((s, int(n), int(p), p / n, risk, train, norm2))
    return pd.DataFrame(rows, columns=["seed", "n", "p", "gamma", "risk", "train_mse", "norm2"])


def summarize(df: pd.DataFrame, by, value: str, robust_band: tuple[float, float] = (0.8, 1.25)) -> pd.DataFrame:
    """Per-group centre and spread of `value`: mean ± SE outside `robust_band` of γ, median and IQR inside.

    Near the threshold the risk has heavy tails (infinite mean at γ = 1), so the mean is not a
    useful summary there; `centre_kind` says which summary each row holds and `centre_se` is that
    centre's standard error (the mean's SE, or the median's distribution-free SE, `summary.median_se`).
    """
    from biasprobe.doubledescent.summary import median_se

    by = [by] if isinstance(by, str) else list(by)
    out = []
    for key, g in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        v = g[value].to_numpy(dtype=float)
        gamma = float(g["gamma"].iloc[0])
        robust = robust_band[0] <= gamma <= robust_band[1]
        q25, med, q75 = np.quantile(v, [0.25, 0.5, 0.75])
        mean = float(v.mean())
        se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan
        centre, lo, hi = (med, q25, q75) if robust else (mean, mean - se, mean + se)
        centre_se = median_se(v) if robust else se
        out.append((*key, gamma, len(v), mean, se, med, q25, q75, centre, lo, hi, "median" if robust else "mean",
                    centre_se))
    cols = [*by, "gamma", "seeds", "mean", "se", "median", "q25", "q75", "centre", "lower", "upper", "centre_kind",
            "centre_se"]
    return pd.DataFrame(out, columns=cols)
