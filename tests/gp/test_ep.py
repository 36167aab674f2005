"""EP with a probit link: closed forms for one point and for independent points, an independent naive EP, the fixed point."""

import math

import numpy as np
import pytest
from scipy import special, stats

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.gp import kernels as K
from biasprobe.gp.ep import ep_probit, log_p_s_ep
from biasprobe.gp.orthant import sheppard


def test_one_point_zero_mean_is_one_half_with_closed_form_moments():
    for k, y in [(0.3, 1), (2.0, 0), (50.0, 1)]:
        res = ep_probit(np.array([[k]]), np.array([y]))
        assert res.log_z == pytest.approx(math.log(0.5), abs=1e-14)
        # tilted moments of N(0, k) Phi(s f) (R&W eq. 3.58 at z = 0): one site, so EP is exact
        s, r = (1 if y else -1), 2 * stats.norm.pdf(0)
        assert res.mean[0] == pytest.approx(s * k * r / math.sqrt(1 + k), rel=1e-12)
        assert res.var[0] == pytest.approx(k - k * k * r * r / (1 + k), rel=1e-12)


@pytest.mark.parametrize("k, m0, y", [(1.0, 0.7, 1), (2.0, 0.7, 0), (0.2, -3.0, 1), (4.0, -9.0, 1)])
def test_one_point_with_a_prior_mean_is_the_probit_closed_form(k, m0, y):
    s = 1 if y else -1
    exact = special.log_ndtr(s * m0 / math.sqrt(1 + k))  # Pr[s (f + e) > 0], f ~ N(m0, k), e ~ N(0, 1)
    assert log_p_s_ep(np.array([[k]]), np.array([y]), mean=np.array([m0])) == pytest.approx(exact, abs=1e-12)


def test_independent_points_are_exact():
    rng = np.random.default_rng(0)
    d = rng.uniform(0.1, 5, 12)
    m0 = rng.normal(0, 1, 12)
    y = rng.integers(0, 2, 12)
    exact = special.log_ndtr(np.where(y == 1, 1, -1) * m0 / np.sqrt(1 + d)).sum()
    assert log_p_s_ep(np.diag(d), y, mean=m0) == pytest.approx(exact, abs=1e-10)


def naive_ep(k, y, sweeps=200):
    """Parallel EP in moment form with dense inverses: an independent implementation of the same fixed point.

    ln Z_EP = sum_i ln Z~_i + ln N(mu~ | 0, K + Sigma~), Z~_i = Z^_i / N(mu_-i | mu~_i, s2_-i + s2~_i).
    """
    m = len(y)
    s = np.where(y == 1, 1.0, -1.0)
    tau = np.full(m, 1e-8)  # a nearly flat start (the moment form cannot hold tau = 0)
    nu = np.zeros(m)
    for _ in range(sweeps):
        cov = np.linalg.inv(np.linalg.inv(k) + np.diag(tau))
        mu = cov @ nu
        v_c = 1 / (1 / np.diag(cov) - tau)
        m_c = v_c * (mu / np.diag(cov) - nu)
        z = s * m_c / np.sqrt(1 + v_c)
        r = stats.norm.pdf(z) / stats.norm.cdf(z)
        mh = m_c + s * v_c * r / np.sqrt(1 + v_c)
        vh = v_c - v_c**2 * r / (1 + v_c) * (z + r)
        tau = 1 / vh - 1 / v_c
        nu = mh / vh - m_c / v_c
    mt, vt = nu / tau, 1 / tau
    log_zhat = np.log(stats.norm.cdf(z))
    log_zt = log_zhat - stats.norm.logpdf(m_c, mt, np.sqrt(v_c + vt))
    return log_zt.sum() + stats.multivariate_normal(np.zeros(m), k + np.diag(vt)).logpdf(mt)


def test_matches_an_independent_naive_ep():
    pts = parse_domain("gauss:3:7:2").points
    for kernel, params in [("rbf", {"length_scale": 1.5}), ("nngp", {"depth": 2})]:
        k = K.kernel_matrix(kernel, pts, **params)
        for y in ([1, 1, 0, 1, 0, 0, 1], [1] * 7, [0, 1, 0, 1, 0, 1, 0]):
            y = np.array(y)
            assert log_p_s_ep(k, y) == pytest.approx(naive_ep(k, y), abs=1e-7), (kernel, y)


def test_converged_approximation_matches_its_tilted_moments():
    """At an EP fixed point each tilted distribution's mean and variance equal the approximate posterior's."""
    k = K.nngp(parse_domain("bool:4").points)[:10, :10]
    y = np.array([1, 0, 0, 1, 1, 0, 1, 0, 1, 1])
    res = ep_probit(k, y)
    assert res.converged and res.sweeps < 50
    s = np.where(y == 1, 1.0, -1.0)
    v_c = 1 / (1 / res.var - res.site_tau)
    m_c = v_c * (res.mean / res.var - res.site_nu)
    z = s * m_c / np.sqrt(1 + v_c)
    r = stats.norm.pdf(z) / stats.norm.cdf(z)
    assert np.allclose(m_c + s * v_c * r / np.sqrt(1 + v_c), res.mean, atol=1e-8)
    assert np.allclose(v_c - v_c**2 * r / (1 + v_c) * (z + r), res.var, atol=1e-8)


def test_two_points_close_to_the_exact_probit_marginal_likelihood():
    """EP is an approximation for m >= 2: the exact probit Z is the orthant of N(0, K + I) (Sheppard for two points).

    The tolerance (0.01 nats) is a sanity bound, not an oracle; the measured errors are ~1e-3.
    """
    for k in (np.array([[1.5, 1.2], [1.2, 1.8]]), np.array([[4.0, -3.0], [-3.0, 3.0]])):
        for y in ([1, 1], [1, 0], [0, 0]):
            s = np.where(np.array(y) == 1, 1.0, -1.0)
            c = (k + np.eye(2)) * np.outer(s, s)
            exact = math.log(sheppard(c[0, 1] / math.sqrt(c[0, 0] * c[1, 1])))
            assert abs(log_p_s_ep(k, np.array(y)) - exact) < 0.01


def test_a_problem_gives_the_same_bits_alone_or_in_a_batch():
    k = K.nngp(parse_domain("bool:7").points)
    rng = np.random.default_rng(5)
    idx = [rng.choice(128, 32, replace=False) for _ in range(6)]
    ks = np.stack([k[np.ix_(i, i)] for i in idx])
    ys = rng.integers(0, 2, (6, 32))
    batch = ep_probit(ks, ys)
    assert batch.converged.all()
    for b in range(6):
        assert ep_probit(ks[b], ys[b]).log_z == batch.log_z[b]
    assert np.array_equal(ep_probit(ks[2:5], ys[2:5]).log_z, batch.log_z[2:5])


def test_bad_inputs_are_user_errors():
    with pytest.raises(UserError, match="0 or 1"):
        ep_probit(np.eye(2), np.array([1, 2]))
    with pytest.raises(UserError, match="labels"):
        ep_probit(np.eye(3), np.array([1, 0]))
