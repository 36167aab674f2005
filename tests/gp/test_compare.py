"""Exact P(S) counted from a stored sample (brute force, counting measure) and the PAC-Bayes bound (hand values)."""

import math

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.gp.compare import p_s_from_counts, pac_bayes_bound
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_counts


def test_counted_p_s_equals_brute_force():
    dom = parse_domain("bool:7")
    c = sample_counts(make_prior("mlp", hidden=(8,)), dom, samples=20_000, seed=3)
    bits = c.bits()
    rng = np.random.default_rng(0)
    for m in (1, 5, 20, 64):
        train = rng.choice(128, m, replace=False)
        target = bits[rng.integers(c.distinct)] if m < 64 else rng.integers(0, 2, 128)
        brute = int(c.counts[(bits[:, train] == target[train]).all(axis=1)].sum())
        got = p_s_from_counts(c, target, train)
        assert got.accepted == brute and got.samples == 20_000
        mask = np.zeros(128, bool)
        mask[train] = True
        assert p_s_from_counts(c, target, mask) == got


def test_counting_measure_gives_two_to_the_minus_m():
    dom = parse_domain("bool:7")
    c = sample_counts(make_prior("counting"), dom, samples=200_000, seed=1)
    target = np.random.default_rng(2).integers(0, 2, 128).astype(np.uint8)
    for m, seed in [(4, 0), (8, 1), (10, 2)]:
        train = np.random.default_rng(seed).choice(128, m, replace=False)
        got = p_s_from_counts(c, target, train)
        assert got.lo <= 2.0**-m <= got.hi, (m, got)


def test_nothing_accepted_gives_an_upper_bound():
    c = sample_counts(make_prior("counting"), parse_domain("bool:7"), samples=1000, seed=1)
    got = p_s_from_counts(c, np.zeros(128, np.uint8), np.arange(40))  # 2^-40: never drawn
    assert got.accepted == 0 and got.p == 0 and got.lo == 0 and got.log_p == -math.inf
    assert got.hi == pytest.approx(1 - 0.025 ** (1 / 1000))


def test_pac_bayes_bound_by_hand():
    # paper: -ln(1 - eps) <= (ln 2 + ln(2 * 64 / 0.05)) / 63
    eps = 1 - math.exp(-(math.log(2) + math.log(2560)) / 63)
    assert pac_bayes_bound(math.log(0.5), 64, 0.05) == pytest.approx(eps, rel=1e-14)
    # code variant: eps <= 1 - exp(-(ln(1/P) + 2 ln m + 1 - ln delta) / m)
    eps = 1 - math.exp(-(10.0 + 2 * math.log(32) + 1 + 10 * math.log(2)) / 32)
    assert pac_bayes_bound(-10.0, 32, 2.0**-10, form="code") == pytest.approx(eps, rel=1e-14)
    b = pac_bayes_bound(np.array([0.0, -5.0, -50.0, -np.inf]), 16)
    assert np.all(np.diff(b) > 0) and b[-1] == 1.0


@pytest.mark.parametrize("kwargs, needle", [({"m": 1}, "m >= 2"), ({"delta": 0.0}, "delta"),
                                            ({"form": "tight"}, "tight"), ({"log_p_s": 0.5}, "<= 0")])
def test_pac_bayes_bad_inputs(kwargs, needle):
    args = {"log_p_s": -1.0, "m": 16, **kwargs}
    with pytest.raises(UserError, match=needle):
        pac_bayes_bound(**args)


def test_counted_p_s_bad_inputs():
    c = sample_counts(make_prior("counting"), parse_domain("bool:3"), samples=10, seed=1)
    with pytest.raises(UserError, match="8 bits"):
        p_s_from_counts(c, np.zeros(7), [0])
    with pytest.raises(UserError, match="empty"):
        p_s_from_counts(c, np.zeros(8), np.zeros(8, bool))
    with pytest.raises(UserError, match="0..7"):
        p_s_from_counts(c, np.zeros(8), [9])
