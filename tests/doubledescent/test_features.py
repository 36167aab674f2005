"""Random ReLU and Fourier features: geometry, kernel limit, interpolation threshold and Mei–Montanari agreement."""

import numpy as np
import pytest

from biasprobe.doubledescent import features as F
from biasprobe.doubledescent import theory as T


def test_sphere_radius_and_isotropy():
    x = F.sphere(np.random.default_rng(0), 4000, 10)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.sqrt(10))
    # E x xᵀ = I on the sphere of radius √d; 4000 points give entries within ~4/√4000.
    assert np.abs(x.T @ x / 4000 - np.eye(10)).max() < 0.1


def test_fourier_features_approximate_gaussian_kernel():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3))
    freqs, phases = F.draw_fourier(rng, 200_000, 3, bandwidth=1.5)
    phi = F.fourier_features(x, freqs, phases)
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(phi @ phi.T, np.exp(-d2 / (2 * 1.5**2)), atol=0.01)
    np.testing.assert_allclose(F.gaussian_kernel(x, x, 1.5), np.exp(-d2 / (2 * 1.5**2)), atol=1e-12)


def _toy(n=40, n_test=50, seed=2):
    rng = np.random.default_rng(seed)
    x, xt = rng.uniform(size=(n, 5)), rng.uniform(size=(n_test, 5))
    return {"x": x, "y": rng.integers(0, 3, n), "x_test": xt, "y_test": rng.integers(0, 3, n_test)}


def test_fourier_interpolation_threshold_and_norm_peak_at_n():
    data = _toy()
    df = F.fourier_sweep(data, [10, 20, 39, 40, 41, 80, 400], seeds=1, bandwidth=0.5).set_index("N")
    assert df.loc[39, "train_sq"] > 1e-6 and df.loc[40, "train_sq"] < 1e-12 and df.loc[41, "train_sq"] < 1e-12
    assert df.norm.idxmax() in (39, 40, 41)


def test_kernel_interpolant_is_the_many_features_limit():
    data = _toy()
    k = F.kernel_interpolant(data, 2.0)
    df = F.fourier_sweep(data, [20_000], seeds=1, bandwidth=2.0)
    assert df.norm.iloc[0] == pytest.approx(k["norm"], rel=0.1)
    assert df.test_sq.iloc[0] == pytest.approx(k["test_sq"], rel=0.1)


def test_random_relu_features_threshold_at_n():
    df = F.random_features_sweep(10, 30, [29, 30, 31], seeds=1, n_test=10, tau2=0.1).set_index("N")
    assert df.loc[29, "train_mse"] > 1e-6 and df.loc[30, "train_mse"] < 1e-12 and df.loc[31, "train_mse"] < 1e-12


def test_random_features_match_mei_montanari_away_from_peak():
    d, n = 100, 300
    big_n = np.array([30, 90, 150, 600, 900])  # N/n outside [1/2, 2]
    df = F.random_features_sweep(d, n, big_n, seeds=6, f1_2=1.0, tau2=0.2, n_test=1000, seed=0)
    sim = df.groupby("N").risk.mean()
    theory = T.random_features_risk(sim.index / d, n / d, f1_2=1.0, tau2=0.2)
    assert np.max(np.abs(sim / theory - 1)) < 0.10


def test_ridge_lowers_the_peak():
    df = F.random_features_sweep(20, 60, [60], seeds=2, ridges=(0.0, 0.1), tau2=0.2, n_test=200)
    risk = df.groupby("ridge").risk.mean()
    assert risk[0.1] < 0.5 * risk[0.0]


@pytest.mark.parametrize("big_n", [20, 39, 40, 41, 400])
def test_gram_route_equals_pinv_for_relu_features(big_n):
    from biasprobe.doubledescent.linear import min_norm_gram

    rng = np.random.default_rng(big_n)
    phi = F.relu_features(F.sphere(rng, 40, 15), F.sphere(rng, big_n, 15))
    y = rng.standard_normal(40)
    np.testing.assert_allclose(min_norm_gram(phi, y), np.linalg.pinv(phi) @ y, rtol=1e-5, atol=1e-7)
