"""`biasprobe llc toy`: estimate beside theory in JSON, traces and figure, and one-line user errors with exit code 2."""

import json

import pandas as pd
import pytest

from biasprobe.cli import main


def test_llc_toy_writes_json_with_theory_and_hyperparameters(tmp_path, capsys):
    out = tmp_path / "out.json"
    rc = main(["llc", "toy", "rrr", "--set", "M=2", "--set", "H=1", "--set", "N=2", "--set", "n=2000",
               "--step", "1e-3", "--gamma", "10", "--draws", "150", "--seed", "3", "-o", str(out),
               "--trace", str(tmp_path / "t.csv"), "--plot", str(tmp_path / "t.png")])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert doc["theory"] == {"llc": 1.0, "branch": "main-odd", "multiplicity": None}
    assert doc["llc"] > 0 and doc["llc_se"] > 0 and doc["seed"] == 3
    hp = doc["hyperparameters"]
    assert hp["step"] == 1e-3 and hp["gamma"] == 10 and hp["chains"] == 8 and hp["draws"] == 150
    assert hp["automatic"] is False and hp["nbeta"] == pytest.approx(2000 / __import__("math").log(2000))
    assert doc["parameters"]["M"] == 2 and doc["dim"] == 4
    assert len(pd.read_csv(tmp_path / "t.csv")) == 8 * (150 + 100)
    assert (tmp_path / "t.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "theory λ = 1" in printed and "λ̂ =" in printed


def test_llc_toy_automatic(tmp_path):
    out = tmp_path / "auto.json"
    assert main(["llc", "toy", "regular", "--set", "d=2", "--set", "n=1000", "--draws", "200", "--chains", "4",
                 "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["hyperparameters"]["automatic"] is True and doc["auto_sweep"]["rows"]
    assert sum(r["chosen"] for r in doc["auto_sweep"]["rows"]) == 1
    assert abs(doc["llc"] - 1.0) < 0.3  # d/2, with a short automatic run


@pytest.mark.parametrize("argv,fragment", [
    (["llc", "toy", "rrx"], "unknown toy model 'rrx' (did you mean: rrr?)"),
    (["llc", "toy", "rrr", "--set", "Q=3"], "unknown parameter of toy rrr 'Q'"),
    (["llc", "tooy", "rrr"], "unknown llc target 'tooy'"),
    (["llc", "toy", "rrr", "--step", "0", "--gamma", "1"], "--step must be > 0"),
    (["llc", "toy", "rrr", "--step", "1e-3", "--gamma", "-2"], "--gamma must be > 0"),
    (["llc", "toy", "rrr", "--chains", "0"], "--chains must be >= 1"),
    (["llc", "toy", "rrr", "--draws", "0"], "--draws must be >= 1"),
    (["llc", "toy", "rrr", "--draws", "ten"], "--draws 'ten' is not a whole number"),
    (["llc", "toy", "rrr", "--step", "1e-3"], "give both --step and --gamma"),
    (["llc", "toy", "regular", "--set", "d=0"], "d must be an integer >= 1"),  # a model without parameters
    (["llc", "toy", "dln", "--set", "widths=3"], "needs at least 2 layer widths"),
    (["llc", "toy", "rrr", "--set", "r=9"], "cannot exceed"),
])
def test_user_errors_are_one_line_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err and "Traceback" not in err
