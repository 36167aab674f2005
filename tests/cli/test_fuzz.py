"""Hostile input, generated: `sample` and `measure` end with exit 0 and valid output, or exit 2 and one line — never a traceback.

Runs in-process (fast); hypothesis draws domain strings, --set values, sample and seed texts,
hex names and whole file contents. Examples per test are capped so the file runs in seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biasprobe.cli import main
from biasprobe.tableio import write_frame
from biasprobe.tables import bits_to_hex

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
EXAMPLES = {"count": 0}


def _call(argv) -> tuple[int, str, str]:
    """Run the CLI in-process; anything but exit 0/2 (a traceback escaping main) fails the test."""
    out, err = io.StringIO(), io.StringIO()
    EXAMPLES["count"] += 1
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as stop:  # argparse usage errors
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def _one_line_or_ok(code, err, argv):
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, (argv, err)


small_int = st.integers(min_value=-3, max_value=12)
junk = st.text(alphabet="0123456789abcdefx:-+.@_ ef", min_size=0, max_size=8)
domain_strings = st.one_of(
    st.builds(lambda k, n: f"{k}:{n}", st.sampled_from(["bool", "pm1", "bol", "BOOL"]), st.one_of(small_int, junk)),
    st.builds(lambda d, m: f"grid:{d}:{m}", st.integers(-1, 3), st.integers(-1, 9)),
    st.builds(lambda d, m, s: f"gauss:{d}:{m}:{s}", st.integers(-1, 3), st.integers(-1, 30), st.integers(-2, 5)),
    st.builds(lambda base, order: f"{base}@{order}", st.sampled_from(["bool:4", "pm1:3", "grid:2:4", "gauss:2:9"]),
              st.one_of(st.sampled_from(["gray", "lex", "perm", "perm:3", "perm:-1", "perm:x", "zig"]), junk)),
    junk,
)
count_texts = st.one_of(st.integers(-5, 300).map(str), st.sampled_from(["1e2", "1e30", "1.5", "abc", "", "10**2",
                                                                         "1_00", "nan", "inf", "-0", "2**99999"]))
set_values = st.one_of(st.sampled_from(["1", "0", "-1", "1e39", "nan", "inf", "true", "maybe", "40,40", "0,5", "",
                                        "relu", "tanh", "rellu", "a", "b", "z", "ptf", "network", "uniform"]), junk)
prior_keys = st.sampled_from(["hidden", "activation", "sigma_w", "sigma_b", "weights", "bias_scaling", "convention",
                              "bias", "family", "degree", "nosuch"])


@FUZZ
@given(prior=st.sampled_from(["mlp", "perceptron", "counting", "polynomial", "mpl"]), domain=domain_strings,
       samples=count_texts, seed=count_texts,
       sets=st.lists(st.builds(lambda k, v: f"{k}={v}", prior_keys, set_values), max_size=3))
def test_sample_never_tracebacks(prior, domain, samples, seed, sets):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "c.csv"
        argv = ["sample", prior, "--domain", domain, "--samples", samples, "--seed", seed, "--workers", "1",
                "-o", out, "--no-progress"] + [x for s in sets for x in ("--set", s)]
        code, _, err = _call(argv)
        _one_line_or_ok(code, err, argv)
        if code == 0:
            frame = pd.read_csv(out, dtype={"function": str})
            side = json.loads((Path(tmp) / "c.csv.json").read_text())
            assert frame["count"].sum() + side["nonfinite"] == side["samples"]
        else:
            assert not out.exists() and not (Path(tmp) / "c.csv.json").exists()  # no partial output


hex_chars = st.text(alphabet="0123456789abcdefABCDEFxg-+ _\u0663\uff46", min_size=0, max_size=40)


@FUZZ
@given(names=st.lists(st.one_of(hex_chars, st.sampled_from(["ff", "0x" + "f" * 32, "f" * 32, "F" * 32, "30713"])),
                      min_size=1, max_size=5),
       counts=st.lists(st.one_of(st.integers(-2, 5).map(str), st.sampled_from(["1.5", "x", "", "1e3"])),
                       min_size=5, max_size=5),
       domain=st.sampled_from(["bool:7", "bool:5", "pm1:7", "bool:x", None]),
       measures=st.sampled_from(["lz", "entropy,csr", "lzz", "mean_frequency", "boolean", " , "]))
def test_measure_never_tracebacks_on_any_table(names, counts, domain, measures):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.csv"
        lines = ["function,count"] + [f"{n},{c}" for n, c in zip(names, counts)]
        src.write_text("\n".join(lines) + "\n")
        out = Path(tmp) / "out.csv"
        argv = ["measure", measures, "--in", src, "-o", out] + (["--domain", domain] if domain else [])
        code, _, err = _call(argv)
        _one_line_or_ok(code, err, argv)
        if code == 0:
            assert domain is not None and len(pd.read_csv(out, dtype={"function": str})) == len(names)


@FUZZ
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
       suffix=st.sampled_from([".csv", ".parquet", ".CSV", ".pq"]),
       sidecar=st.one_of(st.none(), st.binary(max_size=60), st.just(b'{"domain": "bool:7"}'),
                         st.just(b'["bool:7"]'), st.just(b"\xff\xfe")))
def test_measure_never_tracebacks_on_any_file(content, suffix, sidecar):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in{suffix}"
        src.write_bytes(content)
        if sidecar is not None:
            (Path(tmp) / f"in{suffix}.json").write_bytes(sidecar)
        for extra in ([], ["--domain", "bool:3"]):
            argv = ["measure", "ones", "--in", src, "-o", Path(tmp) / "out.csv", *extra]
            code, _, err = _call(argv)
            _one_line_or_ok(code, err, argv)


def test_measure_refuses_what_it_cannot_trust(tmp_path, capsys):
    """The hostile cases of the hardening issue, one by one."""
    bits = np.zeros((2, 32), np.uint8)
    bits[0, 0] = 1
    good = tmp_path / "good.csv"
    write_frame(pd.DataFrame({"function": bits_to_hex(bits), "count": [3, 2]}), good, {"domain": "bool:5"})
    cases = {
        "short name": ("function,count\nffffffff,3\nff,2\n", "bool:5", "row 2: function 'ff'"),
        "truncated tail": ("function,count\nffffffff,3\n30713", "bool:5", "row 2"),
        "wider sidecar": (None, "bool:7", "not a truth table of domain bool:7"),
        "signed": ("function,count\n+fffffff,3\n", "bool:5", "row 1"),
        "double prefix": ("function,count\n0x0xffff,3\n", "bool:4", "row 1"),
        "negative count": ("function,count\nffffffff,-3\n", "bool:5", "count '-3'"),
    }
    for label, (text, dom, fragment) in cases.items():
        src = tmp_path / f"{label.replace(' ', '_')}.csv"
        if text is None:
            src.write_bytes(good.read_bytes())
        else:
            src.write_text(text)
        assert main(["measure", "ones", "--in", str(src), "-o", str(tmp_path / "o.csv"), "--domain", dom]) == 2, label
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1, (label, err)
    # a sidecar naming another domain than the table's width: refused without --domain
    src = tmp_path / "lying.csv"
    src.write_bytes(good.read_bytes())
    (tmp_path / "lying.csv.json").write_text(json.dumps({"domain": "bool:7", "table_sha256": "0" * 64}))
    assert main(["measure", "ones", "--in", str(src), "-o", str(tmp_path / "o.csv")]) == 2
    assert "does not describe this table" in capsys.readouterr().err
    # an integer parquet column is not read as hex
    pq = tmp_path / "ints.parquet"
    pd.DataFrame({"function": [255, 16], "count": [1, 1]}).to_parquet(pq)
    assert main(["measure", "ones", "--in", str(pq), "-o", str(tmp_path / "o.csv"), "--domain", "bool:3"]) == 2
    assert "is not text" in capsys.readouterr().err


def test_measure_in_place_keeps_the_input_when_the_write_fails(tmp_path, monkeypatch):
    src = tmp_path / "c.csv"
    bits = np.eye(8, dtype=np.uint8)
    write_frame(pd.DataFrame({"function": bits_to_hex(bits), "count": np.arange(1, 9)}), src, {"domain": "bool:3"})
    before = src.read_bytes(), (tmp_path / "c.csv.json").read_bytes()

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    assert main(["measure", "ones", "--in", str(src), "-o", str(src)]) == 2
    assert (src.read_bytes(), (tmp_path / "c.csv.json").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.csv.json"]  # no temporaries left
    monkeypatch.undo()
    assert main(["measure", "ones", "--in", str(src), "-o", str(src)]) == 0  # and in place works
    assert pd.read_csv(src, dtype={"function": str})["ones"].tolist() == [1.0] * 8


def test_output_paths_are_checked_before_sampling(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    cases = [(tmp_path, "is a folder"), (f / "c.csv", "which is a file"), (tmp_path / "no" / "c.csv", "does not exist"),
             (tmp_path / "c.txt", "unknown format")]
    if os.geteuid() != 0:  # root writes anywhere
        cases.append((ro / "c.csv", "not writable"))
    for path, fragment in cases:
        # 1e9 draws would take minutes: the error must come first
        assert main(["sample", "mlp", "--samples", "1e9", "-o", str(path)]) == 2, path
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1, (path, err)


def test_fuzz_ran_enough_examples():
    """A guard that the generated tests above really ran (hypothesis can silently shrink to nothing)."""
    assert EXAMPLES["count"] >= 150, EXAMPLES


def test_an_interrupted_write_leaves_the_old_pair_and_no_temporaries(tmp_path, monkeypatch):
    """Ctrl-C (or a kill) while `sample -o` writes: the previous table and sidecar stay, matched, and nothing else."""
    out = tmp_path / "c.csv"
    assert _call(["sample", "counting", "--domain", "bool:3", "--samples", "50", "-o", out, "--no-progress"])[0] == 0
    before = out.read_bytes(), (tmp_path / "c.csv.json").read_bytes()

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    code, _, err = _call(["sample", "counting", "--domain", "bool:3", "--samples", "80", "--seed", "1", "-o", out,
                          "--no-progress"])
    assert code == 130 and "interrupted" in err
    assert (out.read_bytes(), (tmp_path / "c.csv.json").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.csv.json"]
