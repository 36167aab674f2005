"""Min-norm solvers against numpy's pinv, and simulated sweeps against Hastie et al.'s exact finite-n risk."""

import numpy as np
import pytest

from biasprobe.doubledescent import linear as L
from biasprobe.doubledescent import theory as T
from biasprobe.errors import UserError


@pytest.mark.parametrize("shape", [(30, 10), (10, 30), (20, 20)])
def test_min_norm_equals_pinv(shape):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(shape), rng.standard_normal((shape[0], 3))
    np.testing.assert_allclose(L.min_norm_solve(x, y), np.linalg.pinv(x) @ y, rtol=1e-8, atol=1e-10)


def test_min_norm_rank_deficient_equals_pinv():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((12, 4)) @ rng.standard_normal((4, 20))  # rank 4
    y = rng.standard_normal(12)
    coef = L.min_norm_solve(x, y)
    np.testing.assert_allclose(coef, np.linalg.pinv(x) @ y, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("p", [5, 39, 40, 41, 200])
def test_gaussian_fast_path_equals_pinv(p):
    rng = np.random.default_rng(p)
    x, y = rng.standard_normal((40, p)), rng.standard_normal(40)
    np.testing.assert_allclose(L.min_norm_gram(x, y), np.linalg.pinv(x) @ y, rtol=1e-6, atol=1e-8)


def test_ridge_primal_dual_and_small_penalty_limit():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((15, 40)), rng.standard_normal(15)
    direct = np.linalg.solve(x.T @ x + 0.7 * np.eye(40), x.T @ y)  # the primal form, always valid
    np.testing.assert_allclose(L.ridge_solve(x, y, 0.7), direct, rtol=1e-10)
    np.testing.assert_allclose(L.ridge_solve(x, y, 1e-10), np.linalg.pinv(x) @ y, rtol=1e-5)
    with pytest.raises(UserError):
        L.ridge_solve(x, y, -1.0)


def test_interpolation_threshold_at_p_equals_n():
    n = 30
    df = L.modelwise_sweep(n, [n - 1, n, n + 1], seeds=2, seed=4)
    train = df.groupby("p").train_mse.max()
    assert train[n - 1] > 1e-3 and train[n] < 1e-12 and train[n + 1] < 1e-12


def _relative_errors(df, exact, n_or_none=None):
    s = L.summarize(df, "p" if n_or_none is not None else "n", "risk")
    far = s[(s.gamma < 0.8) | (s.gamma > 1.25)]
    return far, np.abs(far["mean"].to_numpy() / exact(far) - 1)


def test_modelwise_simulation_within_10_percent_of_exact():
    n = 60
    sizes = np.unique(np.concatenate([L.gamma_grid(n, 0.2, 5, 16), [48, 75]]))
    df = L.modelwise_sweep(n, sizes, seeds=150, r2=1.0, sigma2=1.0, seed=0)
    far, rel = _relative_errors(df, lambda f: T.min_norm_risk_exact(f.p, n, 1.0, 1.0), n)
    assert len(far) >= 14 and rel.max() < 0.10
    norms = df.groupby("p").norm2.mean()
    exact_norm = T.min_norm_norm2_exact(norms.index, n, 1.0, 1.0)
    keep = (norms.index / n < 0.8) | (norms.index / n > 1.25)
    assert np.max(np.abs(norms[keep] / exact_norm[keep] - 1)) < 0.10


def test_misspecified_simulation_within_10_percent_and_minimum_beyond_threshold():
    n, dim = 40, 400
    sizes = np.unique(np.concatenate([L.gamma_grid(n, 0.2, 10, 16), [32, 50]]))
    df = L.modelwise_sweep(n, sizes, seeds=100, r2=1.0, sigma2=0.25, dim=dim, seed=1)
    far, rel = _relative_errors(df, lambda f: T.misspecified_risk_exact(f.p, n, dim, 1.0, 0.25), n)
    assert rel.max() < 0.10
    # With the signal spread over 400 features the best model is the largest one (γ = 10 > 1).
    means = df.groupby("p").risk.mean()
    assert means.idxmin() == sizes.max()


def test_samplewise_simulation_within_10_percent_of_exact():
    p = 40
    n_values = np.unique(np.round(p / np.array([0.2, 0.3, 0.5, 0.7, 1.5, 2.0, 3.0, 5.0])).astype(int))
    df = L.samplewise_sweep(p, n_values, seeds=150, seed=2)
    s = L.summarize(df, "n", "risk")
    exact = T.min_norm_risk_exact(p, s.n.to_numpy(), 1.0, 1.0)
    assert np.max(np.abs(s["mean"] / exact - 1)) < 0.10


def test_sweeps_are_seeded():
    a = L.modelwise_sweep(20, [10, 30], seeds=2, seed=5)
    b = L.modelwise_sweep(20, [10, 30], seeds=2, seed=5)
    c = L.modelwise_sweep(20, [10, 30], seeds=2, seed=6)
    assert a.equals(b) and not a.risk.equals(c.risk)


def test_summarize_uses_median_near_threshold():
    df = L.modelwise_sweep(20, [10, 20], seeds=5, seed=0)
    s = L.summarize(df, "p", "risk").set_index("p")
    assert s.loc[20, "centre_kind"] == "median" and s.loc[20, "centre"] == pytest.approx(df[df.p == 20].risk.median())
    assert s.loc[10, "centre_kind"] == "mean" and s.loc[10, "centre"] == pytest.approx(df[df.p == 10].risk.mean())
