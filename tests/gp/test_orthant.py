"""Hard-threshold P(S) of a GP: Sheppard, exchangeable orthants in closed form, scipy's Genz CDF, Monte Carlo."""

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.gp import kernels as K
from biasprobe.gp.orthant import clopper_pearson, genz_order, orthant_genz_scipy, orthant_ghk, orthant_mc, sheppard


def _inside(est, value, z: float = 4.0) -> bool:
    """Is `value` within z standard errors of an estimate? (Many cases per test: 95% intervals would miss some.)

    GHK: the SE is read back from the 95% interval; Monte Carlo: a Clopper-Pearson interval at the
    two-sided level of z normal standard errors.
    """
    if est.method == "mc":
        lo, hi = clopper_pearson(est.hits, est.samples, level=1 - 2 * stats.norm.sf(z))
        return lo <= value <= hi
    se = (est.hi - est.lo) / (2 * 1.959963984540054)
    return abs(est.p - value) <= z * se


@pytest.mark.parametrize("rho", [-0.9, -0.3, 0.0, 0.5, 0.95])
def test_two_points_match_sheppard(rho):
    var = np.array([0.7, 2.5])
    k = rho * np.sqrt(np.outer(var, var))
    np.fill_diagonal(k, var)
    for y, r in [((1, 1), rho), ((0, 0), rho), ((1, 0), -rho), ((0, 1), -rho)]:
        exact = sheppard(r)
        ghk = orthant_ghk(k, np.array(y), samples=4000, seed=1)
        mc = orthant_mc(k, np.array(y), samples=40_000, seed=1)
        assert _inside(ghk, exact) and _inside(mc, exact), (rho, y)
        assert ghk.hi - ghk.lo < 0.02 * exact  # the tilted estimator is tight
    assert sheppard(1.0) == 0.5 and sheppard(-1.0) == 0.0 and sheppard(0.0) == 0.25


def exchangeable(m: int, rho: float, ones: int) -> float:
    """Pr[X_i > 0 for `ones` coordinates, < 0 for the rest], X_i = sqrt(rho) Z_0 + sqrt(1 - rho) Z_i.

    Given Z_0 = z the signs are independent with Pr[X_i > 0] = Phi(z sqrt(rho / (1 - rho))); at rho = 1/2
    the integral is the Beta function a! (m - a)! / (m + 1)!.
    """
    if rho == 0.5:
        return math.exp(special.gammaln(ones + 1) + special.gammaln(m - ones + 1) - special.gammaln(m + 2))
    c = math.sqrt(rho / (1 - rho))

    def f(z):
        return math.exp(stats.norm.logpdf(z) + ones * special.log_ndtr(c * z) + (m - ones) * special.log_ndtr(-c * z))

    return integrate.quad(f, -40, 40, points=[0.0], epsabs=0, epsrel=1e-12, limit=400)[0]


@pytest.mark.parametrize("m, rho, ones", [(20, 0.5, 20), (64, 0.5, 64), (64, 0.5, 32), (64, 0.9, 40), (32, 0.9, 16)])
def test_exchangeable_orthants_in_closed_form(m, rho, ones):
    k = np.full((m, m), rho)
    np.fill_diagonal(k, 1.0)
    y = np.zeros(m, int)
    y[np.random.default_rng(m).permutation(m)[:ones]] = 1
    exact = exchangeable(m, rho, ones)
    est = orthant_ghk(k, y, samples=4000, seed=3)
    assert est.method == "ghk-tilted"
    assert _inside(est, exact), (exact, est)
    assert est.log_hi - est.log_lo < 0.1  # 95% interval within ~5% at probabilities down to ~1e-20


def test_agrees_with_scipys_genz_cdf_on_network_kernels():
    k = K.nngp(parse_domain("bool:7").points)
    rng = np.random.default_rng(0)
    x1 = (np.arange(128) >= 64).astype(int)  # the function x_1
    for m in (4, 8, 10):
        for labels in ("x1", "random"):
            idx = rng.choice(128, m, replace=False)
            y = x1[idx] if labels == "x1" else rng.integers(0, 2, m)
            ks = k[np.ix_(idx, idx)]
            ref = orthant_genz_scipy(ks, y, seed=1, maxpts=400_000)
            est = orthant_ghk(ks, y, samples=8000, seed=2)
            assert abs(est.p - ref) <= 2 * (est.hi - est.lo) + 0.01 * ref, (m, labels, est, ref)


def test_monte_carlo_and_importance_sampling_agree():
    k = K.nngp(parse_domain("bool:7").points)
    idx = np.random.default_rng(1).choice(128, 8, replace=False)
    ks = k[np.ix_(idx, idx)]
    y = (idx >= 64).astype(int)
    mc = orthant_mc(ks, y, samples=200_000, seed=4)
    ghk = orthant_ghk(ks, y, samples=8000, seed=5)
    plain = orthant_ghk(ks, y, samples=8000, seed=5, tilt=False)
    assert mc.hits > 100
    for a, b in [(mc, ghk), (ghk, plain), (mc, plain)]:
        assert a.lo <= b.hi and b.lo <= a.hi  # the 95% intervals overlap


def test_genz_reordering_is_a_pivoted_cholesky():
    k = K.nngp(parse_domain("bool:5").points)[:12, :12]
    perm, chol = genz_order(k)
    assert sorted(perm) == list(range(12))
    assert np.allclose(chol @ chol.T, k[np.ix_(perm, perm)], atol=1e-12)


def test_seeded_and_zero_hits_give_an_upper_bound():
    k = np.array([[1.0, 0.999], [0.999, 1.0]])
    a, b = orthant_ghk(k, np.array([1, 0]), 3000, seed=7), orthant_ghk(k, np.array([1, 0]), 3000, seed=7)
    assert a == b and orthant_ghk(k, np.array([1, 0]), 3000, seed=8) != a
    mc = orthant_mc(k, np.array([1, 0]), samples=1000, seed=0)  # true P = 0.007: few or no hits
    assert mc.lo <= sheppard(-0.999) <= mc.hi
    none = orthant_mc(np.array([[1.0, 0.9999999], [0.9999999, 1.0]]), np.array([1, 0]), samples=100, seed=0)
    assert none.hits == 0 and none.p == 0 and none.lo == 0 and none.hi == pytest.approx(1 - 0.025 ** (1 / 100))


def test_bad_inputs_are_user_errors():
    with pytest.raises(UserError, match="0 or 1"):
        orthant_ghk(np.eye(2), np.array([1, -1]))
    with pytest.raises(UserError, match="samples"):
        orthant_mc(np.eye(2), np.array([1, 0]), samples=1)
    with pytest.raises(UserError, match="positive definite"):
        orthant_ghk(np.ones((3, 3)), np.array([1, 1, 0]), jitter=0.0)
