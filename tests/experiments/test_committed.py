"""The committed tables are what the code writes: re-rendered from the default-scale cache, byte for byte."""

import pytest

from biasprobe import pipeline as ex
from biasprobe.pipeline import spec
from biasprobe.testing import check_committed_tables


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ex.discover()))
def test_committed_tables_are_reproduced_from_the_cache(name, tmp_path):
    """Skipped when .cache/experiments holds no default-scale output of the current code (a fresh clone)."""
    if not check_committed_tables(name, workdir=tmp_path):
        pytest.skip(f"no default-scale compute output of {name} for the current code in the cache")


_TOY = """
import pandas as pd
from biasprobe.pipeline import Experiment
from biasprobe.results import new_figure


def compute(config, seed):
    return {"draws": pd.DataFrame({"x": [1.0, 2.5, float(seed)]})}


def render(tables, config, out):
    out.table("summary", pd.DataFrame({"n": [3], "mean": [tables["draws"].x.mean()]}), caption="A toy mean.", n="n")
    fig, ax = new_figure()
    ax.plot(tables["draws"].x)
    out.figure("line", fig, caption="A toy line.")


EXPERIMENT = Experiment(name="toy-committed", title="toy", compute=compute, render=render, seed=4,
                        scales={"default": {"n": 3}})
"""


def test_the_check_skips_without_cache_passes_when_equal_and_names_a_changed_file(tmp_path, monkeypatch):
    d = tmp_path / "experiments"
    d.mkdir()
    (d / "toy_committed.py").write_text(_TOY)
    monkeypatch.setenv("BIASPROBE_EXPERIMENTS", str(d))
    monkeypatch.setenv("BIASPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BIASPROBE_RESULTS", str(tmp_path / "committed"))
    spec.rescan()
    try:
        assert check_committed_tables("toy-committed") is False  # nothing cached: nothing checked
        ex.run(["toy-committed"], scale="default", log=lambda *_: None)  # computes and "commits"
        assert check_committed_tables("toy-committed") is True
        md = tmp_path / "committed" / "toy-committed" / "summary.md"
        md.write_text(md.read_text() + " ")
        with pytest.raises(AssertionError, match="summary.md differs"):
            check_committed_tables("toy-committed")
        md.unlink()
        with pytest.raises(AssertionError, match="not the ones the code writes"):
            check_committed_tables("toy-committed")
    finally:
        spec.rescan()
