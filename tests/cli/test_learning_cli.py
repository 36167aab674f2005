"""`biasprobe posterior` and `biasprobe train`: tables, sidecars, the --from path, and one-line user errors (exit 2)."""

import json

import pandas as pd
import pytest

from biasprobe.cli import main

X1_5 = "0000ffff"  # x_1 on bool:5


def _sorted(frame):
    key = list(zip(-frame["count"], frame["function"].map(lambda h: int(h, 16))))
    return key == sorted(key)


def test_posterior_sampled_and_from_stored_table_agree(tmp_path):
    common = ["--target", X1_5, "--train-size", "6", "--split-seed", "2"]
    post = tmp_path / "post.csv"
    assert main(["posterior", "mlp", "--domain", "bool:5", "--samples", "20000", "--seed", "3", "--set", "hidden=8",
                 *common, "-o", str(post), "--no-progress", "--measures", "lz"]) == 0
    frame = pd.read_csv(post, dtype={"function": str})
    assert list(frame.columns) == ["function", "count", "test_error", "lz"] and _sorted(frame)
    side = json.loads((tmp_path / "post.csv.json").read_text())
    assert side["target"] == X1_5 and side["m"] == 6 and side["samples"] == 20000
    assert side["accepted"] == frame["count"].sum() > 0 and side["p_s"] == side["accepted"] / 20000
    assert side["p_s_lo"] < side["p_s"] < side["p_s_hi"] and side["p_s_interval"].startswith("clopper-pearson")
    assert side["test_error_lo"] < side["test_error_mean"] < side["test_error_hi"]
    assert side["provenance"]["prior"] == "mlp" and side["provenance"]["seed"] == 3
    assert "git_commit" in side["provenance"] and side["provenance"]["versions"]["torch"].startswith("2.13")

    counts = tmp_path / "counts.parquet"
    assert main(["sample", "mlp", "--domain", "bool:5", "--samples", "20000", "--seed", "3", "--set", "hidden=8",
                 "-o", str(counts), "--no-progress"]) == 0
    again = tmp_path / "again.parquet"
    assert main(["posterior", "--from", str(counts), *common, "-o", str(again)]) == 0
    assert pd.read_parquet(again).equals(frame.drop(columns="lz"))
    side2 = json.loads((tmp_path / "again.parquet.json").read_text())
    assert side2["accepted"] == side["accepted"] and side2["mask"] == side["mask"]


def test_posterior_with_nothing_accepted_reports_the_bound(tmp_path, capsys):
    # bias-free perceptron: the origin labelled 1 can never be fitted
    out = tmp_path / "none.csv"
    assert main(["posterior", "perceptron", "--set", "bias=false", "--domain", "bool:3", "--target", "80",
                 "--train", "81", "--samples", "5000", "-o", str(out), "--no-progress"]) == 0
    side = json.loads((tmp_path / "none.csv.json").read_text())
    assert side["accepted"] == 0 and side["p_s"] == 0 and side["test_error_mean"] is None
    assert "nothing accepted" in side["note"] and side["p_s_upper"] > 0
    assert len(pd.read_csv(out)) == 0
    assert "nothing accepted" in capsys.readouterr().err


def test_train_writes_the_posterior_shape(tmp_path):
    out = tmp_path / "sgd.csv"
    assert main(["train", "perceptron", "--domain", "bool:4", "--target", "00ff", "--train-size", "8",
                 "--runs", "6", "--optimizer", "adam", "--lr", "0.05", "--batch-size", "full", "--loss", "mse",
                 "--max-epochs", "300", "--epochs-after-fit", "2", "--workers", "1", "-o", str(out)]) == 0
    frame = pd.read_csv(out, dtype={"function": str})
    assert list(frame.columns) == ["function", "count", "test_error"] and _sorted(frame)
    side = json.loads((tmp_path / "sgd.csv.json").read_text())
    assert side["runs"] == 6 and side["fitted"] + side["never_fit"] + side["lost_fit"] + side["nonfinite"] == 6
    assert side["fitted"] == frame["count"].sum()
    assert side["training"]["optimizer"] == "adam" and side["training"]["batch_size"] == "full"
    assert side["fit_epochs"]["median"] is not None and side["prior"] == "perceptron"


@pytest.mark.parametrize("argv, message", [
    (["posterior", "mlp", "--target", "ff", "--train-size", "3"], "hex digits"),
    (["posterior", "mlp", "--target", "0" * 32, "--train", "0" * 32], "no training inputs"),
    (["posterior", "mlp", "--target", "0" * 32, "--train", "f" * 32], "test input"),
    (["posterior", "mlp", "--target", "0" * 32, "--train-size", "200"], "--train-size"),
    (["posterior", "--target", "0" * 32, "--train-size", "3"], "name a prior"),
    (["posterior", "mlp", "--from", "nowhere.csv", "--target", "0" * 32, "--train-size", "3"], "drop the prior"),
    (["posterior", "--from", "nowhere.csv", "--target", "0" * 32, "--train-size", "3"], "does not exist"),
    (["train", "mlp", "--target", "0" * 32, "--train-size", "3", "--optimizer", "lbfgs"], "optimizer"),
    (["train", "mlp", "--target", "0" * 32, "--train-size", "3", "--loss", "hinge"], "loss"),
    (["train", "mlp", "--target", "0" * 32, "--train-size", "3", "--batch-size", "half"], "--batch-size"),
    (["train", "mlp", "--target", "0" * 32, "--train-size", "3", "--preset", "keras"], "preset"),
    (["train", "mlp", "--domain", "grid:2:4", "--target", "0000", "--train-size", "3"], "Boolean"),
    (["train", "counting", "--target", "0" * 32, "--train-size", "3"], "not a network"),
    (["train", "mlp", "--target", "0" * 32, "--train-size", "3", "--optimizer", "adam", "--momentum", "0.5"],
     "momentum"),
])
def test_bad_input_is_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
