"""Training sets S: hex validation against the domain, the packed consistency test and test errors against brute force."""

import numpy as np
import pytest

from biasprobe import tables
from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.learning import make_condition, random_mask

D7 = parse_domain("bool:7")
X1 = "0000000000000000ffffffffffffffff"


@pytest.mark.parametrize("kwargs, message", [
    (dict(target="0" * 31, train_size=8), "31 hex digits"),
    (dict(target="0" * 33, train_size=8), "33 hex digits"),
    (dict(target="g" * 32, train_size=8), "not a hex truth table"),
    (dict(target=X1, train="0" * 32), "no training inputs"),
    (dict(target=X1, train="f" * 32), "at least one test input"),
    (dict(target=X1, train_size=128), "train size"),
    (dict(target=X1, train_size=0), "train size"),
    (dict(target=X1), "either"),
    (dict(target=X1, train="f" * 32, train_size=3), "either"),
    (dict(target=X1, train="0f" * 16, split_seed=2), "--split-seed"),
])
def test_bad_training_sets_are_user_errors(kwargs, message):
    with pytest.raises(UserError, match=message):
        make_condition(D7, **kwargs)


def test_bits_beyond_the_domain_are_rejected():
    with pytest.raises(UserError, match="beyond"):
        make_condition(parse_domain("bool:1"), "7", train="1")  # 2 inputs: only the low 2 bits exist


def test_accepts_and_errors_match_brute_force():
    rng = np.random.default_rng(0)
    domain = parse_domain("bool:7")
    target = rng.integers(0, 2, 128)
    cond = make_condition(domain, target, train_size=40, split_seed=3)
    mask = cond.mask_bits()
    assert mask.sum() == cond.m == 40 and cond.n_test == 88
    np.testing.assert_array_equal(cond.target_bits(), target)
    # functions near the target: flip a few random bits, so both outcomes occur
    funcs = np.repeat(target[None, :], 500, 0)
    for i in range(500):
        funcs[i, rng.choice(128, rng.integers(0, 6), replace=False)] ^= 1
    words = tables.pack(funcs)
    agree = ((funcs == target) | ~mask).all(axis=1)
    assert 0 < agree.sum() < 500
    np.testing.assert_array_equal(cond.accepts(words), agree)
    np.testing.assert_allclose(cond.test_errors(words), (funcs != target)[:, ~mask].mean(axis=1))
    np.testing.assert_array_equal(cond.train_mistakes(words), (funcs != target)[:, mask].sum(axis=1))


def test_hex_forms_round_trip_and_split_is_seeded():
    cond = make_condition(D7, X1.upper(), train_size=16, split_seed=5)
    assert cond.target_hex == X1
    again = make_condition(D7, X1, train=cond.mask_hex)
    assert again.mask_hex == cond.mask_hex and again.m == 16
    np.testing.assert_array_equal(random_mask(128, 16, 5), cond.mask_bits())
    assert not np.array_equal(random_mask(128, 16, 6), random_mask(128, 16, 5))
