"""The runner: discovery, cache hit/miss, provenance, README, unknown names — on toy experiments."""

import json
import textwrap

import pytest

from biasprobe import experiments as ex
from biasprobe.cli import main
from biasprobe.errors import UserError

_TOY = """
import numpy as np, pandas as pd
from pathlib import Path
from biasprobe.experiments import Experiment
from biasprobe.results import new_figure

CALLS = Path(__file__).with_suffix(".calls")

def compute(config, seed):
    with open(CALLS, "a") as fh:
        fh.write("x")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=config["samples"]) * config["scale"]
    return {{"draws": pd.DataFrame({{"x": x, "label": ["a"] * len(x)}})}}

def render(tables, config, out):
    d = tables["draws"]
    out.table("summary", pd.DataFrame({{"n": [len(d)], "mean": [d.x.mean()]}}), caption="Mean of the {name} draws.", n="n")
    fig, ax = new_figure()
    ax.hist(d.x, bins=10)
    out.figure("hist", fig, caption="Histogram of the {name} draws.")

EXPERIMENT = Experiment(name="{name}", title="toy {name}", compute=compute, render=render, seed=3,
    scales={{"quick": {{"samples": 50, "scale": {scale}}}, "default": {{"samples": 200, "scale": {scale}}}}})
"""


def _write(d, name, scale=1.0):
    (d / f"{name.replace('-', '_')}.py").write_text(_TOY.format(name=name, scale=scale))


def _calls(d, name):
    p = d / f"{name.replace('-', '_')}.calls"
    return len(p.read_text()) if p.exists() else 0


@pytest.fixture
def toy(tmp_path, monkeypatch):
    d = tmp_path / "experiments"
    d.mkdir()
    _write(d, "toy-a")
    _write(d, "toy-b")
    monkeypatch.setenv("BIASPROBE_EXPERIMENTS", str(d))
    monkeypatch.setenv("BIASPROBE_CACHE", str(tmp_path / "cache"))
    return d, tmp_path / "results"


def test_cache_hit_miss_and_provenance(toy):
    d, res = toy
    recs = ex.run("all", scale="quick", results_dir=res, log=lambda *_: None)
    assert [r.cache_hit for r in recs] == [False, False]
    assert _calls(d, "toy-a") == 1 and _calls(d, "toy-b") == 1
    first = (res / "toy-a" / "hist.png").read_bytes()

    recs = ex.run("all", scale="quick", results_dir=res, log=lambda *_: None)
    assert [r.cache_hit for r in recs] == [True, True]
    assert _calls(d, "toy-a") == 1 and _calls(d, "toy-b") == 1
    assert (res / "toy-a" / "hist.png").read_bytes() == first  # up to date: nothing rewritten

    _write(d, "toy-b", scale=2.0)  # one parameter changed: exactly that experiment recomputes
    recs = ex.run("all", scale="quick", results_dir=res, log=lambda *_: None)
    assert [r.cache_hit for r in recs] == [True, False]
    assert _calls(d, "toy-a") == 1 and _calls(d, "toy-b") == 2

    ex.run(["toy-a"], scale="quick", results_dir=res, force=True, log=lambda *_: None)
    assert _calls(d, "toy-a") == 2

    # a missing artifact is re-rendered from the cache, without recomputing
    (res / "toy-a" / "hist.pdf").unlink()
    (rec,) = ex.run(["toy-a"], scale="quick", results_dir=res, log=lambda *_: None)
    assert rec.cache_hit and rec.render_s > 0 and (res / "toy-a" / "hist.pdf").is_file()
    assert _calls(d, "toy-a") == 2
    # restyling (editing the file without touching the config) re-renders but never re-samples
    src = d / "toy_a.py"
    src.write_text(src.read_text().replace("bins=10", "bins=12"))
    (rec,) = ex.run(["toy-a"], scale="quick", results_dir=res, log=lambda *_: None)
    assert rec.cache_hit and rec.render_s > 0 and _calls(d, "toy-a") == 2
    assert (res / "toy-a" / "hist.png").read_bytes() != first
    # a fresh clone (committed results, empty cache) recomputes
    import shutil

    shutil.rmtree(ex.cache_dir())
    (rec,) = ex.run(["toy-a"], scale="quick", results_dir=res, log=lambda *_: None)
    assert not rec.cache_hit and _calls(d, "toy-a") == 3

    prov = json.loads((res / "toy-a" / "provenance.json").read_text())
    assert prov["config"] == {"samples": 50, "scale": 1.0} and prov["seed"] == 3 and prov["scale"] == "quick"
    assert prov["sample_counts"] == {"samples": 50} and prov["table_rows"] == {"draws": 50}
    assert prov["cache"]["hit"] is False and prov["versions"]["numpy"]  # the last run recomputed
    assert set(prov["wall_time_s"]) == {"compute", "load", "render"}
    for art in prov["artifacts"]:
        exts = ("csv", "md", "tex") if art["kind"] == "table" else ("png", "pdf")
        for e in exts:
            assert (res / "toy-a" / f"{art['name']}.{e}").stat().st_size > 0

    readme = (res / "README.md").read_text()
    for name in ("toy-a", "toy-b"):
        assert f"![{name}/hist]({name}/hist.png)" in readme and f"Histogram of the {name} draws." in readme
        assert f"- [{name}](#{name}): toy {name}" in readme
        assert f"Mean of the {name} draws." in readme
    assert "| n | mean |" in readme


def test_seed_changes_key_scale_falls_back(toy):
    exp = ex.get_experiment("toy-a")
    assert ex.cache_key(exp, exp.config("quick"), 0) != ex.cache_key(exp, exp.config("quick"), 1)
    assert exp.config("paper") == exp.config("default")  # undefined scale falls back to default
    with pytest.raises(UserError):
        exp.config("huge")


def test_unknown_experiment_is_a_user_error(toy, capsys):
    with pytest.raises(UserError, match="did you mean: toy-a"):
        ex.get_experiment("toy-aa")
    assert main(["run", "toy-x", "--scale", "quick"]) == 2
    assert "unknown experiment 'toy-x'" in capsys.readouterr().err
    assert "toy-a  toy toy-a" in ex.describe_experiments()


def test_library_code_is_part_of_the_cache_key(toy, tmp_path, monkeypatch):
    """An edited sampler or measure must not reuse numbers cached by the old code."""
    exp = ex.get_experiment("toy-a")
    before = ex.cache_key(exp, exp.config("quick"), 0)
    monkeypatch.setattr(ex, "code_fingerprint", lambda compute_only=True: "edited")
    assert ex.cache_key(exp, exp.config("quick"), 0) != before
    # presentation-only modules are left out of the compute fingerprint, so restyling never re-samples
    assert "results.py".startswith(ex._NOT_COMPUTE)
    assert not "sampling.py".startswith(ex._NOT_COMPUTE)
    assert not "measures/_lz.py".startswith(ex._NOT_COMPUTE)
