"""Common tests parametrised over the registry: every measure, built-in or plug-in, runs biasprobe.testing's checks."""

from __future__ import annotations

import pytest

from biasprobe.measures import INVARIANCES, get_measure, list_measures
from biasprobe.testing import LATTICE_ONLY, check_measure, check_measure_basic, check_measure_invariance

BASIC = [(name, family) for name in list_measures() for family in get_measure(name).domains]
INVARIANT = [(name, family, kind) for name, family in BASIC for kind in get_measure(name).invariant_under
             if not (family == "cloud" and kind in LATTICE_ONLY)]


@pytest.mark.parametrize("name, family", BASIC)
def test_bounds_dtype_determinism(name, family):
    check_measure_basic(name, family)


@pytest.mark.parametrize("name, family, kind", INVARIANT)
def test_declared_invariances(name, family, kind):
    check_measure_invariance(name, family, kind)


@pytest.mark.parametrize("name", list_measures())
def test_metadata(name):
    m = get_measure(name)
    assert m.domains and set(m.invariant_under) <= set(INVARIANCES)
    assert m.description, f"{name} needs a docstring or description (shown by `biasprobe list measures`)"
    assert m.reads in ("sequence", "structure")


def test_non_declared_invariances_really_fail_for_lz():
    """The invariance checker can fail: lz is not invariant under permuting inputs or shuffling."""
    for kind in ("permute_inputs", "shuffle"):
        with pytest.raises(AssertionError):
            check_measure_invariance("lz", "boolean", kind)


def test_check_measure_runs_everything_for_one_measure():
    check_measure("entropy")


def test_structure_measures_see_canonical_tables_and_sequence_measures_the_enumeration():
    """reads= decides the order a measure receives: a structure measure never sees a permuted table."""
    import numpy as np

    from biasprobe.domains import parse_domain
    from biasprobe.measures import registry

    seen = {}

    @registry.register_measure("_probe_structure", reads="structure", invariant_under=("enumeration",))
    def probe_structure(tables, domain):
        """Records its input."""
        seen["structure"] = tables.copy()
        return np.zeros(len(tables))

    @registry.register_measure("_probe_sequence")
    def probe_sequence(tables, domain):
        """Records its input."""
        seen["sequence"] = tables.copy()
        return np.zeros(len(tables))

    try:
        d = parse_domain("bool:3@perm:5")
        t = np.array([[0, 1, 1, 0, 1, 0, 0, 0]], np.uint8)
        registry.compute(["_probe_structure", "_probe_sequence"], t, d)
        np.testing.assert_array_equal(seen["structure"], t)
        np.testing.assert_array_equal(seen["sequence"], t[:, d.order_index])
        assert not np.array_equal(seen["sequence"], t)
    finally:
        registry.MEASURES.remove("_probe_structure")
        registry.MEASURES.remove("_probe_sequence")


def test_check_measure_fails_a_measure_that_breaks_its_declared_bounds():
    """The public check can fail: a measure returning values outside its declared bounds is caught."""
    import numpy as np

    from biasprobe.measures import registry

    @registry.register_measure("_out_of_bounds", bounds=(0, 1), reads="structure")
    def out_of_bounds(tables, domain):
        """Returns the number of ones, although it declares values in [0, 1]."""
        return tables.sum(axis=1).astype(np.float64)

    try:
        with pytest.raises(AssertionError, match="leaves its declared bounds"):
            check_measure("_out_of_bounds")
    finally:
        registry.MEASURES.remove("_out_of_bounds")
