"""The pipeline on toy experiments: cache keyed on the code that computes, scales' folders, readers, plug-ins, damage."""

import json
import shutil
import subprocess
import sys
import warnings

import pytest

from biasprobe import pipeline as ex
from biasprobe.cli import main
from biasprobe.errors import UserError
from biasprobe.pipeline import cache, fingerprint, spec

_TOY = """
import numpy as np, pandas as pd
from pathlib import Path
from biasprobe.pipeline import Experiment
from biasprobe.results import new_figure

CALLS = Path(__file__).with_suffix(".calls")
OFFSET = 0.0


def _draw(rng, n):
    return rng.normal(size=n)


def compute(config, seed):
    with open(CALLS, "a") as fh:
        fh.write("x")
    rng = np.random.default_rng(seed)
    x = _draw(rng, config["samples"]) * config["scale"] + OFFSET
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


def _path(d, name):
    return d / f"{name.replace('-', '_')}.py"


def _write(d, name, scale=1.0):
    _path(d, name).write_text(_TOY.format(name=name, scale=scale))


def _edit(d, name, old, new):
    p = _path(d, name)
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new))
    spec.rescan()  # a new process would import the edited file


def _calls(d, name):
    p = d / f"{name.replace('-', '_')}.calls"
    return len(p.read_text()) if p.exists() else 0


def _run(names, res, **kw):
    return ex.run(names, scale="quick", results_dir=res, log=lambda *_: None, **kw)


@pytest.fixture
def toy(tmp_path, monkeypatch):
    d = tmp_path / "experiments"
    d.mkdir()
    _write(d, "toy-a")
    _write(d, "toy-b")
    monkeypatch.setenv("BIASPROBE_EXPERIMENTS", str(d))
    monkeypatch.setenv("BIASPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BIASPROBE_RESULTS", str(tmp_path / "committed"))
    spec.rescan()
    yield d, tmp_path / "results"
    spec.rescan()


def test_cache_hit_miss_and_provenance(toy):
    d, res = toy
    recs = _run("all", res)
    assert [r.cache_hit for r in recs] == [False, False]
    assert _calls(d, "toy-a") == 1 and _calls(d, "toy-b") == 1
    first = (res / "toy-a" / "hist.png").read_bytes()

    recs = _run("all", res)
    assert [r.cache_hit for r in recs] == [True, True]
    assert _calls(d, "toy-a") == 1 and _calls(d, "toy-b") == 1
    assert (res / "toy-a" / "hist.png").read_bytes() == first  # up to date: nothing rewritten

    _write(d, "toy-b", scale=2.0)  # one parameter changed: exactly that experiment recomputes
    spec.rescan()
    recs = _run("all", res)
    assert [r.cache_hit for r in recs] == [True, False]
    assert _calls(d, "toy-a") == 1 and _calls(d, "toy-b") == 2

    _run(["toy-a"], res, force=True)
    assert _calls(d, "toy-a") == 2

    # a missing artifact is re-rendered from the cache, without recomputing
    (res / "toy-a" / "hist.pdf").unlink()
    (rec,) = _run(["toy-a"], res)
    assert rec.cache_hit and rec.render_s > 0 and (res / "toy-a" / "hist.pdf").is_file()
    assert _calls(d, "toy-a") == 2
    # a fresh clone (committed results, empty cache) recomputes
    shutil.rmtree(ex.cache_dir())
    (rec,) = _run(["toy-a"], res)
    assert not rec.cache_hit and _calls(d, "toy-a") == 3

    prov = json.loads((res / "toy-a" / "provenance.json").read_text())
    assert prov["config"] == {"samples": 50, "scale": 1.0} and prov["seed"] == 3 and prov["scale"] == "quick"
    assert prov["sample_counts"] == {"samples": 50} and prov["table_rows"] == {"draws": 50}
    assert prov["cache"]["hit"] is False and prov["versions"]["numpy"]
    assert set(prov["wall_time_s"]) == {"compute", "load", "render"}
    assert "lock" in prov and "plugins" in prov and "git_commit" in prov

    readme = (res / "README.md").read_text()
    for name in ("toy-a", "toy-b"):
        assert f"![{name}/hist]({name}/hist.png)" in readme and f"Histogram of the {name} draws." in readme
        assert f"- [{name}](#{name}): toy {name}" in readme
    assert "| n | mean |" in readme


def test_editing_compute_or_a_helper_recomputes_but_comments_and_render_do_not(toy):
    """The stale-numbers hole: a changed compute must never be served the old cache."""
    d, res = toy
    _run(["toy-a"], res)
    assert _calls(d, "toy-a") == 1
    # a comment and a docstring in compute: same numbers, cache hit
    _edit(d, "toy-a", "    with open(CALLS", "    # why: count the calls\n    with open(CALLS")
    _edit(d, "toy-a", "def compute(config, seed):\n", 'def compute(config, seed):\n    """Draws."""\n')
    (rec,) = _run(["toy-a"], res)
    assert rec.cache_hit and _calls(d, "toy-a") == 1
    # render only: re-rendered from the cache, never re-sampled
    _edit(d, "toy-a", "bins=10", "bins=12")
    (rec,) = _run(["toy-a"], res)
    assert rec.cache_hit and rec.render_s > 0 and _calls(d, "toy-a") == 1
    # compute's own code: recomputed (the old key's numbers are never served)
    _edit(d, "toy-a", '* config["scale"] + OFFSET', '* config["scale"] * 0 + OFFSET')
    (rec,) = _run(["toy-a"], res)
    assert not rec.cache_hit and _calls(d, "toy-a") == 2
    assert json.loads((res / "toy-a" / "summary.csv").read_text().splitlines()[1].split(",")[1]) == 0.0
    # a module-level helper compute calls, and a module constant it reads
    _edit(d, "toy-a", "return rng.normal(size=n)", "return rng.normal(size=n) + 1")
    (rec,) = _run(["toy-a"], res)
    assert not rec.cache_hit and _calls(d, "toy-a") == 3
    _edit(d, "toy-a", "OFFSET = 0.0", "OFFSET = 5.0")
    (rec,) = _run(["toy-a"], res)
    assert not rec.cache_hit and _calls(d, "toy-a") == 4
    # going back to an earlier version finds its own entry: the edited numbers never poison it
    _edit(d, "toy-a", "OFFSET = 5.0", "OFFSET = 0.0")
    (rec,) = _run(["toy-a"], res)
    assert rec.cache_hit and _calls(d, "toy-a") == 4


def test_library_comment_keeps_the_key_and_library_code_changes_it(tmp_path, monkeypatch):
    copy = tmp_path / "biasprobe"
    shutil.copytree(fingerprint.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "PACKAGE", copy)
    before = fingerprint.library_fingerprint()
    src = copy / "sampling" / "counter.py"
    text = src.read_text()
    src.write_text(text.replace("MAX_LOAD = 0.7", "MAX_LOAD = 0.7  # a comment only"))
    assert fingerprint.library_fingerprint() == before
    src.write_text(text.replace("MAX_LOAD = 0.7", "MAX_LOAD = 0.6"))
    assert fingerprint.library_fingerprint() != before
    src.write_text(text)
    (copy / "results.py").write_text((copy / "results.py").read_text() + "\nX = 1\n")
    assert fingerprint.library_fingerprint() == before  # presentation code never moves numbers
    assert fingerprint.library_fingerprint(compute_only=False) != fingerprint.library_fingerprint()


def test_normalised_ignores_comments_docstrings_and_layout():
    a = 'def f(x):\n    """Doc."""\n    return x + 1  # one\n'
    b = "def f(x):\n\n    return (x +\n            1)\n"
    assert fingerprint.normalised(a) == fingerprint.normalised(b)
    assert fingerprint.normalised(a) != fingerprint.normalised("def f(x):\n    return x + 2\n")


def test_quick_scale_never_writes_the_committed_results(toy, capsys):
    d, _ = toy
    committed = d.parent / "committed"
    assert main(["run", "toy-a", "--scale", "quick"]) == 0
    assert not committed.exists()
    assert (ex.cache_dir() / "results-quick" / "toy-a" / "summary.csv").is_file()
    assert main(["run", "toy-a"]) == 0  # the default scale writes the committed folder
    assert (committed / "toy-a" / "summary.csv").is_file()


def test_load_results_and_load_tables(toy):
    d, _ = toy
    with pytest.raises(UserError, match=r"run `biasprobe run toy-a --scale quick` first"):
        ex.load_tables("toy-a", scale="quick")
    with pytest.raises(UserError, match=r"no readable results for 'toy-a'.*run `biasprobe run toy-a`"):
        ex.load_results("toy-a")
    assert main(["run", "toy-a"]) == 0
    got = ex.load_results("toy-a")
    assert list(got.tables) == ["summary"] and got["summary"]["n"].tolist() == [200]
    assert got.provenance["experiment"] == "toy-a" and got.figures["hist"].is_file()
    assert len(ex.load_tables("toy-a")["draws"]) == 200


def test_load_results_reads_the_committed_results_of_this_checkout():
    got = ex.load_results("entropy-bias")
    assert "summary" in got.tables and len(got["summary"]) > 0
    assert got.provenance["scale"] == "default"


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


@pytest.mark.parametrize("damage", ["truncate", "empty", "missing-table", "other-key", "garbage-parquet"])
def test_a_damaged_cache_entry_is_recomputed_not_trusted(toy, damage):
    d, res = toy
    _run(["toy-a"], res)
    (entry,) = (ex.cache_dir() / "experiments").glob("toy-a-*")
    manifest = entry / "manifest.json"
    if damage == "truncate":
        manifest.write_text(manifest.read_text()[:25])
    elif damage == "empty":
        manifest.write_text("")
    elif damage == "missing-table":
        (entry / "draws.parquet").unlink()
    elif damage == "other-key":
        m = json.loads(manifest.read_text())
        m["key"] = "0" * 20
        manifest.write_text(json.dumps(m))
    else:
        (entry / "draws.parquet").write_bytes(b"PAR1 not really")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (rec,) = _run(["toy-a"], res, force=False)
    assert not rec.cache_hit and _calls(d, "toy-a") == 2
    assert any("cache entry" in str(w.message) for w in caught)
    assert len(ex.load_tables("toy-a", scale="quick")["draws"]) == 50


def test_stale_temporary_folders_are_cleaned(toy):
    d, res = toy
    stale = ex.cache_dir() / "experiments" / "toy-a-0123.tmp999999999"
    stale.mkdir(parents=True)
    _run(["toy-a"], res)
    assert not stale.exists()
    assert not list((ex.cache_dir() / "experiments").glob("*.tmp*"))


def test_readme_survives_other_experiments_damage_and_escapes_data(toy):
    d, res = toy
    _run("all", res)
    (res / "toy-b" / "provenance.json").write_text('{"experiment": "toy-b", "artif')  # truncated
    evil = res / "toy-c"
    evil.mkdir()
    (evil / "provenance.json").write_text(json.dumps({
        "experiment": "toy-c", "title": "<script>x</script> [link](http://x)", "scale": "default", "seed": 0,
        "artifacts": [{"kind": "table", "name": "../../secret", "caption": "Sneaky."},
                      {"kind": "figure", "name": "fig", "caption": "![img](http://x) <b>bold</b>."}]}))
    (res / "toy-a" / "summary.md").unlink()
    path = ex.write_readme(res)
    text = path.read_text()
    assert "## toy-b" in text and "unreadable" in text
    assert "<script>" not in text and "](http://x)" not in text and "<b>" not in text
    assert "secret" not in text and "invalid name" in text
    assert "summary.md` is missing" in text


def test_library_comment_edit_end_to_end_keeps_the_cache(toy, monkeypatch):
    """The reverse of stale numbers: a comment in the library must not invalidate every cache."""
    d, res = toy
    (rec,) = _run(["toy-a"], res)
    calls = _calls(d, "toy-a")
    real = fingerprint.library_fingerprint()
    monkeypatch.setattr(fingerprint, "library_fingerprint", lambda compute_only=True: real)
    (rec,) = _run(["toy-a"], res)
    assert rec.cache_hit and _calls(d, "toy-a") == calls


PLUGIN_EXPERIMENT = '''
import pandas as pd
from biasprobe.pipeline import Experiment


def compute(config, seed):
    return {"rows": pd.DataFrame({"k": list(range(config["k"]))})}


def render(tables, config, out):
    out.table("rows", tables["rows"], caption="The plug-in's rows.")


EXPERIMENT = Experiment(name="plug-exp", title="a plug-in experiment", compute=compute, render=render,
                        scales={"quick": {"k": 3}, "default": {"k": 4}})
'''


def test_a_plugin_experiment_is_listed_runs_and_passes_the_checks(toy, tmp_path, fake_dist):
    from biasprobe.testing import check_experiment

    pkg = tmp_path / "site"
    pkg.mkdir()
    fake_dist("bp_plug_exp", "[biasprobe.experiments]\nplug-exp = bp_plug_exp\n", {"bp_plug_exp": PLUGIN_EXPERIMENT},
              root=pkg)
    try:
        assert "plug-exp" in ex.discover()
        check_experiment("plug-exp", workdir=tmp_path)
        env = {"PYTHONPATH": f"{pkg}:{':'.join(p for p in sys.path if p)}", "PATH": "/usr/bin:/bin",
               "BIASPROBE_CACHE": str(tmp_path / "c2"), "BIASPROBE_EXPERIMENTS": str(toy[0])}
        out = subprocess.run([sys.executable, "-m", "biasprobe", "list", "experiments"], capture_output=True,
                             text=True, env=env, timeout=60)
        assert out.returncode == 0 and "plug-exp" in out.stdout, out.stderr
        out = subprocess.run([sys.executable, "-m", "biasprobe", "run", "plug-exp", "--scale", "quick"],
                             capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        assert (tmp_path / "c2" / "results-quick" / "plug-exp" / "rows.csv").is_file()
        plugins = ex.load_results("plug-exp", results_dir=tmp_path / "c2" / "results-quick").provenance["plugins"]
        assert any(p["name"] == "plug-exp" and p["version"] == "0.1" for p in plugins)
    finally:
        spec.EXPERIMENTS._loaded.discard("plug-exp")
        sys.modules.pop("bp_plug_exp", None)


def test_check_experiment_fails_a_table_with_run_times(toy, tmp_path):
    from biasprobe.testing import check_experiment

    _edit(toy[0], "toy-a", 'pd.DataFrame({"n": [len(d)], "mean": [d.x.mean()]})',
          'pd.DataFrame({"n": [len(d)], "mean": [d.x.mean()], "compute_s": [1.5]})')
    with pytest.raises(AssertionError, match=r"carries run times \['compute_s'\]"):
        check_experiment("toy-a", workdir=tmp_path)


def test_plugin_code_is_part_of_the_key(toy, monkeypatch):
    exp = ex.get_experiment("toy-a")
    before = cache.cache_key(exp, exp.config("quick"), 0)
    monkeypatch.setattr(fingerprint, "plugins_fingerprint",
                        lambda: [{"group": "biasprobe.measures", "name": "x", "version": "2", "code": "abc"}])
    assert cache.cache_key(exp, exp.config("quick"), 0) != before


def test_run_seed_and_results_dir_errors_are_one_line(toy, tmp_path, capsys):
    assert main(["run", "toy-a", "--seed", "-1"]) == 2
    assert "--seed must be >= 0" in capsys.readouterr().err
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["run", "toy-a", "--results-dir", str(f)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
