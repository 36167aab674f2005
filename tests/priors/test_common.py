"""Contract tests run for every registered prior through biasprobe.testing.check_prior."""

import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import PRIORS, make_prior
from biasprobe.sampling import sample_counts
from biasprobe.testing import check_prior


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_prior_contract(name):
    check_prior(name)


def test_a_boolean_only_prior_asked_for_a_grid_is_one_line(monkeypatch):
    import dataclasses
    from typing import ClassVar

    import numpy as np

    from biasprobe.cli import main
    from biasprobe.priors import Prior, register_prior

    @register_prior
    @dataclasses.dataclass(frozen=True)
    class BitFlip(Prior):
        """Each truth-table bit 1 with probability p (Boolean domains only)."""

        p: float = 0.5
        name: ClassVar[str] = "_bitflip"
        domains: ClassVar[tuple[str, ...]] = ("boolean",)

        def draw_outputs(self, rng, count, domain):
            return np.where(rng.random((count, domain.n_points)) < self.p, 1.0, -1.0).astype(np.float32)

    try:
        check_prior("_bitflip")
        with pytest.raises(UserError, match="prior _bitflip is not defined on grid domain grid:2:4; it supports: "
                                            "boolean"):
            sample_counts(make_prior("_bitflip"), parse_domain("grid:2:4"), samples=4)
        assert main(["sample", "_bitflip", "--domain", "grid:2:4", "--samples", "4"]) == 2
    finally:
        PRIORS.remove("_bitflip")


def test_check_prior_fails_a_prior_that_ignores_its_seed():
    import dataclasses
    from typing import ClassVar

    import numpy as np

    from biasprobe.priors import Prior, register_prior

    @register_prior
    @dataclasses.dataclass(frozen=True)
    class Stuck(Prior):
        """Always the same function, whatever the seed: a broken prior."""

        name: ClassVar[str] = "_stuck"

        def draw_outputs(self, rng, count, domain):
            return np.ones((count, domain.n_points), np.float32)

    try:
        with pytest.raises(AssertionError, match="ignores the seed"):
            check_prior("_stuck")
    finally:
        PRIORS.remove("_stuck")
