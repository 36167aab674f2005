"""Closed forms of theory.py against hand-worked values and limits derived independently."""

import math

import numpy as np
import pytest

from biasprobe.doubledescent import theory as T


def test_relu_hermite_coefficients_match_quadrature():
    # E relu(G), E G relu(G), Var-type residual by numerical integration against the Gaussian density.
    from scipy import integrate

    phi = lambda g: math.exp(-g * g / 2) / math.sqrt(2 * math.pi)
    mu0 = integrate.quad(lambda g: g * phi(g), 0, np.inf)[0]
    mu1 = integrate.quad(lambda g: g * g * phi(g), 0, np.inf)[0]
    second = integrate.quad(lambda g: g * g * phi(g), 0, np.inf)[0]
    assert T.RELU_MU0 == pytest.approx(mu0, rel=1e-9)
    assert T.RELU_MU1 == pytest.approx(mu1, rel=1e-9)
    assert T.RELU_MU_STAR2 == pytest.approx(second - mu0**2 - mu1**2, rel=1e-9)
    assert T.RELU_MU1 / math.sqrt(T.RELU_MU_STAR2) == pytest.approx(1.659, abs=1e-3)  # docs/definitions.md §6


def test_hastie_asymptotic_hand_values():
    # γ=1/2: σ²·1 = 1; γ=2: r²/2 + σ² = 1.5; γ=4, r²=2, σ²=0.5: 2·3/4 + 0.5/3.
    r = T.min_norm_risk_asymptotic([0.5, 2.0, 4.0], r2=1.0, sigma2=1.0)
    np.testing.assert_allclose(r, [1.0, 1.5, 0.75 + 1 / 3])
    assert T.min_norm_risk_asymptotic(4.0, r2=2.0, sigma2=0.5) == pytest.approx(1.5 + 0.5 / 3)
    assert np.isinf(T.min_norm_risk_asymptotic(1.0))
    np.testing.assert_allclose(T.min_norm_norm2_asymptotic([0.5, 2.0]), [2.0, 1.5])


def test_hastie_exact_hand_values_and_gap():
    np.testing.assert_allclose(T.min_norm_risk_exact([10, 50], 30, 1.0, 1.0), [10 / 19, 1 - 30 / 50 + 30 / 19])
    assert np.isnan(T.min_norm_risk_exact([29, 30, 31], 30)).all()
    # Exact tends to the limit as n grows at fixed γ (error O(1/n)).
    for g in (0.3, 3.0):
        gap = [abs(T.min_norm_risk_exact(g * n, n) - T.min_norm_risk_asymptotic(g)) for n in (100, 1000, 10000)]
        assert gap[0] > gap[1] > gap[2] and gap[2] < 1e-3


def test_misspecified_reduces_to_wellspecified_when_everything_is_seen():
    p, n = np.array([10, 80]), 40
    np.testing.assert_allclose(T.misspecified_risk_exact(p, n, dim=80, r2=1.0, sigma2=0.5)[1],
                               T.min_norm_risk_exact(80, n, 1.0, 0.5))
    # p = 10 of 80 features: signal 1/8 seen, 7/8 unseen noise, plus the unseen part itself.
    assert T.misspecified_risk_exact(10, n, 80, 1.0, 0.5) == pytest.approx((0.5 + 7 / 8) * 10 / 29 + 7 / 8)


def test_mei_montanari_limits():
    kw = dict(f1_2=1.0, fstar2=0.3, tau2=0.2)
    # No features: the null predictor, risk F1² + F*².
    assert T.random_features_risk(1e-7, 3.0, **kw) == pytest.approx(1.3, abs=1e-4)
    # N/n = 10 with both → ∞: the linear part is learned exactly and the noise (τ² + F*²) is amplified
    # as in over-parameterised min-norm regression, 1/(γ−1) with γ = 10 (Hastie et al.).
    assert T.random_features_risk(1e8, 1e7, **kw) == pytest.approx(0.3 + 0.5 / 9, abs=1e-5)
    assert np.isinf(T.random_features_risk(3.0, 3.0))
    # The peak is at N = n: the risk rises towards it from both sides.
    left = T.random_features_risk([2.0, 2.5, 2.9], 3.0, **kw)
    right = T.random_features_risk([3.1, 3.5, 4.5], 3.0, **kw)
    assert np.all(np.diff(left) > 0) and np.all(np.diff(right) < 0)


def test_train_exact_hand_values():
    np.testing.assert_allclose(T.min_norm_train_exact([10, 30, 50], 40, 2.0), [2.0 * 30 / 40, 2.0 * 10 / 40, 0.0])


def test_peak_row_hand_example():
    from biasprobe.doubledescent.summary import peak_row

    x = [1, 2, 3, 4, 5, 6, 7]
    y = [9.0, 2.0, 1.0, 5.0, 0.5, 0.7, 0.2]
    r = peak_row(x, y, window=(2, 6))
    assert (r["peak_at"], r["peak"], r["left_min_at"], r["left_min"], r["right_min_at"], r["right_min"]) == (4, 5.0, 3, 1.0, 7, 0.2)
    assert r["is_peak"]
    assert peak_row(x, y)["peak_at"] == 1 and np.isnan(peak_row(x, y)["left_min"]) and not peak_row(x, y)["is_peak"]
    assert not peak_row([1, 2, 3], [3.0, 2.0, 1.0], window=(2, 3))["is_peak"]  # monotone: no bump
