"""Shared statistics of the simplicity-bias experiments, against scipy and hand-worked values."""

import math

import numpy as np
import pytest
from scipy import stats

from biasprobe import analysis as an


def test_binary_entropy_and_laws():
    assert an.binary_entropy([0, 0.5, 1]).tolist() == [0, 1, 0]
    assert an.binary_entropy(0.25) == pytest.approx(0.811278, abs=1e-6)
    p = an.perceptron_pmf(128)
    assert p.sum() == pytest.approx(1) and p[-1] == 0 and p[0] == 1 / 128
    q = an.counting_pmf(128)
    assert q[64] == pytest.approx(math.comb(128, 64) / 2**128, rel=1e-10)


def test_kl_matches_scipy():
    rng = np.random.default_rng(1)
    p, q = rng.random(10), rng.random(10)
    assert an.kl_bits(p, q / q.sum()) == pytest.approx(stats.entropy(p, q, base=2), rel=1e-12)
    assert an.kl_bits([1, 0], [0.5, 0.5]) == pytest.approx(1.0)
    assert an.kl_bits([0.5, 0.5], [1, 0]) == math.inf


def test_weighted_mean_ci_equals_expanded_sample():
    vals, w = np.array([1.0, 2.0, 5.0]), np.array([3, 1, 2])
    m, lo, hi = an.weighted_mean_ci(vals, w)
    x = np.repeat(vals, w)
    half = 1.959964 * x.std(ddof=1) / math.sqrt(x.size)
    assert m == pytest.approx(x.mean()) and hi - m == pytest.approx(half, rel=1e-5) and m - lo == pytest.approx(half, rel=1e-5)


def test_zipf_and_rank_frequency():
    assert an.zipf_reference(1, 128) == pytest.approx(1 / (128 * math.log(2)))
    assert an.rank_frequency([1, 5, 4]).tolist() == [0.5, 0.4, 0.1]


def test_upper_bound_recovers_planted_line():
    # envelope: at K = 10, 20, 30 the top function has P = 2^-(0.1 K + 2); others lie below; rare ones ignored
    total = 2**20
    ks, counts = [], []
    for k in (10, 20, 30):
        top = total * 2.0 ** -(0.1 * k + 2)
        ks += [k, k, k]
        counts += [top, top / 4, 3]  # the count-3 function is below min_count
    counts, ks = np.array(counts), np.array(ks, dtype=float)
    fit = an.fit_upper_bound(ks, counts, min_count=10)
    assert fit["envelope_points"] == 3
    # probabilities are relative to the sample total, which shifts b but not the slope a
    assert fit["a"] == pytest.approx(0.1, abs=1e-9)
    logp = np.log2(counts / counts.sum())
    keep = counts >= 10
    assert np.all(logp[keep] <= -fit["a"] * ks[keep] - fit["b"] + 1e-9)
    assert np.any(np.isclose(logp[keep], -fit["a"] * ks[keep] - fit["b"]))  # the bound touches the data
