"""Common tests parametrised over the registry: every measure, built-in or plug-in, is checked without a new test."""

from __future__ import annotations

import pytest

from biasprobe.measures import INVARIANCES, get_measure, list_measures
from common_checks import check_basic, check_invariance

BASIC = [(name, family) for name in list_measures() for family in get_measure(name).domains]
INVARIANT = [(name, family, kind) for name, family in BASIC for kind in get_measure(name).invariant_under
             if not (family == "cloud" and kind in ("permute_inputs", "flip_inputs"))]


@pytest.mark.parametrize("name, family", BASIC)
def test_bounds_dtype_determinism(name, family):
    check_basic(name, family)


@pytest.mark.parametrize("name, family, kind", INVARIANT)
def test_declared_invariances(name, family, kind):
    check_invariance(name, family, kind)


@pytest.mark.parametrize("name", list_measures())
def test_metadata(name):
    m = get_measure(name)
    assert m.domains and set(m.invariant_under) <= set(INVARIANCES)
    assert m.description, f"{name} needs a docstring or description (shown by `biasprobe list measures`)"


def test_non_declared_invariances_really_fail_for_lz():
    """The invariance checker can fail: lz is not invariant under permuting inputs or shuffling."""
    for kind in ("permute_inputs", "shuffle"):
        with pytest.raises(AssertionError):
            check_invariance("lz", "boolean", kind)
