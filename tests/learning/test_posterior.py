"""Exact posteriors by rejection: the filter identity, stored tables, the counting measure and the bias-free perceptron."""

import math

import numpy as np
import pytest
from scipy import stats

from biasprobe import tables
from biasprobe.domains import parse_domain
from biasprobe.learning import (StoredCounts, clopper_pearson, condition_sample, evidence, make_condition,
                                posterior_from_table)
from biasprobe.learning.posterior import mean_interval, upper_bound_none_seen
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_counts


def test_intervals_against_published_values():
    lo, hi = clopper_pearson(5, 10)  # the textbook exact interval for 5/10
    assert lo == pytest.approx(0.187086, abs=1e-6) and hi == pytest.approx(0.812914, abs=1e-6)
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** 0.1))
    assert clopper_pearson(10, 10) == (pytest.approx(0.025 ** 0.1), 1.0)
    assert upper_bound_none_seen(100) == pytest.approx(1 - 0.05 ** 0.01)  # about 3/n
    mean, lo, hi = mean_interval(6.0, 14.0, 3)  # values 1, 2, 3: mean 2, sd 1, t_0.975(2) = 4.3027
    assert mean == 2 and hi - 2 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)


@pytest.mark.parametrize("prior, domain, batch, workers", [
    (make_prior("mlp", hidden=(8, 8)), "bool:5", None, 2),
    (make_prior("mlp", hidden=(6,), activation="tanh"), "bool:4", 37, 1),
    (make_prior("counting"), "bool:4", 100, 2),
])
def test_conditioned_run_is_the_filter_of_the_unconditioned_run(prior, domain, batch, workers):
    d = parse_domain(domain)
    cond = make_condition(d, np.random.default_rng(1).integers(0, 2, d.n_points), train_size=3, split_seed=2)
    full = sample_counts(prior, d, samples=30_000, seed=9)
    post = condition_sample(prior, d, cond, 30_000, seed=9, batch_size=batch, workers=workers)
    keep = cond.accepts(full.words)
    assert 0 < keep.sum() < len(keep)
    np.testing.assert_array_equal(post.words, full.words[keep])  # same functions, same order
    np.testing.assert_array_equal(post.counts, full.counts[keep])
    assert post.accepted + (post.samples - post.accepted - post.nonfinite) == 30_000 - full.nonfinite
    # P(S) from the stored table is the conditioned run's, exactly
    row = evidence(full, [cond]).iloc[0]
    assert row["accepted"] == post.accepted and row["p_s"] == post.p_s
    assert row["test_error_mean"] == pytest.approx(post.mean_test_error()[0], rel=1e-12)
    stored = posterior_from_table(full, cond)
    np.testing.assert_array_equal(stored.words, post.words)


def test_counting_measure_p_s_and_posterior_error():
    # Counting measure: P(S) = 2^-m for every S; the test bits of an accepted draw are fair coins,
    # so its number of test mistakes is Binomial(n_test, 1/2).
    d = parse_domain("bool:6")
    full = sample_counts(make_prior("counting"), d, samples=200_000, seed=4)
    cond = make_condition(d, np.random.default_rng(3).integers(0, 2, 64), train_size=5, split_seed=7)
    post = posterior_from_table(full, cond)
    lo, hi = post.p_s_interval()
    assert lo < 2.0**-5 < hi and post.accepted > 5000
    k = post.test_mistakes()
    hist = np.bincount(k, weights=post.counts, minlength=cond.n_test + 1)
    pmf = stats.binom.pmf(np.arange(cond.n_test + 1), cond.n_test, 0.5)
    # pool the tails so every cell expects >= 5
    cells = np.flatnonzero(pmf * post.accepted >= 5)
    obs = np.r_[hist[:cells[0]].sum() + hist[cells[0]], hist[cells[1]:cells[-1]], hist[cells[-1]:].sum()]
    exp = np.r_[pmf[:cells[0] + 1].sum(), pmf[cells[1]:cells[-1]], pmf[cells[-1]:].sum()] * post.accepted
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    mean, mlo, mhi = post.mean_test_error()
    assert mlo < 0.5 < mhi
    sd = math.sqrt(0.25 / cond.n_test)  # the binomial spread of one draw's error
    assert np.sqrt(np.average((k / cond.n_test - mean) ** 2, weights=post.counts)) == pytest.approx(sd, rel=0.05)
    # many training sets at once from the same table: each within its interval (99.9%: 8 sets, fixed seed)
    conds = [make_condition(d, np.random.default_rng(s).integers(0, 2, 64), train_size=m, split_seed=s)
             for s, m in enumerate([1, 2, 3, 4, 5, 6, 7, 8])]
    ev = evidence(full, conds, level=0.999)
    assert ((ev["p_s_lo"] < 2.0 ** -ev["m"]) & (2.0 ** -ev["m"] < ev["p_s_hi"])).all()


def test_bias_free_perceptron_and_the_origin():
    # 1 iff w.x > 0: the origin of bool:n is always 0, so S with the origin labelled 1 has P(S) = 0 exactly,
    # and labelling it 0 changes nothing.
    d = parse_domain("bool:4")
    prior = make_prior("perceptron", bias=False)
    target = np.random.default_rng(5).integers(0, 2, 16)
    mask = np.zeros(16, bool)
    mask[[0, 3, 9, 14]] = True
    one, zero = target.copy(), target.copy()
    one[0], zero[0] = 1, 0
    post = condition_sample(prior, d, make_condition(d, one, train=mask), 20_000, seed=1)
    assert post.accepted == 0 and post.distinct == 0
    s = post.summary()
    assert s["p_s"] == 0 and s["p_s_lo"] == 0 and s["test_error_mean"] is None
    assert s["p_s_upper"] == pytest.approx(1 - 0.05 ** (1 / 20_000)) and "nothing accepted" in s["note"]
    with_origin = condition_sample(prior, d, make_condition(d, zero, train=mask), 20_000, seed=1)
    without = mask.copy()
    without[0] = False
    post_without = condition_sample(prior, d, make_condition(d, zero, train=without), 20_000, seed=1)
    assert with_origin.accepted == post_without.accepted > 0
    np.testing.assert_array_equal(with_origin.words, post_without.words)


def test_stored_table_round_trip_and_evidence_speed_path(tmp_path):
    from biasprobe.cli import main
    from biasprobe.learning import load_counts

    out = tmp_path / "c.parquet"
    assert main(["sample", "mlp", "--domain", "bool:5", "--samples", "20000", "--seed", "2", "--set", "hidden=8",
                 "-o", str(out), "--no-progress"]) == 0
    stored = load_counts(out)
    c = sample_counts(make_prior("mlp", hidden=(8,)), parse_domain("bool:5"), samples=20000, seed=2)
    np.testing.assert_array_equal(stored.words, c.words)
    assert stored.samples == 20000 and str(stored.domain) == "bool:5"
    rng = np.random.default_rng(0)
    conds = [make_condition(stored.domain, rng.integers(0, 2, 32), train_size=m, split_seed=i)
             for i, m in enumerate([1, 2, 3, 4, 6])]
    ev = evidence(stored, conds)
    brute = [int(c.counts[((tables.unpack(c.words, 32) == k.target_bits()) | ~k.mask_bits()).all(1)].sum())
             for k in conds]
    np.testing.assert_array_equal(ev["accepted"], brute)
    assert isinstance(StoredCounts.from_counts(c), StoredCounts)
