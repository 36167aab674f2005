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
        with pytest.raises(UserError, match="prior _bitflip does not apply to grid domain grid:2:4; it applies to: "
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


PLUGIN_PRIOR = '''
"""A third-party prior, as a user would write it."""
import dataclasses
from typing import ClassVar

import numpy as np

from biasprobe.priors import Prior, register_prior


@register_prior
@dataclasses.dataclass(frozen=True)
class Dictator(Prior):
    """f(x) = x_j for a uniformly random coordinate j."""

    name: ClassVar[str] = "demo_dictator"
    summary: ClassVar[str] = "a random single coordinate"
    domains: ClassVar[tuple[str, ...]] = ("boolean",)

    def draw_outputs(self, rng, count, domain):
        j = rng.integers(0, domain.dim, size=count)
        return (domain.points[:, j].T - 0.5 * (domain.kind == "bool")).astype(np.float32)
'''


def test_a_plugin_prior_is_listed_samples_and_passes_check_prior(tmp_path, fake_dist):
    import subprocess
    import sys

    fake_dist("bp-demo-prior", "[biasprobe.priors]\ndemo_dictator = bp_demo_prior\n",
              {"bp_demo_prior": PLUGIN_PRIOR}, version="0.2")
    try:
        assert "demo_dictator" in PRIORS
        check_prior("demo_dictator")
        c = sample_counts(make_prior("demo_dictator"), parse_domain("bool:3"), samples=3000, seed=0)
        assert sorted(c.hex()) == ["0f", "33", "55"]  # x_1, x_2, x_3 (x_1 is the most significant)
        env = {"PYTHONPATH": f"{tmp_path}:{':'.join(p for p in sys.path if p)}", "PATH": "/usr/bin:/bin"}
        out = subprocess.run([sys.executable, "-m", "biasprobe", "list", "priors"], capture_output=True, text=True,
                             env=env, timeout=60)
        assert out.returncode == 0 and "demo_dictator" in out.stdout, out.stderr
        out = subprocess.run([sys.executable, "-m", "biasprobe", "sample", "demo_dictator", "--domain", "bool:3",
                              "--samples", "300", "-o", str(tmp_path / "c.csv")], capture_output=True, text=True,
                             env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        import json

        side = json.loads((tmp_path / "c.csv.json").read_text())
        assert any(p["name"] == "demo_dictator" and p["version"] == "0.2" for p in side["plugins"])
        out = subprocess.run([sys.executable, "-m", "biasprobe", "sample", "demo_dictator", "--domain", "grid:2:4",
                              "--samples", "3"], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "does not apply to grid" in out.stderr
    finally:
        PRIORS.remove("demo_dictator")
        PRIORS._loaded.discard("demo_dictator")
        sys.modules.pop("bp_demo_prior", None)


def test_a_plugin_that_exits_on_import_is_named_not_fatal(tmp_path, fake_dist, capsys):
    import sys

    from biasprobe.cli import main

    fake_dist("bp-exits", "[biasprobe.priors]\nexiting = bp_exits\n", {"bp_exits": "raise SystemExit(0)\n"})
    try:
        with pytest.warns(RuntimeWarning, match="prior plug-in 'exiting' .* failed to load"):
            assert main(["list", "priors"]) == 0
        assert "mlp" in capsys.readouterr().out
        assert main(["sample", "nosuch", "--samples", "3"]) == 2
        err = capsys.readouterr().err
        assert "unknown prior 'nosuch'" in err and "plug-ins that failed to load: exiting" in err
    finally:
        PRIORS._loaded.discard("exiting")
        PRIORS._failed.pop("exiting", None)
        sys.modules.pop("bp_exits", None)
