"""Exact GP draws: Walsh and Cholesky factors rebuild K, agree in distribution, and match Sheppard's Var(T)."""

import math

import numpy as np
import pytest
from scipy import linalg, stats

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.gp import kernels as K
from biasprobe.gp import sampling as S
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_outputs

HAMMING = [("bool:5", "rbf", {"length_scale": 0.8}), ("bool:5", "laplace", {}), ("pm1:5", "matern", {"nu": 2.5}),
           ("pm1:5", "nngp", {"activation": "tanh", "depth": 3}), ("pm1:5", "polynomial", {"degree": 3})]


def test_fwht_is_the_sylvester_hadamard_transform():
    x = np.random.default_rng(0).standard_normal((3, 32))
    assert np.allclose(S.fwht(x), x @ linalg.hadamard(32), atol=1e-12)
    assert np.array_equal(S.hadamard(5), linalg.hadamard(32).astype(float))


@pytest.mark.parametrize("spec, name, params", HAMMING)
def test_walsh_factor_rebuilds_the_kernel(spec, name, params):
    pts = parse_domain(spec).points
    k = K.kernel_matrix(name, pts, **params)
    assert np.abs(S.walsh_matrix(k[0]) - k).max() < 1e-12 * np.abs(k).max()
    f = S.walsh_factor(k[0])
    assert np.abs(f @ f.T - k).max() < 1e-12 * np.abs(k).max()


def test_walsh_transform_path_equals_dense_path(monkeypatch):
    k = K.rbf(parse_domain("bool:6").points, 1.2)
    dense = S.walsh_factor(k[0])
    monkeypatch.setattr(S, "WALSH_DENSE_MAX", 8)
    scale = S.walsh_factor(k[0])
    assert scale.ndim == 1
    a = S.draw(np.random.default_rng(4), dense, 50)
    b = S.draw(np.random.default_rng(4), scale, 50)
    assert np.abs(a - b).max() < 1e-12


def test_cholesky_factor_states_its_jitter():
    k = K.nngp(parse_domain("bool:4").points)
    for jitter in (0.0, 1e-6, 1e-2):
        L = S.cholesky_factor(k, jitter)
        assert np.allclose(L @ L.T, k + jitter * np.mean(np.diag(k)) * np.eye(16), atol=1e-12)
        assert np.array_equal(L, np.tril(L))


def test_singular_kernel_without_jitter_is_a_user_error():
    # (x.x')^1 on bool:3 has a zero row at the origin
    k = K.polynomial(parse_domain("bool:3").points, 1, 0.0)
    with pytest.raises(UserError, match="jitter"):
        S.cholesky_factor(k, 0.0)
    with pytest.raises(UserError, match="jitter=-1"):
        S.cholesky_factor(k, -1.0)


def test_draws_have_the_prefix_property():
    L = S.cholesky_factor(K.rbf(parse_domain("bool:4").points), 1e-6)
    long = S.draw(np.random.default_rng(9), L, 40)
    assert np.array_equal(S.draw(np.random.default_rng(9), L, 7), long[:7])


# ---- distribution: Sheppard's formula for Var(T) ------------------------------------------------

def exact_var_ones(k: np.ndarray) -> float:
    """Var(T) of 1[f > 0] summed over points: sum_ij arcsin(rho_ij) / (2 pi) (Sheppard), rho_ii = 1."""
    d = np.sqrt(np.diag(k))
    rho = np.clip(k / np.outer(d, d), -1, 1)
    return float(np.arcsin(rho).sum() / (2 * math.pi))


def var_ci_contains(t: np.ndarray, value: float, z: float = 4.0) -> bool:
    """Is `value` within z standard errors of the sample variance of t (SE from the fourth central moment)?"""
    t = t.astype(float)
    c = t - t.mean()
    s2 = c.var()
    se = math.sqrt(max((c**4).mean() - s2 * s2, 0.0) / t.size)
    return abs(s2 - value) <= z * se


def ones(prior, spec, samples, seed=0):
    return (sample_outputs(prior, parse_domain(spec), samples=samples, seed=seed) > 0).sum(axis=1)


@pytest.mark.parametrize("spec, kernel, params", [
    ("bool:5", "rbf", {"length_scale": 1.0}), ("bool:5", "laplace", {"length_scale": 2.0}),
    ("bool:5", "nngp", {}), ("pm1:5", "nngp", {"activation": "erf", "sigma_w": 2.0}),
    ("grid:2:6", "matern", {"nu": 1.5, "length_scale": 0.5}), ("bool:5", "polynomial", {"degree": 3})])
def test_variance_of_ones_matches_sheppard(spec, kernel, params):
    prior = make_prior("gp", kernel=kernel, **params)
    t = ones(prior, spec, 20_000, seed=1)
    k = prior.kernel_matrix(parse_domain(spec))
    n = k.shape[0]
    assert abs(t.mean() - n / 2) <= 4 * t.std() / math.sqrt(t.size)
    assert var_ci_contains(t, exact_var_ones(k))
    # the check can fail: the law of an independent-bits prior is far outside the same band
    assert not var_ci_contains(t, n / 4)


