"""`biasprobe sample` with --run-dir, exact counts and seeds, and output paths refused before any sampling starts."""

import json
import time

import pandas as pd
import pytest

from biasprobe.cli import main
from biasprobe.commands.sample import parse_count
from biasprobe.errors import UserError

BASE = ["sample", "counting", "--domain", "bool:3", "--no-progress"]


@pytest.mark.parametrize("text,value", [("1e6", 10**6), ("1E+30", 10**30), ("10**30", 10**30), ("1_000", 1000),
                                        ("2.5e1", 25), ("123456789012345678901234567890", 123456789012345678901234567890)])
def test_counts_parse_exactly(text, value):
    assert parse_count(text, "--seed", minimum=0) == value


@pytest.mark.parametrize("text", ["2.5", "1e-3", "nan", "inf", "0x10", "1e1000000000", "10**100000", "", "1e"])
def test_counts_that_are_not_whole_numbers_or_too_long_are_refused(text):
    with pytest.raises(UserError):
        parse_count(text, "--samples")


def test_a_huge_seed_is_exact_and_huge_samples_are_refused(tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert main(BASE + ["--samples", "100", "--seed", "1e30", "-o", str(out)]) == 0
    assert json.loads((tmp_path / "c.csv.json").read_text())["seed"] == 10**30
    capsys.readouterr()
    t = time.perf_counter()
    assert main(BASE + ["--samples", "1e30"]) == 2
    err = capsys.readouterr().err
    assert "beyond what the engine runs" in err and err.count("\n") == 1 and time.perf_counter() - t < 10


def test_output_paths_are_checked_before_sampling(tmp_path, capsys):
    (tmp_path / "d.csv").mkdir()
    (tmp_path / "f").write_text("x")
    cases = [(tmp_path / "d.csv", "is a folder"), (tmp_path / "f" / "x.csv", "which is a file"),
             ("/proc/biasprobe-counts.csv", "is not writable"), (tmp_path / "no" / "x.csv", "does not exist")]
    for path, fragment in cases:
        t = time.perf_counter()
        rc = main(BASE + ["--samples", "1e14", "-o", str(path)])  # would run for years if it started
        err = capsys.readouterr().err
        assert rc == 2 and fragment in err and err.count("\n") == 1, err
        assert time.perf_counter() - t < 10


def test_run_dir_cli_matches_the_in_memory_table_and_exports(tmp_path, capsys):
    args = ["sample", "mlp", "--set", "hidden=5", "--domain", "bool:4", "--samples", "20000", "--seed", "2",
            "--no-progress"]
    assert main(args + ["-o", str(tmp_path / "mem.csv")]) == 0
    assert main(args + ["--run-dir", str(tmp_path / "run"), "--executor", "inline", "--shard-size", "5000",
                        "--max-memory", "64MiB", "-o", str(tmp_path / "run.csv")]) == 0
    err = capsys.readouterr().err
    assert "0 already done" in err and "run)" in err
    a = pd.read_csv(tmp_path / "mem.csv", dtype={"function": str})
    b = pd.read_csv(tmp_path / "run.csv", dtype={"function": str})
    assert a.equals(b)
    assert main(args + ["--run-dir", str(tmp_path / "run"), "--executor", "inline"]) == 0
    # shard size 5,000 rounds up to two 4,096-draw blocks: 20,000 draws are three shards, all done now
    assert "3 of 3 shards already done; running 0" in capsys.readouterr().err


@pytest.mark.parametrize("extra,fragment", [
    (["--executor", "spark"], "unknown executor 'spark'"),
    (["--executor", "dask"], "--scheduler"),
    (["--max-memory", "lots"], "not a size"),
    (["--max-memory", "1MiB"], "below the 16 MiB"),
    (["--shard-size", "0"], "--shard-size must be >= 1"),
    (["--batch-size", "10"], "--batch-size is not used"),
])
def test_run_dir_mistakes_are_one_line(tmp_path, capsys, extra, fragment):
    rc = main(BASE + ["--samples", "100", "--run-dir", str(tmp_path / "r")] + extra)
    err = capsys.readouterr().err
    assert rc == 2 and fragment in err and err.count("\n") == 1, err


def test_run_dir_flags_need_a_run_dir(capsys):
    assert main(BASE + ["--samples", "100", "--max-memory", "1GiB"]) == 2
    assert "--max-memory needs --run-dir" in capsys.readouterr().err
