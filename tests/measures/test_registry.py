"""Registry behaviour: user errors, lazy entry-point plug-ins, measure_table's distinct and sampled evaluation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.measures import compute, describe_measures, get_measure, list_measures, measure_table, registry
from biasprobe.tables import bits_to_hex
from biasprobe.testing import check_measure, check_measure_basic as check_basic, check_measure_invariance as check_invariance
from measure_helpers import majority, parity

BOOL7 = parse_domain("bool:7")

PLUGIN = '''
"""A third-party measure, as a user would write it."""
import numpy as np
from biasprobe.measures import register_measure


@register_measure("demo_alternations", domains=("boolean", "grid"), bounds=(0, lambda d: d.n_points - 1),
                  invariant_under=("complement", "reverse"))
def demo_alternations(tables, domain):
    """Adjacent inputs (in enumeration order) with different outputs."""
    bits = tables > 0 if tables.dtype.kind == "f" else tables
    return (bits[:, 1:] != bits[:, :-1]).sum(axis=1).astype(np.float64)
'''


@pytest.fixture
def plugin(tmp_path, fake_dist):
    fake_dist("bp-plugin-demo", "[biasprobe.measures]\ndemo_alternations = bp_plugin_demo\n",
              {"bp_plugin_demo": PLUGIN})
    yield tmp_path
    registry.MEASURES.remove("demo_alternations")
    registry.MEASURES._loaded.discard("demo_alternations")
    sys.modules.pop("bp_plugin_demo", None)


def test_unknown_name_lists_close_matches_and_known_names():
    with pytest.raises(UserError, match=r"unknown measure 'lzz' \(did you mean: lz.*known: .*entropy"):
        compute(["lzz"], np.zeros((1, 128), np.uint8), BOOL7)


def test_wrong_domain_family_names_the_valid_ones():
    with pytest.raises(UserError, match="'sensitivity' does not apply to grid .* applies to: boolean"):
        compute("sensitivity", np.zeros((1, 16)), parse_domain("grid:2:4"))


@pytest.mark.parametrize("bad", [np.zeros((2, 64), np.uint8), np.full((1, 128), 2, np.uint8),
                                 np.full((1, 128), 0.5)])
def test_bad_tables(bad):
    with pytest.raises(UserError):
        compute("lz", bad, BOOL7)


def test_names_as_comma_string_and_duplicates():
    out = compute("lz, entropy,lz", majority(7), BOOL7)
    assert list(out) == ["lz", "entropy"]


def test_plugin_loads_lazily_and_passes_the_common_checks(plugin):
    assert "bp_plugin_demo" not in sys.modules
    get_measure("lz")  # built-in lookups do not import plug-ins
    assert "bp_plugin_demo" not in sys.modules
    assert "demo_alternations" in list_measures()
    assert "bp_plugin_demo" in sys.modules
    assert "demo_alternations" in describe_measures()
    t = np.array([[0, 1, 1, 0, 1, 0, 0, 0]], np.uint8)
    assert compute("demo_alternations", t, parse_domain("bool:3"))["demo_alternations"][0] == 4
    check_basic("demo_alternations", "boolean")
    check_basic("demo_alternations", "grid")
    check_invariance("demo_alternations", "boolean", "reverse")
    check_invariance("demo_alternations", "grid", "complement")
    check_measure("demo_alternations")


def test_plugin_found_by_name_on_first_lookup(plugin):
    assert get_measure("demo_alternations").bounds[0] == 0


def test_plugin_shows_in_biasprobe_list_measures(plugin):
    env_path = f"{plugin}:{':'.join(p for p in sys.path if p)}"
    out = subprocess.run([sys.executable, "-m", "biasprobe", "list", "measures"], capture_output=True, text=True,
                         env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "demo_alternations" in out.stdout and "Adjacent inputs" in out.stdout


def test_import_is_light():
    """Importing the registry must not pull in numba, torch or pyeda (start-up time)."""
    code = "import sys, biasprobe.measures; print(sorted(m for m in ('numba', 'torch', 'pyeda') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def frame_of(tables, counts=None):
    names = bits_to_hex(tables)
    return pd.DataFrame({"function": names, "count": counts if counts is not None else np.arange(len(names)) + 1})


def test_measure_table_measures_each_distinct_function_once(monkeypatch):
    rng = np.random.default_rng(2)
    distinct = rng.integers(0, 2, (5, 128)).astype(np.uint8)
    rows = distinct[[0, 1, 0, 2, 3, 4, 4, 0]]
    frame = frame_of(rows)
    frame.loc[2, "function"] = frame.loc[2, "function"].upper()  # same function, other spelling
    seen = []
    original = registry.compute

    def spy(names, tables, domain, workers=None):
        seen.append(len(tables))
        return original(names, tables, domain, workers)

    monkeypatch.setattr("biasprobe.measures.table.compute", spy)
    out = measure_table(frame, ["lz", "entropy"], BOOL7)
    assert seen == [5]
    ref = compute(["lz", "entropy"], rows, BOOL7)
    np.testing.assert_array_equal(out["lz"], ref["lz"])
    np.testing.assert_array_equal(out["entropy"], ref["entropy"])
    assert list(out.columns) == ["function", "count", "lz", "entropy"]
    assert "lz" not in frame.columns  # the input is not modified


def test_measure_table_samples_slow_measures_with_nan_and_a_flag():
    rng = np.random.default_rng(4)
    tables = rng.integers(0, 2, (30, 8)).astype(np.uint8)
    tables = np.unique(tables, axis=0)
    frame = frame_of(np.concatenate([tables, tables[:3]]))
    domain = parse_domain("bool:3")
    a = measure_table(frame, ["boolean", "ones"], domain, sample=7, seed=1)
    measured = a["boolean_measured"].to_numpy()
    assert a.loc[measured, "function"].nunique() == 7
    assert a.loc[~measured, "boolean"].isna().all() and a.loc[measured, "boolean"].notna().all()
    assert a["ones"].notna().all() and "ones_measured" not in a.columns
    truth = compute("boolean", np.stack([t for t, m in zip(np.concatenate([tables, tables[:3]]), measured) if m]),
                    domain)["boolean"]
    np.testing.assert_array_equal(a.loc[measured, "boolean"].to_numpy(), truth)
    b = measure_table(frame, ["boolean"], domain, sample=7, seed=1)
    pd.testing.assert_series_equal(a["boolean_measured"], b["boolean_measured"])  # same seed, same choice
    c = measure_table(frame, ["boolean"], domain, sample=7, seed=2)
    assert not c["boolean_measured"].equals(a["boolean_measured"])
    small = measure_table(frame, ["boolean"], domain, sample=3, seed=1)
    assert (small["boolean_measured"] <= a["boolean_measured"]).all()  # nested: a prefix of the same permutation
    full = measure_table(frame, ["boolean"], domain)  # default cap (2000) exceeds the distinct count
    assert full["boolean_measured"].all()


def test_measure_table_on_a_grid_uses_signs():
    domain = parse_domain("grid:2:4")
    y = domain.points[:, 0][None, :] * np.array([[1.0], [-1.0]])
    frame = frame_of((y > 0).astype(np.uint8))
    out = measure_table(frame, ["lz", "sign_changes", "mean_frequency"], domain)
    ref = compute(["lz", "sign_changes", "mean_frequency"], np.sign(y), domain)
    for name in ref:
        np.testing.assert_allclose(out[name], ref[name])


def test_measure_table_user_errors():
    frame = frame_of(majority(7))
    with pytest.raises(UserError, match="no 'fn' column"):
        measure_table(frame, ["lz"], BOOL7, column="fn")
    with pytest.raises(UserError, match="not a truth table of 128 inputs"):
        measure_table(pd.DataFrame({"function": ["zz"]}), ["lz"], BOOL7)
    with pytest.raises(UserError, match="no measure names"):
        measure_table(frame, " , ", BOOL7)


def test_slow_measure_in_two_processes_matches_one(monkeypatch):
    """map_rows splits the batch over child processes; the values must not change."""
    monkeypatch.setattr("biasprobe.measures.circuit.MIN_ROWS_PER_PROCESS", 40)
    rng = np.random.default_rng(9)
    tables = np.concatenate([rng.integers(0, 2, (150, 16)).astype(np.uint8), parity(4)])
    domain = parse_domain("bool:4")
    one = compute("boolean", tables, domain, workers=1)["boolean"]
    two = compute("boolean", tables, domain, workers=2)["boolean"]
    np.testing.assert_array_equal(one, two)
    assert two[-1] == 31


def test_threaded_measures_give_the_same_values_split_or_not(monkeypatch):
    """Measures declaring threads=True are split row-wise over threads by compute; nothing may change."""
    from biasprobe.measures import get_measure, list_measures

    monkeypatch.setattr(registry, "MIN_ROWS_PER_THREAD", 3)
    rng = np.random.default_rng(12)
    cases = {"boolean": (parse_domain("bool:5"), rng.integers(0, 2, (23, 32)).astype(np.uint8)),
             "grid": (parse_domain("grid:2:6"), rng.standard_normal((23, 36))),
             "cloud": (parse_domain("gauss:2:30"), rng.standard_normal((23, 30)))}
    threaded = [n for n in list_measures() if get_measure(n).threads]
    assert {"sensitivity", "gc", "mean_frequency"} <= set(threaded)
    for name in threaded:
        for family in get_measure(name).domains:
            domain, tables = cases[family]
            one = compute(name, tables, domain, workers=1)[name]
            three = compute(name, tables, domain, workers=3)[name]
            np.testing.assert_array_equal(one, three, err_msg=name)


def test_a_name_clash_is_refused_but_reimport_is_fine():
    from biasprobe.measures import register_measure
    from biasprobe.measures.boolean import lz

    with pytest.raises(UserError, match=r"measure 'lz' is registered twice \(biasprobe.measures.boolean and"):
        register_measure("lz")(lambda tables, domain: tables.sum(axis=1))
    register_measure("lz", domains=("boolean", "grid"), bounds=get_measure("lz").bounds,
                     invariant_under=get_measure("lz").invariant_under)(lz)  # same function: a re-import
    assert get_measure("lz").func is lz


@pytest.mark.parametrize("spec", ["bool:1", "bool:2", "bool:3", "bool:7", "grid:2:5", "gauss:2:9"])
def test_measure_table_reads_every_spelling_of_the_names(spec):
    """Hex names of any length (odd digit counts included), upper case or 0x-prefixed, decode to the same bits."""
    domain = parse_domain(spec)
    rng = np.random.default_rng(len(spec))
    bits = rng.integers(0, 2, (50, domain.n_points)).astype(np.uint8)
    names = bits_to_hex(bits)
    for spelled in (names, [x.upper() for x in names], ["0x" + x for x in names], [" " + x + " " for x in names]):
        out = measure_table(pd.DataFrame({"function": spelled}), ["ones"], domain)
        np.testing.assert_array_equal(out["ones"], bits.sum(axis=1))


def test_measure_table_refuses_names_with_too_many_bits():
    with pytest.raises(UserError, match="more than 2 bits"):
        measure_table(pd.DataFrame({"function": ["4"]}), ["ones"], parse_domain("bool:1"))
    with pytest.raises(UserError, match="not a truth table"):
        measure_table(pd.DataFrame({"function": ["0g"]}), ["ones"], parse_domain("bool:3"))


def test_slow_measures_from_a_script_without_a_main_guard(tmp_path):
    """Child processes never re-run the caller's script: its top level runs once and the values arrive."""
    script = tmp_path / "noguard.py"
    script.write_text(
        "import numpy as np\n"
        "from biasprobe.domains import parse_domain\n"
        "from biasprobe.measures import compute\n"
        "import biasprobe.measures.circuit as c; c.MIN_ROWS_PER_PROCESS = 50\n"
        "t = np.zeros((200, 8), np.uint8); t[:, 0] = 1\n"
        "print('top', compute('boolean', t, parse_domain('bool:3'), workers=2)['boolean'].sum())\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["top", "400.0"]  # f = x1' x2' x3': 3 literals, 2 gates, 200 times


def test_a_failing_worker_is_reported():
    from biasprobe.measures._common import map_rows

    with pytest.raises(RuntimeError, match="measure worker .* failed"):
        map_rows(np.linalg.det, np.zeros((200, 3), np.uint8), min_rows=50)  # det of non-square rows raises


def test_chunking_changes_no_value(monkeypatch):
    """compute works in chunks of CHUNK_VALUES values; chunks of 2 rows give the same values as one chunk."""
    from biasprobe.measures import get_measure, list_measures

    rng = np.random.default_rng(21)
    cases = {"boolean": (parse_domain("bool:5@perm:2"), rng.integers(0, 2, (9, 32)).astype(np.uint8)),
             "grid": (parse_domain("grid:2:6@gray"), rng.standard_normal((9, 36))),
             "cloud": (parse_domain("gauss:2:30"), rng.standard_normal((9, 30)))}
    whole = {}
    for name in list_measures():
        for family in get_measure(name).domains:
            whole[name, family] = compute(name, cases[family][1], cases[family][0])[name]
    monkeypatch.setattr(registry, "CHUNK_VALUES", 64)
    for (name, family), values in whole.items():
        np.testing.assert_array_equal(compute(name, cases[family][1], cases[family][0])[name], values, err_msg=name)


def test_a_broken_plugin_is_skipped_with_a_warning(fake_dist):
    fake_dist("bp-broken", "[biasprobe.measures]\nbroken_measure = bp_no_such_module\n")
    try:
        with pytest.warns(RuntimeWarning, match="'broken_measure' .* failed to load"):
            names = list_measures()
        assert "lz" in names and "broken_measure" not in names
        with pytest.raises(UserError, match="unknown measure 'broken_measure'"):
            get_measure("broken_measure")
    finally:
        registry.MEASURES._loaded.discard("broken_measure")
        registry.MEASURES._failed.pop("broken_measure", None)


def test_slow_measure_children_never_import_from_the_working_directory(tmp_path, monkeypatch):
    """A numpy.py in the current directory must not be executed by the worker processes (python -P)."""
    marker = tmp_path / "ran"
    (tmp_path / "numpy.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("biasprobe.measures.circuit.MIN_ROWS_PER_PROCESS", 20)
    tables = np.zeros((60, 8), np.uint8)
    values = compute("boolean", tables, parse_domain("bool:3"), workers=2)["boolean"]
    assert (values == 0).all() and not marker.exists()


def test_a_measure_plugin_that_exits_on_import_does_not_end_the_cli(tmp_path, fake_dist, capsys):
    from biasprobe.cli import main

    fake_dist("bp-exit-measure", "[biasprobe.measures]\nexit_measure = bp_exit_measure\n",
              {"bp_exit_measure": "raise SystemExit(0)\n"})
    try:
        with pytest.warns(RuntimeWarning, match="'exit_measure'"):
            assert main(["list", "measures"]) == 0
        assert "lz" in capsys.readouterr().out
        src = tmp_path / "c.csv"
        src.write_text("function,count\nff,1\n")
        assert main(["measure", "nosuch", "--in", str(src), "-o", str(tmp_path / "o.csv"), "--domain", "bool:3"]) == 2
        assert "unknown measure 'nosuch'" in capsys.readouterr().err
    finally:
        registry.MEASURES._loaded.discard("exit_measure")
        registry.MEASURES._failed.pop("exit_measure", None)
        sys.modules.pop("bp_exit_measure", None)


@pytest.mark.parametrize("argv", [["measure", "ones", "--workers", "0"], ["sample", "counting", "--workers", "0"]])
def test_workers_zero_is_an_error_everywhere(argv, tmp_path, capsys):
    from biasprobe.cli import main

    src = tmp_path / "c.csv"
    src.write_text("function,count\nff,1\n")
    full = argv + (["--in", str(src), "-o", str(tmp_path / "o.csv"), "--domain", "bool:3"] if argv[0] == "measure"
                   else ["--samples", "5"])
    assert main(full) == 2
    assert "--workers must be >= 1" in capsys.readouterr().err
