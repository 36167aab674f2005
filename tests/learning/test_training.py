"""Batched training from the prior's initialisation: fitting, determinism, unfit runs, the initial law, bad input."""

import dataclasses

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.learning import MINGARD_2025, VALLE_PEREZ, TrainSpec, make_condition, train_conditions, train_runs
from biasprobe.learning.posterior import clopper_pearson
from biasprobe.learning.training import FITTED, UNFIT, permutations
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_counts

D5 = parse_domain("bool:5")
SMALL = make_prior("mlp", hidden=(12, 12))


def _majority(domain):
    return (domain.points.sum(1) > domain.dim / 2).astype(np.uint8)


@pytest.mark.parametrize("spec", [TrainSpec(lr=0.1, max_epochs=300),
                                  dataclasses.replace(MINGARD_2025, lr=0.05, max_epochs=500)])
def test_perceptron_fits_a_linearly_separable_target(spec):
    cond = make_condition(D5, _majority(D5), train_size=20, split_seed=1)
    r = train_runs(make_prior("perceptron"), D5, cond, 16, spec, seed=0, workers=1, threads=1)
    assert (r.status == FITTED).all() and (r.fit_epoch >= 0).all()
    assert cond.accepts(r.words).all()  # every learned function agrees with S
    frame = r.to_frame()
    assert frame["count"].sum() == 16 and list(frame.columns) == ["function", "count", "test_error"]
    key = list(zip(-frame["count"], frame["function"].map(lambda h: int(h, 16))))
    assert key == sorted(key)


def test_same_seed_same_functions_whatever_runs_train_beside_them():
    cond = make_condition(D5, np.random.default_rng(0).integers(0, 2, 32), train_size=12, split_seed=3)
    spec = TrainSpec(lr=0.05, max_epochs=100, batch_size=5)
    all_runs = train_runs(SMALL, D5, cond, 10, spec, seed=7, workers=1, threads=1)
    assert (all_runs.status == FITTED).sum() >= 8
    some = train_runs(SMALL, D5, cond, 4, spec, seed=7, workers=1, threads=2, first_run=3)
    alone = train_runs(SMALL, D5, cond, 1, spec, seed=7, workers=1, threads=1, first_run=6)
    np.testing.assert_array_equal(some.words, all_runs.words[3:7])
    np.testing.assert_array_equal(some.fit_epoch, all_runs.fit_epoch[3:7])
    np.testing.assert_array_equal(alone.words, all_runs.words[6:7])
    two = train_runs(SMALL, D5, cond, 10, spec, seed=7, workers=2)  # two threads, interleaved halves
    np.testing.assert_array_equal(two.words, all_runs.words)
    np.testing.assert_array_equal(two.fit_epoch, all_runs.fit_epoch)
    # beside runs of another training set, in one stack
    other = make_condition(D5, _majority(D5), train_size=12, split_seed=4)
    both = train_conditions(SMALL, D5, [other, cond], 10, spec, seed=7, workers=1, threads=1)
    np.testing.assert_array_equal(both[1].words, all_runs.words)
    assert not np.array_equal(train_runs(SMALL, D5, cond, 10, spec, seed=8, workers=1).words, all_runs.words)


def test_runs_that_never_fit_are_counted():
    # parity of 3 inputs is not linearly separable: a perceptron can never fit 7 of its 8 points
    d = parse_domain("bool:3")
    parity = (d.points.sum(1) % 2).astype(np.uint8)
    mask = np.ones(8, bool)
    mask[5] = False
    cond = make_condition(d, parity, train=mask)
    r = train_runs(make_prior("perceptron"), d, cond, 6, TrainSpec(lr=0.1, max_epochs=20), seed=0, workers=1)
    s = r.summary()
    assert (r.status == UNFIT).all() and s["never_fit"] == 6 and s["fitted"] == 0
    assert s["fit_epochs"]["median"] is None and len(r.to_frame()) == 0


def test_bias_free_perceptron_stays_bias_free():
    # with bias=false there is no bias to train, so the origin labelled 1 is never fitted
    d = parse_domain("bool:3")
    target = np.zeros(8, np.uint8)
    target[0] = 1
    cond = make_condition(d, target, train=np.isin(np.arange(8), [0, 3, 5, 6]))
    r = train_runs(make_prior("perceptron", bias=False), d, cond, 4, TrainSpec(lr=0.5, max_epochs=30), workers=1)
    assert (r.status == UNFIT).all()


def test_initialisation_is_the_prior():
    # The share of runs that already fit S at epoch 0 estimates the prior's P(S): compare with the sampler.
    d = parse_domain("bool:3")
    prior = make_prior("mlp", hidden=(6,), activation="tanh", sigma_b=0.5)
    cond = make_condition(d, np.array([0, 1, 1, 0, 1, 0, 0, 1]), train=np.isin(np.arange(8), [1, 6]))
    r = train_runs(prior, d, cond, 4000, TrainSpec(max_epochs=1), seed=3, workers=1)
    at_init = int((r.fit_epoch == 0).sum())
    c = sample_counts(prior, d, samples=200_000, seed=1)
    p = c.counts[cond.accepts(c.words)].sum() / c.samples
    lo, hi = clopper_pearson(at_init, 4000, level=0.999)
    assert lo < p < hi


def test_published_setups_are_expressible():
    assert VALLE_PEREZ == TrainSpec("sgd", 1e-3, 0.9, 10, "ce")
    assert (MINGARD_2025.optimizer, MINGARD_2025.lr, MINGARD_2025.batch_size, MINGARD_2025.loss) == (
        "adam", 5e-4, None, "mse")
    assert MINGARD_2025.describe()["batch_size"] == "full"


def test_permutations_are_permutations_and_keyed():
    p = permutations(np.array([1, 2, 3], np.uint64), 5, 64)
    assert (np.sort(p, axis=1) == np.arange(64)).all()
    assert not np.array_equal(p[0], p[1])
    np.testing.assert_array_equal(permutations(np.array([2], np.uint64), 5, 64)[0], p[1])
    assert not np.array_equal(permutations(np.array([2], np.uint64), 6, 64)[0], p[1])


@pytest.mark.parametrize("kwargs, message", [
    (dict(optimizer="rmsprop"), "optimizer"), (dict(loss="hinge"), "loss"), (dict(lr=0), "learning rate"),
    (dict(momentum=1.0), "momentum"), (dict(batch_size=0), "batch size"), (dict(max_epochs=0), "max_epochs"),
    (dict(epochs_after_fit=-1), "epochs_after_fit"),
])
def test_bad_specs(kwargs, message):
    with pytest.raises(UserError, match=message):
        TrainSpec(**kwargs)


def test_bad_priors_and_domains():
    cond = make_condition(parse_domain("grid:2:4"), "0000", train_size=3)
    with pytest.raises(UserError, match="Boolean"):
        train_runs(SMALL, parse_domain("grid:2:4"), cond, 2, TrainSpec())
    with pytest.raises(UserError, match="not a network"):
        train_runs(make_prior("counting"), D5, make_condition(D5, "0" * 8, train_size=3), 2, TrainSpec())
