"""`biasprobe measure`: csv and parquet in/out, domain from the provenance sidecar, one-line user errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from biasprobe.cli import main
from biasprobe.tableio import write_frame
from biasprobe.tables import bits_to_hex


def majority7():
    i = np.arange(128)
    return (np.array([bin(k).count("1") for k in i]) >= 4).astype(np.uint8)


def parity7():
    return np.array([bin(k).count("1") % 2 for k in range(128)], dtype=np.uint8)


@pytest.fixture
def counts(tmp_path):
    tables = np.stack([majority7(), parity7(), np.zeros(128, np.uint8), majority7()])
    frame = pd.DataFrame({"function": bits_to_hex(tables[:3]), "count": [5, 3, 2]})
    path = tmp_path / "counts.csv"
    write_frame(frame, path, {"domain": "bool:7", "seed": 0})
    return path


def test_csv_with_domain_from_sidecar(counts, tmp_path, capsys):
    out = tmp_path / "measured.csv"
    assert main(["measure", "lz,entropy,csr", "--in", str(counts), "-o", str(out)]) == 0
    frame = pd.read_csv(out, dtype={"function": str})
    assert frame["lz"].tolist() == [70.0, 91.0, 7.0]  # docs/definitions.md §2 unit table
    assert frame["entropy"].tolist() == [1.0, 1.0, 0.0]
    assert frame["csr"].tolist() == [70 / 128, 1.0, 0.0]
    assert frame["count"].tolist() == [5, 3, 2]
    record = json.loads((tmp_path / "measured.csv.json").read_text())
    assert record["domain"] == "bool:7" and record["measures"]["names"] == ["lz", "entropy", "csr"]
    assert "3 distinct functions" in capsys.readouterr().out


def test_parquet_in_and_out_with_explicit_domain(counts, tmp_path):
    src = tmp_path / "c.parquet"
    pd.read_csv(counts, dtype={"function": str}).to_parquet(src)
    out = tmp_path / "m.parquet"
    assert main(["measure", "sensitivity", "--in", str(src), "-o", str(out), "--domain", "bool:7"]) == 0
    assert pd.read_parquet(out)["sensitivity"].tolist() == [0.3125, 1.0, 0.0]


def test_sampled_slow_measure_has_nan_and_flag(counts, tmp_path):
    out = tmp_path / "m.csv"
    assert main(["measure", "boolean", "--in", str(counts), "-o", str(out), "--sample", "1", "--seed", "3"]) == 0
    frame = pd.read_csv(out)
    assert frame["boolean_measured"].sum() == 1
    assert frame["boolean"].isna().sum() == 2


@pytest.mark.parametrize("argv, message", [
    (["measure", "lzz", "--in", "{src}", "-o", "{dst}"], "unknown measure 'lzz' (did you mean: lz"),
    (["measure", "mean_frequency", "--in", "{src}", "-o", "{dst}"], "applies to: grid"),
    (["measure", "lz", "--in", "{tmp}/missing.csv", "-o", "{dst}"], "does not exist"),
    (["measure", "lz", "--in", "{src}", "-o", "{tmp}/out.txt"], "unknown format '.txt'"),
    (["measure", "lz", "--in", "{src}", "-o", "{dst}", "--domain", "bool:x"], "bad domain"),
    (["measure", "lz", "--in", "{src}", "-o", "{dst}", "--domain", "bool:6"],
     "is not a truth table of domain bool:6 (16 hex digits for its 64 inputs)"),
])
def test_user_errors_are_one_line_exit_2(counts, tmp_path, capsys, argv, message):
    argv = [a.format(src=counts, dst=tmp_path / "o.csv", tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_domain_without_sidecar(tmp_path, capsys):
    src = tmp_path / "bare.csv"
    pd.DataFrame({"function": bits_to_hex(parity7()[None, :]), "count": [1]}).to_csv(src, index=False)
    assert main(["measure", "lz", "--in", str(src), "-o", str(tmp_path / "o.csv")]) == 2
    assert "--domain" in capsys.readouterr().err
