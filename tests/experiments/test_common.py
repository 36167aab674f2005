"""Orchestration helpers: label-keyed seeds, convention names, packed popcount and chunked measuring."""

import numpy as np

from biasprobe.domains import parse_domain
from biasprobe.sweep import child_seed, convention, measure_counts, ones, sample
from biasprobe.priors import make_prior


def test_child_seed_is_keyed_by_labels():
    assert child_seed(0, "a", 1.5) == child_seed(0, "a", 1.5)
    seeds = {child_seed(0, "a"), child_seed(0, "b"), child_seed(1, "a"), child_seed(0, "a", "b")}
    assert len(seeds) == 4 and all(0 <= s < 2**63 for s in seeds)


def test_convention_names_the_weight_law():
    assert convention(make_prior("mlp", convention="a")) == "W ~ N(0, 1^2/fan_in), b ~ N(0, 1^2)"
    assert convention(make_prior("mlp", convention="b")) == "W ~ U(var 1.41^2/fan_in), b ~ U(var 1.41^2/fan_in)"
    assert convention(make_prior("mlp", convention="c")) == "W ~ N(0, 1.41^2/fan_in), b ~ N(0, 1.41^2)"
    assert convention(make_prior("perceptron", bias=False)).endswith("no bias")
    assert convention(make_prior("counting")) == "uniform over all functions"


def test_popcount_and_chunked_measures_match_unpacked():
    from biasprobe.measures import compute

    for spec in ("bool:7", "bool:3", "pm1:6"):
        d = parse_domain(spec)
        c, _ = sample({"prior": "mlp", "params": {"hidden": [8]}}, d, 500, 3)
        bits = c.bits()
        assert np.array_equal(ones(c), bits.sum(axis=1))
        got = measure_counts(["lz", "entropy"], c, d, chunk=7)
        ref = compute(["lz", "entropy"], bits, d)
        for k in ref:
            assert np.array_equal(got[k], ref[k])
