"""The sampler against closed forms (perceptron theorem, counting measure), LP separability, and its determinism."""

import math

import numpy as np
import pytest
from scipy import optimize, stats

from biasprobe import sampling
from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import Prior, make_prior
from biasprobe.sampling import Counts, sample_counts, sample_outputs


def _ones_histogram(counts: Counts) -> np.ndarray:
    t = counts.bits().sum(axis=1)
    return np.bincount(t, weights=counts.counts, minlength=counts.n_bits + 1)


def test_perceptron_theorem_uniform_number_of_ones():
    # Mingard et al. 2019: no bias, symmetric weights => P(T = t) = 2^-n for t < 2^n, P(T = 2^n) = 0.
    n, samples = 4, 80000
    c = sample_counts(make_prior("perceptron", bias=False), parse_domain(f"bool:{n}"), samples=samples, seed=1)
    hist = _ones_histogram(c)
    assert hist[2**n] == 0
    assert hist.sum() == samples and c.nonfinite == 0
    chi2 = stats.chisquare(hist[: 2**n])
    assert chi2.pvalue > 1e-3


@pytest.mark.parametrize("n", [3, 5])
def test_perceptron_on_pm1_is_balanced(n):
    c = sample_counts(make_prior("perceptron", bias=False), parse_domain(f"pm1:{n}"), samples=5000, seed=2)
    assert (c.bits().sum(axis=1) == 2 ** (n - 1)).all()


def _separable(bits, points) -> bool:
    # Feasibility LP: w.x + b >= 1 where f = 1 and <= -1 where f = 0.
    sign = np.where(bits == 1, -1.0, 1.0)
    a = sign[:, None] * np.hstack([points, np.ones((len(points), 1))])
    res = optimize.linprog(np.zeros(points.shape[1] + 1), A_ub=a, b_ub=-np.ones(len(points)),
                           bounds=[(None, None)] * (points.shape[1] + 1), method="highs")
    return res.status == 0


def test_biased_perceptron_never_gives_xor_at_n2():
    c = sample_counts(make_prior("perceptron"), parse_domain("bool:2"), samples=50000, seed=0)
    found = set(c.hex())
    assert not found & {"6", "9"}  # XOR 0110, XNOR 1001
    assert len(found) == 14  # every other function on 2 inputs is a threshold function


def test_biased_perceptron_functions_are_linearly_separable_n3():
    d = parse_domain("bool:3")
    c = sample_counts(make_prior("perceptron", sigma_b=0.5), d, samples=50000, seed=4)
    assert c.distinct <= 104  # number of threshold functions of 3 variables
    assert all(_separable(row, d.points) for row in c.bits())


def test_counting_measure_binomial_and_birthday():
    n, samples = 4, 60000
    m = 2 ** (2**n)
    c = sample_counts(make_prior("counting"), parse_domain(f"bool:{n}"), samples=samples, seed=7)
    hist = _ones_histogram(c)
    expected = stats.binom.pmf(np.arange(2**n + 1), 2**n, 0.5) * samples
    # pool the sparse tails so every expected cell is >= 5
    obs = np.concatenate([[hist[:3].sum()], hist[3:14], [hist[14:].sum()]])
    exp = np.concatenate([[expected[:3].sum()], expected[3:14], [expected[14:].sum()]])
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    # birthday problem: E distinct = m (1 - (1 - 1/m)^S), exact variance below
    q1, q2 = (1 - 1 / m) ** samples, (1 - 2 / m) ** samples
    mean = m * (1 - q1)
    var = m * (m - 1) * q2 + m * q1 - m**2 * q1**2
    assert abs(c.distinct - mean) < 5 * math.sqrt(var)


def test_counts_are_exact_and_sorted():
    # counting prior on 32 points: nearly every draw distinct, which exercises table growth
    d = parse_domain("bool:5")
    prior = make_prior("mlp", hidden=(3,), sigma_b=3.0)
    c = sample_counts(prior, d, samples=30000, seed=9, workers=2)
    y = sample_outputs(prior, d, samples=30000, seed=9)
    uniq, freq = np.unique((y > 0).astype(np.uint8), axis=0, return_counts=True)
    oracle = sorted(zip(freq.tolist(), ["".join(map(str, r)) for r in uniq]), key=lambda t: (-t[0], int(t[1], 2)))
    got = list(zip(c.counts.tolist(), ["".join(map(str, r)) for r in c.bits()]))
    assert got == oracle
    frame = c.to_frame()
    assert list(frame.columns) == ["function", "count"] and frame["count"].sum() == 30000


