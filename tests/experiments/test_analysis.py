"""Shared statistics of the simplicity-bias experiments, against scipy and hand-worked values."""

import math

import numpy as np
import pandas as pd
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
    assert fit["envelope_points"] == 3 and fit["fitted"] == 6 and (fit["k_fit_min"], fit["k_fit_max"]) == (10, 30)
    # probabilities are relative to the sample total, which shifts b but not the slope a
    assert fit["a"] == pytest.approx(0.1, abs=1e-9)
    logp = np.log2(counts / counts.sum())
    keep = counts >= 10
    assert np.all(logp[keep] <= -fit["a"] * ks[keep] - fit["b"] + 1e-9)
    assert np.any(np.isclose(logp[keep], -fit["a"] * ks[keep] - fit["b"]))  # the bound touches the data
    # where the line meets the 1/total floor
    assert -fit["a"] * fit["k_floor"] - fit["b"] == pytest.approx(-math.log2(counts.sum()))


def test_upper_bound_on_grouped_rows_equals_one_row_per_function():
    rng = np.random.default_rng(2)
    k = rng.choice([7.0, 14.0, 21.0, 28.0, 35.0], 300)
    c = rng.integers(1, 60, 300)
    one = an.fit_upper_bound(k, c, min_count=5)
    frame = pd.DataFrame({"k": k, "c": c}).groupby(["k", "c"], as_index=False).size()
    grouped = an.fit_upper_bound(frame["k"], frame["c"], min_count=5, functions=frame["size"])
    assert one.keys() == grouped.keys()
    for key in one:
        assert one[key] == pytest.approx(grouped[key], nan_ok=True), key


def test_upper_bound_recovers_a_known_envelope_from_a_sample():
    """A population with a known envelope log2 P = -(0.15 K + 1), sampled 2e6 times.

    At K = 10, 20, ..., 80 twenty functions each: one on the envelope, the others 0.01-0.2 of it; the rest of
    the mass (about 0.2) on 10^6 functions at K = 140, each with P ~ 2e-7, below the 1/N floor of 5e-7.
    The envelope's tops are drawn at least ~240 times, so log2 P-hat errs by at most ~0.1 bit (sd); the
    least-squares slope over 8 levels spanning 70 then has sd ~0.0015: tolerance 0.008 (5 sd). b is lowered
    to bound every fitted function, so it sits at most ~3 sd of one top (0.3 bit) below the true 1. The
    functions above the line are exactly the rare ones on the floor at K = 140, each drawn fewer than
    min_count times: the floor effect the fit's scope excludes.
    """
    rng = np.random.default_rng(3)
    levels = np.arange(10, 90, 10)
    ks, probs = [], []
    for k in levels:
        top = 2.0 ** -(0.15 * k + 1)
        ks += [k] * 20
        probs += [top, *(top * rng.uniform(0.01, 0.2, 19))]
    rest = 1 - sum(probs)
    assert 0.1 < rest < 0.5
    tail = 10**6
    ks = np.array(ks + [140] * tail, dtype=float)
    probs = np.array(probs + [rest / tail] * tail)
    n = 2_000_000
    counts = rng.multinomial(n, probs / probs.sum())
    fit = an.fit_upper_bound(ks, counts, min_count=30)
    assert fit["envelope_points"] == len(levels) and fit["k_fit_max"] == 80
    assert fit["a"] == pytest.approx(0.15, abs=0.008)
    assert fit["b"] == pytest.approx(1.0, abs=0.35) and fit["b"] <= 1.0 + 0.05
    logp = np.log2(np.where(counts > 0, counts, 1) / n)
    line = -fit["a"] * ks - fit["b"]
    fitted = counts >= 30
    assert np.all(logp[fitted] <= line[fitted] + 1e-9)
    above = (counts > 0) & (logp > line + 1e-9)
    assert fit["above"] == above.sum() > 0 and np.all(ks[above] == 140) and np.all(counts[above] < 30)
    assert fit["k_above_min"] == 140 and 80 < fit["k_floor"] < 140


def test_thinning_keeps_each_draw_with_the_given_probability():
    rng = np.random.default_rng(4)
    counts = np.array([1, 2, 50, 5000, 3])
    functions = np.array([200_000, 1000, 10, 1, 4000])
    c, m, src = an.thin_counts(counts, functions, 0.1, rng)
    total = int((counts * functions).sum())
    kept = int((c * m).sum())
    sd = math.sqrt(total * 0.1 * 0.9)
    assert abs(kept - 0.1 * total) < 5 * sd
    singles = m[(src == 0)].sum()  # of 200000 singletons, Binomial(200000, 0.1) survive
    assert abs(singles - 20_000) < 5 * math.sqrt(200_000 * 0.09)
    assert np.all(c[src == 0] == 1) and np.all(c <= counts[src]) and np.all(c > 0)
    same = an.thin_counts(counts, functions, 1.0, np.random.default_rng(0))
    assert np.array_equal(same[0], counts) and np.array_equal(same[1], functions)
    again = an.thin_counts(counts, functions, 0.1, np.random.default_rng(4))
    assert all(np.array_equal(x, y) for x, y in zip((c, m, src), again))


def test_rank_frequency_steps_by_hand():
    # two functions drawn 5 times, one drawn 3 times, three drawn once: 16 draws
    r, p = an.rank_frequency_steps([1, 5, 3], [3, 2, 1])
    assert r.tolist() == [1, 2, 3, 3, 4, 6]
    assert p.tolist() == [5 / 16, 5 / 16, 3 / 16, 3 / 16, 1 / 16, 1 / 16]
