"""The NNGP kernel of a network prior, and the perceptron, whose Gaussian process is exact, against the sampler."""

import math

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.gp import kernels
from biasprobe.gp.orthant import orthant_mc
from biasprobe.learning import evidence, make_condition
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_counts


def test_fan_in_bias_scaling_hand_values():
    x = parse_domain("bool:3").points
    # depth 0: b ~ N(0, sb^2/n0) and W ~ N(0, sw^2/n0): K = (sb^2 + sw^2 x.x') / n0
    k = kernels.nngp(x, "linear", 0, sigma_w=2.0, sigma_b=3.0, bias_scaling="fan_in")
    np.testing.assert_allclose(k, (9.0 + 4.0 * x @ x.T) / 3, rtol=1e-12)
    # one ReLU layer at the origin: sw^2 E[relu(u)^2] with u ~ N(0, sb^2/n0), and no hidden-layer bias in the limit
    k = kernels.nngp(x, "relu", 1, sigma_w=2.0, sigma_b=3.0, bias_scaling="fan_in")
    assert k[0, 0] == pytest.approx(4.0 * (9.0 / 3) / 2, rel=1e-12)
    with pytest.raises(Exception, match="bias_scaling"):
        kernels.nngp(x, "relu", 1, bias_scaling="halved")


def test_network_kernel_follows_the_prior():
    x = parse_domain("bool:7").points
    a = make_prior("mlp", convention="a")
    np.testing.assert_allclose(kernels.network_kernel(a, x), kernels.nngp(x, "relu", 2, 1.0, 1.0))
    b = make_prior("mlp", convention="b")
    np.testing.assert_allclose(kernels.network_kernel(b, x),
                               kernels.nngp(x, "relu", 2, math.sqrt(2), math.sqrt(2), bias_scaling="fan_in"))
    p = make_prior("perceptron", bias=False)
    np.testing.assert_allclose(kernels.network_kernel(p, x), x @ x.T / 7, atol=1e-15)


def test_the_perceptrons_orthant_probability_is_its_exact_p_s():
    """A perceptron's outputs are exactly Gaussian given the inputs: its GP P(S) is the sampler's P(S)."""
    d = parse_domain("bool:5")
    prior = make_prior("perceptron")
    counts = sample_counts(prior, d, samples=200_000, seed=3)
    kern = kernels.network_kernel(prior, d.points)
    rng = np.random.default_rng(0)
    targets = [counts.hex()[i] for i in (0, 3, 10)]
    for i, target in enumerate(targets):
        cond = make_condition(d, target, train_size=6, split_seed=i)
        ev = evidence(counts, [cond]).iloc[0]
        train = np.flatnonzero(cond.mask_bits())
        est = orthant_mc(kern[np.ix_(train, train)], cond.target_bits()[train].astype(int), samples=200_000,
                         seed=int(rng.integers(1 << 30)))
        # two independent binomial estimates of the same probability: their intervals must overlap
        assert ev["p_s_lo"] <= math.exp(est.log_hi) and math.exp(est.log_lo) <= ev["p_s_hi"], (target, ev, est)
