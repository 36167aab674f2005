"""`biasprobe sample`: output files, provenance sidecar, and one-line user errors with exit code 2."""

import json
import math

import pandas as pd
import pytest

from biasprobe.cli import main


def test_sample_writes_sorted_csv_and_sidecar(tmp_path, capsys):
    out = tmp_path / "counts.csv"
    rc = main(["sample", "perceptron", "--domain", "bool:2", "--samples", "2e4", "--seed", "3",
               "--set", "sigma_b=0.5", "-o", str(out), "--no-progress"])
    assert rc == 0
    frame = pd.read_csv(out, dtype={"function": str})
    assert list(frame.columns) == ["function", "count"]
    assert frame["count"].sum() == 20000
    assert not set(frame["function"]) & {"6", "9"}
    key = list(zip(-frame["count"], frame["function"].map(lambda h: int(h, 16))))
    assert key == sorted(key)
    prov = json.loads((tmp_path / "counts.csv.json").read_text())
    assert prov["prior"] == "perceptron" and prov["parameters"]["sigma_b"] == 0.5
    assert prov["domain"] == "bool:2" and prov["seed"] == 3 and prov["samples"] == 20000
    assert prov["nonfinite"] == 0 and prov["versions"]["torch"].startswith("2.13.0")
    assert "git_commit" in prov and prov["wall_time_s"] >= 0


def test_sample_parquet_matches_csv(tmp_path):
    args = ["sample", "mlp", "--domain", "bool:3", "--samples", "3000", "--set", "hidden=6", "--no-progress"]
    assert main(args + ["-o", str(tmp_path / "a.csv")]) == 0
    assert main(args + ["-o", str(tmp_path / "a.parquet"), "--workers", "1", "--batch-size", "7"]) == 0
    a = pd.read_csv(tmp_path / "a.csv", dtype={"function": str})
    b = pd.read_parquet(tmp_path / "a.parquet")
    assert a.equals(b)


def test_sample_with_measures(tmp_path):
    pytest.importorskip("biasprobe.measures")
    from biasprobe import measures

    if not hasattr(measures, "measure_table"):
        pytest.skip("measure_table not built yet")
    out = tmp_path / "m.csv"
    assert main(["sample", "counting", "--domain", "bool:7", "--samples", "50", "--measures", "entropy",
                 "-o", str(out), "--no-progress"]) == 0
    frame = pd.read_csv(out, dtype={"function": str})
    # entropy of T/128 from the hex name, computed independently
    t = frame["function"].map(lambda h: bin(int(h, 16)).count("1"))
    p = t / 128
    h = -(p * p.map(math.log2) + (1 - p) * (1 - p).map(math.log2))
    assert (frame["entropy"] - h).abs().max() < 1e-9


@pytest.mark.parametrize("argv,fragment", [
    (["sample", "mlpp"], "unknown prior 'mlpp' (did you mean: mlp?)"),
    (["sample", "mlp", "--set", "hiden=40"], "did you mean: hidden"),
    (["sample", "mlp", "--set", "sigma_w=abc"], "sigma_w='abc'"),
    (["sample", "mlp", "--set", "activation=relux"], "did you mean: relu"),
    (["sample", "mlp", "--set", "nokey"], "KEY=VALUE"),
    (["sample", "mlp", "--domain", "bool:x"], "bad domain 'bool:x'"),
    (["sample", "mlp", "--domain", "cube:3"], "unknown kind 'cube'"),
    (["sample", "mlp", "--samples", "0"], "--samples must be >= 1"),
    (["sample", "mlp", "--samples=-1e3"], "--samples must be >= 1"),
    (["sample", "mlp", "--samples", "lots"], "--samples 'lots'"),
    (["sample", "mlp", "--seed=-1"], "--seed"),
    (["sample", "mlp", "--workers", "0"], "--workers"),
    (["sample", "mlp", "--device", "tpu"], "unknown device 'tpu'"),
    (["sample", "mlp", "-o", "out.txt"], "unknown format '.txt'"),
    (["sample", "mlp", "-o", "/no/such/dir/x.csv"], "does not exist"),
    (["sample", "mlp", "--measures", "lzz"], "unknown measure 'lzz'"),
])
def test_user_errors_are_one_line_exit_2(argv, fragment, capsys):
    if "--measures" in argv:
        pytest.importorskip("biasprobe.measures")
    rc = main(argv + ["--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_chunked_writing_equals_one_frame(tmp_path, monkeypatch):
    from biasprobe.commands import sample as sample_cmd

    monkeypatch.setattr(sample_cmd, "CHUNK", 7)
    args = ["sample", "counting", "--domain", "bool:3", "--samples", "500", "--no-progress"]
    assert main(args + ["-o", str(tmp_path / "c.csv")]) == 0
    assert main(args + ["-o", str(tmp_path / "c.parquet")]) == 0
    a = pd.read_csv(tmp_path / "c.csv", dtype={"function": str})
    b = pd.read_parquet(tmp_path / "c.parquet")
    assert len(a) > 7 * 3 and a["count"].sum() == 500
    assert a.equals(b)
    assert a["function"].str.len().eq(2).all()