def test_counting_prior_many_distinct_grows_table():
    c = sample_counts(make_prior("counting"), parse_domain("bool:6"), samples=20000, seed=0)
    assert c.distinct == 20000 and c.counts.sum() == 20000


@pytest.mark.parametrize("prior", [make_prior("mlp", hidden=(10, 10)), make_prior("counting"),
                                   make_prior("polynomial", family="ptf", degree=2)])
def test_same_seed_same_counts_for_any_batch_and_workers(prior):
    d = parse_domain("bool:4")
    runs = [sample_counts(prior, d, samples=9000, seed=5, batch_size=b, workers=w)
            for b, w in [(None, 1), (1, 1), (333, 2), (4096, 2), (10**6, 3)]]
    for r in runs[1:]:
        assert np.array_equal(r.words, runs[0].words) and np.array_equal(r.counts, runs[0].counts)
    other = sample_counts(prior, d, samples=9000, seed=6)
    assert not (np.array_equal(other.words, runs[0].words) and np.array_equal(other.counts, runs[0].counts))


def test_partial_block_is_a_prefix_and_outputs_match_counts():
    d = parse_domain("bool:3")
    prior = make_prior("mlp", hidden=(5,))
    long = sample_outputs(prior, d, samples=5000, seed=1)
    assert np.array_equal(sample_outputs(prior, d, samples=10, seed=1), long[:10])
    c = sample_counts(prior, d, samples=5000, seed=1)
    from biasprobe.tables import bits_to_hex

    from collections import Counter

    assert Counter(bits_to_hex((long > 0).astype(np.uint8))) == dict(zip(c.hex(), c.counts.tolist()))


class _HalfNaN(Prior):
    """A test prior whose even draws are NaN at one point and odd draws are all +1."""

    name = "half_nan"

    def draw_outputs(self, rng, count, domain):
        out = np.ones((count, domain.n_points), np.float32)
        out[::2, 1] = np.nan
        return out


def test_nonfinite_draws_are_reported_not_counted():
    c = sample_counts(_HalfNaN(), parse_domain("bool:3"), samples=4096 + 11, seed=0)
    # each block starts at an even index, so even draws of block 0 and of the partial block 1
    assert c.nonfinite == 2048 + 6
    assert c.hex() == ["ff"] and c.counts.tolist() == [4096 + 11 - 2048 - 6]


def test_polynomial_network_overflow_is_nonfinite():
    c = sample_counts(make_prior("polynomial", degree=9, hidden=(30, 30, 30), sigma_w=20.0), parse_domain("bool:3"),
                      samples=2000, seed=0)
    assert c.nonfinite > 0 and c.counts.sum() + c.nonfinite == 2000


def test_continuous_grid_with_partial_tile_is_affine_for_perceptron():
    # 400 points = three full tiles of 128 and a partial one; a perceptron's outputs are exactly affine in x
    d = parse_domain("grid:2:20")
    y = sample_outputs(make_prior("perceptron"), d, samples=5, seed=0).astype(np.float64)
    design = np.hstack([d.points, np.ones((d.n_points, 1))])
    coef, *_ = np.linalg.lstsq(design, y.T, rcond=None)
    assert np.abs(design @ coef - y.T).max() < 1e-5
    assert sample_counts(make_prior("mlp"), parse_domain("gauss:3:50"), samples=100, seed=0).counts.sum() == 100


def test_bool12_works():
    c = sample_counts(make_prior("mlp", hidden=(8,)), parse_domain("bool:12"), samples=300, seed=0)
    assert c.words.shape[1] == 64 and c.counts.sum() + c.nonfinite == 300
    assert len(c.hex()[0]) == 1024


def test_memory_estimate_error(monkeypatch):
    monkeypatch.setattr(sampling, "memory_budget", lambda: 1 << 20)
    with pytest.raises(UserError, match="GiB"):
        sample_counts(make_prior("mlp"), parse_domain("bool:12"), samples=10, seed=0)


@pytest.mark.parametrize("kwargs", [{"samples": 0}, {"samples": -3}, {"samples": 2.5}, {"seed": -1},
                                    {"batch_size": 0}, {"workers": 0}, {"device": "tpu"}])
def test_bad_run_arguments(kwargs):
    args = {"samples": 10, "seed": 0} | kwargs
    with pytest.raises(UserError):
        sample_counts(make_prior("counting"), parse_domain("bool:3"), **args)
