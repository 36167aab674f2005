"""The PAC-Bayes bound of docs/definitions.md §7 against hand-worked values."""

import math

import numpy as np
import pytest

from biasprobe.errors import UserError
from biasprobe.learning import pac_bayes_bound, pac_bayes_from_p_s


def test_paper_form_hand_worked():
    # P(S) = e^-10, m = 64, delta = 2^-10: ln(2m/delta) = 17 ln 2 = 11.78350;
    # (10 + 11.78350) / 63 = 0.345770; eps = 1 - e^-0.345770 = 0.292325
    assert pac_bayes_bound(-10.0, 64) == pytest.approx(0.292325, abs=2e-6)
    # P(S) = 1, m = 2, delta = 1/2: -ln(1 - eps) <= ln 8, so eps = 7/8 exactly
    assert pac_bayes_bound(0.0, 2, delta=0.5) == pytest.approx(0.875, rel=1e-12)


def test_code_variant_hand_worked():
    # (10 + 2 ln 64 + 1 + 10 ln 2) / 64 = (10 + 8.317766 + 1 + 6.931472) / 64 = 0.410144; 1 - e^-0.410144 = 0.336446
    assert pac_bayes_bound(-10.0, 64, variant="code") == pytest.approx(0.336446, abs=2e-6)
    # P(S) = 1, m = 2, delta = e^-1: (2 ln 2 + 2) / 2 = ln 2 + 1, eps = 1 - e^-1 / 2
    assert pac_bayes_bound(0.0, 2, delta=math.exp(-1), variant="code") == pytest.approx(1 - math.exp(-1) / 2)


def test_limits_vectorised_and_monotone():
    assert pac_bayes_from_p_s(0.0, 64) == 1.0
    assert pac_bayes_bound(-1e6, 64) == 1.0
    eps = pac_bayes_from_p_s(np.array([1e-9, 1e-6, 1e-3, 1.0]), 64)
    assert eps.shape == (4,) and np.all(np.diff(eps) < 0) and np.all((eps > 0) & (eps < 1))
    assert pac_bayes_from_p_s(1e-3, 16) > pac_bayes_from_p_s(1e-3, 64)


@pytest.mark.parametrize("kwargs", [dict(ln_p_s=0.5, m=10), dict(ln_p_s=-1, m=1), dict(ln_p_s=-1, m=10, delta=0),
                                    dict(ln_p_s=-1, m=10, variant="mcallester")])
def test_bad_arguments(kwargs):
    with pytest.raises(UserError):
        pac_bayes_bound(**kwargs)
