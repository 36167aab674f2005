"""The NNGP kernel against wide `mlp` networks: output covariance, P(constant) and the law of T."""

import math

import numpy as np
import pytest
from scipy import stats

from biasprobe.domains import parse_domain
from biasprobe.gp import kernels as K
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_outputs


def covariance_z(y: np.ndarray, k: np.ndarray) -> float:
    """Largest |empirical E[f_i f_j] - K_ij| in standard errors of the mean of f_i f_j (the mean of f is 0)."""
    y = y.astype(np.float64)
    i, j = np.triu_indices(k.shape[0])
    prod = y[:, i] * y[:, j]
    se = prod.std(axis=0, ddof=1) / math.sqrt(y.shape[0])
    return float(np.max(np.abs(prod.mean(axis=0) - k[i, j]) / se))


# One hidden layer: the first layer's pre-activations are exactly Gaussian at any width, so the output
# covariance equals the NNGP kernel exactly and only sampling error remains. 36 entries (8 points), each within 4.5
# standard errors (a family-wise false alarm of ~2.5e-4 under a correct kernel; the seed is fixed).
@pytest.mark.parametrize("activation, sigma_w, sigma_b", [
    ("relu", 1.0, 1.0), ("tanh", 1.5, 0.3),  # a closed form and the quadrature path in `make test`
    pytest.param("erf", 2.0, 0.5, marks=pytest.mark.slow), pytest.param("gelu", 1.0, 1.0, marks=pytest.mark.slow)])
def test_wide_one_layer_covariance_is_the_nngp_kernel(activation, sigma_w, sigma_b):
    dom = parse_domain("gauss:3:8:1")  # generic angles and norms (the cube path of the engine is slow at n = 3)
    prior = make_prior("mlp", hidden=(2048,), activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    y = sample_outputs(prior, dom, samples=12_000, seed=11)
    kw = dict(activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    assert covariance_z(y, K.nngp(dom.points, depth=1, **kw)) < 4.5
    # the test has power: the kernel of a different depth is rejected
    assert covariance_z(y, K.nngp(dom.points, depth=2, **kw)) > 6


@pytest.mark.slow
def test_wide_two_layer_covariance_is_the_nngp_kernel():
    # finite-width corrections are O(1/width) = O(5e-4), far below the ~3% standard errors of 2000 draws
    dom = parse_domain("pm1:2")
    y = sample_outputs(make_prior("mlp", hidden=(2048, 2048)), dom, samples=2_000, seed=12)
    assert covariance_z(y, K.nngp(dom.points, depth=2)) < 4.0


def _law_of_ones(y: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    t = (y > 0).sum(axis=1)
    return np.bincount(t, minlength=n + 1), int(((t == 0) | (t == n)).sum())


def _compare(a: np.ndarray, b: np.ndarray) -> float:
    tot = a + b
    keep = tot >= 10
    table = np.array([np.append(a[keep], a[~keep].sum()), np.append(b[keep], b[~keep].sum())])
    return stats.chi2_contingency(table[:, table.sum(0) > 0])[1]


def test_gp_nngp_matches_a_very_wide_network():
    """gp(kernel=nngp, depth=1) against mlp(hidden=1024) on bool:7, 20,000 draws each.

    Tolerances: the law of T by a two-sample chi-square test (sparse bins pooled), p > 1e-3; P(constant)
    by a two-proportion z-test, |z| < 4. Finite width moves these by O(1/1024), below the sampling error.
    """
    dom, n = parse_domain("bool:7"), 128
    samples = 20_000
    net = sample_outputs(make_prior("mlp", hidden=(1024,)), dom, samples=samples, seed=21)
    gp1 = sample_outputs(make_prior("gp", kernel="nngp", depth=1), dom, samples=samples, seed=22)
    h_net, c_net = _law_of_ones(net, n)
    h_gp, c_gp = _law_of_ones(gp1, n)
    assert _compare(h_net, h_gp) > 1e-3
    p = (c_net + c_gp) / (2 * samples)
    z = (c_net - c_gp) / samples / math.sqrt(2 * p * (1 - p) / samples)
    assert abs(z) < 4, (c_net, c_gp)
    # power: the two-hidden-layer NNGP is a different prior and both checks see it
    gp2 = sample_outputs(make_prior("gp", kernel="nngp", depth=2), dom, samples=samples, seed=23)
    h2, c2 = _law_of_ones(gp2, n)
    assert _compare(h_net, h2) < 1e-6
