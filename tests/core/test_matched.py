"""Matched-entropy controls: exact uniformity at fixed T, exact means over all tables with T ones, and the weighting."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from biasprobe import matched as mt
from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.measures import compute


def test_tables_with_ones_are_uniform_over_subsets():
    rng = np.random.default_rng(0)
    bits = mt.tables_with_ones(rng, np.full(30_000, 2), 6)
    assert bits.dtype == np.uint8 and (bits.sum(axis=1) == 2).all()
    subsets = {s: i for i, s in enumerate(itertools.combinations(range(6), 2))}
    idx = [subsets[tuple(np.flatnonzero(row))] for row in bits]
    assert stats.chisquare(np.bincount(idx, minlength=15)).pvalue > 1e-3
    mixed = mt.tables_with_ones(rng, np.array([0, 6, 3, 1]), 6)
    assert mixed.sum(axis=1).tolist() == [0, 6, 3, 1]


@pytest.mark.parametrize("bad", [np.array([-1]), np.array([7]), np.array([1.5])])
def test_tables_with_ones_rejects_impossible_t(bad):
    with pytest.raises(UserError):
        mt.tables_with_ones(np.random.default_rng(0), bad, 6)


def test_reference_tables_at_one_t_do_not_depend_on_the_others():
    t1, a = mt.reference_tables(16, 5, seed=3, t_values=[4])
    t2, b = mt.reference_tables(16, 5, seed=3)
    assert (t1 == 4).all() and np.array_equal(a, b[t2 == 4])
    assert np.array_equal(np.bincount(t2), np.full(17, 5))


@pytest.mark.parametrize("spec", ["bool:7", "bool:7@gray", "bool:7@perm:4", "pm1:7"])
def test_reference_means_match_exact_enumeration(spec):
    # T = 1: all 128 tables; T = 2: all 8128; the sample mean must sit within 5 SE of the exact mean
    d = parse_domain(spec)
    ref = mt.reference_at_ones(d, ["lz", "sensitivity"], per_t=1500, seed=1, t_values=[1, 2])
    for t in (1, 2):
        every = np.zeros((math.comb(128, t), 128), np.uint8)
        for row, pos in enumerate(itertools.combinations(range(128), t)):
            every[row, list(pos)] = 1
        exact = compute(["lz", "sensitivity"], every, d)
        for name in ("lz", "sensitivity"):
            x = ref.loc[ref["ones"] == t, name].to_numpy()
            se = exact[name].std() / math.sqrt(x.size)
            assert abs(x.mean() - exact[name].mean()) <= 5 * se + 1e-12, (spec, t, name)


def test_bands_and_labels():
    t = np.array([0, 1, 8, 9, 16, 17, 64, 120, 127, 128])
    assert mt.band_of(t, 128).tolist() == [0, 1, 1, 2, 2, 3, 5, 1, 1, 0]
    assert mt.band_labels(128) == ["T in {0,128}", "min(T,N-T) in 1..8", "min(T,N-T) in 9..16",
                                   "min(T,N-T) in 17..32", "min(T,N-T) in 33..48", "min(T,N-T) in 49..64"]


def test_weighted_quantile_equals_expanded_inverted_cdf():
    rng = np.random.default_rng(2)
    v, w = rng.normal(size=40).round(1), rng.integers(1, 6, size=40)
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    assert np.array_equal(mt.weighted_quantile(v, w, q), np.quantile(np.repeat(v, w), q, method="inverted_cdf"))


def test_matched_weighting_hand_worked():
    # reference: T=1 rows 1 and 3, T=2 row 10; prior: three draws at T=1 with value 2, one at T=2 with 10
    ref = pd.DataFrame({"ones": [1, 1, 2], "m": [1.0, 3.0, 10.0]})
    out = mt.matched_comparison([2.0, 10.0], [1, 2], [3, 1], ref, "m", n_points=4).set_index("band")
    assert out.loc["all", "ref_mean"] == pytest.approx(0.375 * 1 + 0.375 * 3 + 0.25 * 10)
    assert out.loc["all", "mean"] == pytest.approx(4.0) and out.loc["all", "delta"] == pytest.approx(0.0)
    assert out.loc["all", "n"] == 4 and out.loc["all", "mass"] == 1.0
    assert out.loc["non-constant", "ref_mean"] == out.loc["all", "ref_mean"]
    # within-T spread: Var(m | T=1) = 2 (rows 1 and 3, ddof 1), Var(m | T=2) = 0 (one row); weights 3/4, 1/4
    assert out.loc["all", "ref_sd_within"] == pytest.approx(math.sqrt(0.75 * 2.0))
    assert out.loc["all", "ref_sd"] == pytest.approx(math.sqrt(0.75 * (1 + 9) / 2 + 0.25 * 100 - 16))
    assert out.loc["min(T,N-T) in 1..1", "ref_mean"] == pytest.approx(2.0)  # balance 1/4
    assert out.loc["min(T,N-T) in 2..2", "ref_mean"] == pytest.approx(10.0)  # balance 1/2
    with pytest.raises(UserError, match="T = \\[3\\]"):
        mt.matched_comparison([1.0], [3], [1], ref, "m", n_points=4)


def test_counting_measure_is_its_own_matched_control():
    from biasprobe.priors import make_prior
    from biasprobe.sampling import sample_counts

    d = parse_domain("bool:7@perm:2")
    c = sample_counts(make_prior("counting"), d, 20_000, seed=5)
    bits = c.bits()
    t = bits.sum(axis=1)
    ref = mt.reference_at_ones(d, ["lz", "sensitivity"], per_t=300, seed=6, t_values=np.unique(t))
    values = compute(["lz", "sensitivity"], bits, d)
    for name in ("lz", "sensitivity"):
        out = mt.matched_comparison(values[name], t, c.counts, ref, name, 128)
        rows = out[out["n"] > 50]
        assert (rows["z"].abs() < 4).all(), out


def test_non_constant_band_leaves_the_constants_out():
    ref = pd.DataFrame({"ones": [0, 1, 1, 2, 4], "m": [7.0, 1.0, 3.0, 10.0, 7.0]})
    out = mt.matched_comparison([7.0, 2.0, 10.0], [0, 1, 2], [4, 3, 1], ref, "m", n_points=4).set_index("band")
    assert out.loc["all", "n"] == 8 and out.loc["non-constant", "n"] == 4
    assert out.loc["all", "ref_mean"] == pytest.approx(0.5 * 7 + 0.5 * 4.0)
    assert out.loc["non-constant", "ref_mean"] == pytest.approx(4.0)
    assert out.loc["non-constant", "mass"] == pytest.approx(0.5)
    assert out.loc["T in {0,4}", "delta"] == 0 and np.isnan(out.loc["T in {0,4}", "z"])