def _pooled_chi2(a: np.ndarray, b: np.ndarray) -> float:
    """p-value of a two-sample chi-square test on two histograms, pooling sparse bins (< 10 in total) together."""
    tot = a + b
    keep = tot >= 10
    table = np.array([np.append(a[keep], a[~keep].sum()), np.append(b[keep], b[~keep].sum())])
    table = table[:, table.sum(0) > 0]
    return stats.chi2_contingency(table)[1]


def test_walsh_and_cholesky_agree_in_distribution():
    kw = dict(kernel="rbf", length_scale=1.0)
    tw = ones(make_prior("gp", method="walsh", **kw), "bool:5", 20_000, seed=2)
    tc = ones(make_prior("gp", method="cholesky", **kw), "bool:5", 20_000, seed=3)
    assert _pooled_chi2(np.bincount(tw, minlength=33), np.bincount(tc, minlength=33)) > 1e-3
    # power: a visibly different length scale is told apart at this sample size
    to = ones(make_prior("gp", method="walsh", kernel="rbf", length_scale=0.7), "bool:5", 20_000, seed=4)
    assert _pooled_chi2(np.bincount(tw, minlength=33), np.bincount(to, minlength=33)) < 1e-6


def test_rbf_with_vanishing_length_scale_is_the_counting_measure():
    dom = parse_domain("bool:7")
    # exactly: Var(T) falls to N/4 (the binomial's) as the length scale shrinks
    v = [exact_var_ones(K.rbf(dom.points, ls)) for ls in (1.0, 0.6, 0.4, 0.3, 0.2, 0.1)]
    assert all(x > y for x, y in zip(v, v[1:])) and abs(v[-1] - 32) < 1e-6 and v[0] > 100
    # and in distribution: T ~ Binomial(128, 1/2)
    t = ones(make_prior("gp", kernel="rbf", length_scale=0.02), "bool:7", 20_000, seed=5)
    expected = 20_000 * stats.binom.pmf(np.arange(129), 128, 0.5)
    keep = expected >= 5
    obs = np.append(np.bincount(t, minlength=129)[keep], np.bincount(t, minlength=129)[~keep].sum())
    exp_ = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(obs, exp_ * obs.sum() / exp_.sum()).pvalue > 1e-3


@pytest.mark.parametrize("spec, method, counts", [
    ("bool:7", "walsh", range(1, 70)), ("bool:7", "cholesky", range(1, 70)), ("grid:2:5", "cholesky", range(1, 70)),
    ("gauss:2:20", "cholesky", range(1, 70)), ("bool:3", "walsh", range(1, 70)),
    ("grid:2:33", "cholesky", (1, 2, 17, 255, 256, 257))])  # 1089 points: the large-slab path
def test_draws_are_bit_exact_prefixes_for_every_count(spec, method, counts):
    """BLAS picks kernels by matrix size; the fixed slabs keep every draw's bits independent of the count."""
    prior = make_prior("gp", kernel="rbf", method=method)
    dom = parse_domain(spec)
    long = prior.draw_outputs(np.random.default_rng(3), 300 if dom.n_points > 1024 else 70, dom)
    for count in counts:
        assert np.array_equal(prior.draw_outputs(np.random.default_rng(3), count, dom), long[:count]), count


def test_zero_kernel_gives_the_zero_function_like_the_network():
    dom = parse_domain("grid:2:3")
    for name, kw in [("gp", {"kernel": "nngp", "sigma_w": 0.0, "sigma_b": 0.0}),
                     ("mlp", {"sigma_w": 0.0, "sigma_b": 0.0})]:
        y = sample_outputs(make_prior(name, **kw), dom, samples=20, seed=0)
        assert not (y > 0).any(), name


def test_large_cube_uses_the_transform_and_keeps_the_law():
    prior = make_prior("gp", kernel="rbf", length_scale=1.0)
    dom = parse_domain("bool:13")  # 8192 points: beyond the dense Walsh factor and the Cholesky limit
    from biasprobe.priors.gp import _factor

    method, factor = _factor(prior, dom)
    assert method == "walsh" and factor.ndim == 1
    t = ones(prior, "bool:13", 300, seed=6)
    row = K.kernel_cross("rbf", dom.points, dom.points[:1])[:, 0]
    # Var(T) = sum_ij arcsin(k(h_ij)) / (2 pi) = N sum_h C(13, h) arcsin(k(h)) / (2 pi) for a Hamming kernel
    exact = dom.n_points * float(np.sum(np.arcsin(np.clip(row, -1, 1)))) / (2 * math.pi)
    assert var_ci_contains(t, exact, z=4.5)
    assert abs(t.mean() - dom.n_points / 2) <= 4.5 * t.std() / math.sqrt(t.size)
