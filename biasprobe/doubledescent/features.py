"""Random ReLU features on the sphere and random Fourier features, with their seeded double-descent sweeps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.doubledescent.linear import min_norm_gram, min_norm_solve, ridge_solve
from biasprobe.errors import UserError


def sphere(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    """`count` points uniform on the sphere of radius √dim in R^dim (Mei & Montanari's normalisation)."""
    g = rng.standard_normal((count, dim))
    return g * (np.sqrt(dim) / np.linalg.norm(g, axis=1, keepdims=True))


def relu_features(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """σ(⟨θ_a, x⟩/√d) with σ = ReLU, for rows x and feature directions θ_a (both of norm √d)."""
    return np.maximum(x @ theta.T / np.sqrt(x.shape[1]), 0.0)


def fourier_features(x: np.ndarray, freqs: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """Real random Fourier features √(2/N)·cos(⟨v_a, x⟩ + b_a) (Rahimi & Recht 2007)."""
    return np.sqrt(2.0 / freqs.shape[0]) * np.cos(x @ freqs.T + phases)


def draw_fourier(rng: np.random.Generator, count: int, dim: int, bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies v ~ N(0, σ⁻² I) and phases b ~ U[0, 2π): the features approximate exp(−‖x−x'‖²/(2σ²))."""
    return rng.standard_normal((count, dim)) / bandwidth, rng.uniform(0.0, 2.0 * np.pi, count)


def gaussian_kernel(a: np.ndarray, b: np.ndarray, bandwidth: float) -> np.ndarray:
    """exp(−‖a_i − b_j‖²/(2σ²)), the N → ∞ limit of `fourier_features` inner products."""
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.exp(-np.maximum(d2, 0.0) / (2.0 * bandwidth**2))


def random_features_sweep(d: int, n: int, n_features, seeds: int, ridges=(0.0,), f1_2: float = 1.0,
                          tau2: float = 0.0, n_test: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Random ReLU features regression on the sphere, Mei & Montanari (2022) setup; one row per (seed, ridge, N).

    Target ⟨β1, x⟩ with ‖β1‖² = f1_2 plus N(0, tau2) label noise; the risk is the mean squared error
    against the noiseless target on `n_test` fresh sphere points. `ridges` are MM's λ: the objective
    is (1/n)‖y − Φa‖² + (Nλ/d)‖a‖², so λ = 0 is the min-norm interpolant. The feature sets for
    different N are nested (the first N of one draw) so the curve is smooth in N within a seed.
    """
    n_features = np.asarray(n_features, dtype=int)
    rows = []
    for s, ss in enumerate(np.random.SeedSequence([seed, d, n]).spawn(seeds)):
        rng = np.random.default_rng(ss)
        beta = rng.standard_normal(d)
        beta *= np.sqrt(f1_2) / np.linalg.norm(beta)
        x, x_test = sphere(rng, n, d), sphere(rng, n_test, d)
        y = x @ beta + np.sqrt(tau2) * rng.standard_normal(n)
        f_test = x_test @ beta
        theta = sphere(rng, int(n_features.max()), d)
        phi_all, phi_test_all = relu_features(x, theta), relu_features(x_test, theta)
        for big_n in n_features:
            phi, phi_test = phi_all[:, :big_n], phi_test_all[:, :big_n]
            for lam in ridges:
                coef = min_norm_gram(phi, y) if lam == 0 else ridge_solve(phi, y, n * big_n * lam / d)
                rows.append((s, d, n, int(big_n), big_n / d, n / d, float(lam),
                             float(np.mean((phi_test @ coef - f_test) ** 2)),
                             float(np.mean((phi @ coef - y) ** 2)), float(np.sum(coef**2))))
    return pd.DataFrame(rows, columns=["seed", "d", "n", "N", "psi1", "psi2", "ridge", "risk", "train_mse", "norm2"])


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def _losses(scores: np.ndarray, labels: np.ndarray, classes: int) -> tuple[float, float]:
    """(0-1 loss of the argmax, mean squared loss against one-hot targets summed over classes)."""
    return float(np.mean(scores.argmax(1) != labels)), float(np.mean(((scores - _one_hot(labels, classes)) ** 2).sum(1)))


def fourier_sweep(data: dict, n_features, seeds: int, bandwidth: float = 5.0, seed: int = 0) -> pd.DataFrame:
    """Belkin et al. (2019) random Fourier features: min-norm fit of one-hot targets; one row per (seed, N).

    `data` holds x, y (train) and x_test, y_test (integer labels). Losses: test/train 0-1 and squared
    (summed over classes, mean over points); `norm` is the Frobenius norm of the coefficient matrix.
    """
    x, y, x_test, y_test = data["x"], data["y"], data["x_test"], data["y_test"]
    classes = int(max(y.max(), y_test.max())) + 1
    targets = _one_hot(y, classes)
    n_features = np.asarray(n_features, dtype=int)
    if n_features.min() < 1:
        raise UserError("numbers of features must be positive")
    rows = []
    for s, ss in enumerate(np.random.SeedSequence([seed, len(y)]).spawn(seeds)):
        rng = np.random.default_rng(ss)
        freqs, phases = draw_fourier(rng, int(n_features.max()), x.shape[1], bandwidth)
        for big_n in n_features:
            # Features of a prefix of one draw, rescaled: √(2/N) depends on N, so recompute per N.
            phi = fourier_features(x, freqs[:big_n], phases[:big_n])
            coef = min_norm_solve(phi, targets)
            test01, test_sq = _losses(fourier_features(x_test, freqs[:big_n], phases[:big_n]) @ coef, y_test, classes)
            train01, train_sq = _losses(phi @ coef, y, classes)
            rows.append((s, len(y), int(big_n), big_n / len(y), test01, test_sq, train01, train_sq,
                         float(np.linalg.norm(coef))))
    return pd.DataFrame(rows, columns=["seed", "n", "N", "ratio", "test_01", "test_sq", "train_01", "train_sq", "norm"])


def kernel_interpolant(data: dict, bandwidth: float = 5.0) -> dict:
    """The N → ∞ limit of `fourier_sweep`: Gaussian-kernel interpolation of one-hot targets (RKHS min-norm).

    Solved with an eigendecomposition so that a nearly singular kernel matrix still gives the
    minimum-norm solution (eigenvalues below n·eps·λ_max are dropped, as `lstsq` would).
    """
    x, y, x_test, y_test = data["x"], data["y"], data["x_test"], data["y_test"]
    classes = int(max(y.max(), y_test.max())) + 1
    targets = _one_hot(y, classes)
    vals, vecs = np.linalg.eigh(gaussian_kernel(x, x, bandwidth))
    keep = vals > len(y) * np.finfo(float).eps * vals.max()
    alpha = vecs[:, keep] @ ((vecs[:, keep].T @ targets) / vals[keep, None])
    test01, test_sq = _losses(gaussian_kernel(x_test, x, bandwidth) @ alpha, y_test, classes)
    norm = float(np.sqrt(np.sum(targets * alpha)))
    return {"test_01": test01, "test_sq": test_sq, "train_01": 0.0, "train_sq": 0.0, "norm": norm}
