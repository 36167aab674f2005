"""Run directories against `sample_counts` (bit for bit), resume, damaged shards, refusals, reuse, disk errors, canaries."""

import errno
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from biasprobe.cli import main
from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import make_prior
from biasprobe.sampling import canary, open_run, rundir, sample_counts, sample_run, shardfile
from biasprobe.sampling.counts import merge_counts

PRIOR = make_prior("mlp", hidden=(6, 5))
DOMAIN = parse_domain("bool:5")
BLOCK = 4096
SAMPLES = 9 * BLOCK + 700  # ten blocks, the last partial


def _run(path, samples=SAMPLES, seed=3, shard_size=2 * BLOCK, **kw):
    kw.setdefault("executor", "inline")
    kw.setdefault("workers", 2)
    return sample_run(PRIOR, DOMAIN, samples, seed, path, shard_size=shard_size, log=lambda m: None, **kw)


@pytest.fixture(scope="module")
def oracle():
    return sample_counts(PRIOR, DOMAIN, samples=SAMPLES, seed=3)


def _table_bytes(path):
    return {p.name: p.read_bytes() for p in sorted((path / "table").iterdir())}


@pytest.mark.parametrize("shard_size", [BLOCK, 3 * BLOCK, 20 * BLOCK])
def test_run_directory_is_sample_counts_bit_for_bit(tmp_path, oracle, shard_size):
    res = _run(tmp_path / "r", shard_size=shard_size)
    assert res.shards == -(-10 * BLOCK // shard_size) and res.ran == res.shards
    run = open_run(tmp_path / "r")
    assert run.checksum == oracle.checksum() and run.distinct == oracle.distinct
    got = run.to_counts()
    assert np.array_equal(got.words, oracle.words) and np.array_equal(got.counts, oracle.counts)
    levels = run.levels()
    assert (levels["count"] * levels["functions"]).sum() == SAMPLES - run.nonfinite
    assert levels["functions"].sum() == oracle.distinct
    frame = pd.concat(list(run.frames()), ignore_index=True)
    assert frame.equals(oracle.to_frame())


def test_resume_redoes_only_missing_and_damaged_shards(tmp_path, oracle):
    path = tmp_path / "r"
    _run(path)
    first = _table_bytes(path)
    shards = sorted((path / "shards").glob("*.shard"))
    assert len(shards) == 5
    manifest = json.loads((path / "manifest.json").read_text())
    # a manifest entry without its file, a truncated file, a corrupt file, a file without its entry
    shards[0].unlink()
    shards[1].write_bytes(shards[1].read_bytes()[:-9])
    data = bytearray(shards[2].read_bytes())
    data[-200] ^= 0x10
    shards[2].write_bytes(bytes(data))
    del manifest["shards"][shards[3].name]
    (path / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(path / "table")
    (path / "summary.json").unlink()
    res = _run(path)
    assert sorted(res.redone) == sorted(s.name for s in shards[:3])
    assert res.ran == 3 and res.found == 2  # the unlisted but intact file is verified and adopted
    assert _table_bytes(path) == first
    assert open_run(path).checksum == oracle.checksum()
    # nothing to do at all the next time
    again = _run(path)
    assert again.ran == 0 and again.found == 5


def test_a_run_directory_of_other_parameters_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "r"
    _run(path, merge=False)
    for kwargs, fragment in [({"seed": 4}, "seed 3 there, 4 here"), ({"samples": SAMPLES + 1}, "samples"),
                             ({"shard_size": BLOCK}, "shard size")]:
        with pytest.raises(UserError, match=fragment) as err:
            _run(path, **kwargs)
        assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="hidden=6,5 there, hidden=6,6 here"):
        sample_run(make_prior("mlp", hidden=(6, 6)), DOMAIN, SAMPLES, 3, path, executor="inline")
    with pytest.raises(UserError, match="domain bool:5 there, bool:4 here"):
        sample_run(PRIOR, parse_domain("bool:4"), SAMPLES, 3, path, executor="inline")
    monkeypatch.setattr(rundir, "code_fingerprint", lambda: "edited")
    from biasprobe.sampling import run as run_module

    monkeypatch.setattr(run_module, "code_fingerprint", lambda: "edited")
    with pytest.raises(UserError, match="code fingerprint"):
        _run(path)


def test_a_longer_run_reuses_a_shorter_runs_complete_shards(tmp_path):
    short = tmp_path / "short"
    _run(short, samples=5 * BLOCK + 10)  # shards [0,2) [2,4) complete, [4,6) partial
    long = tmp_path / "long"
    res = _run(long, samples=SAMPLES, reuse=short)
    assert res.reused == 2 and res.ran == 3
    assert open_run(long).checksum == sample_counts(PRIOR, DOMAIN, SAMPLES, 3).checksum()
    with pytest.raises(UserError, match="seed 3 there, 9 here"):
        _run(tmp_path / "other", seed=9, reuse=short)


def test_merge_stays_within_a_small_cap_by_splitting_buckets(tmp_path, monkeypatch):
    from biasprobe.sampling import merge

    monkeypatch.setattr(merge, "row_group_rows", lambda n_bits: 256)
    monkeypatch.setattr(merge, "PART_GROUPS", 3)
    prior, d = make_prior("counting"), parse_domain("bool:6")
    shards = []
    parts = []
    for i, (b0, b1) in enumerate([(0, 1), (1, 3), (3, 4)]):
        c = sample_blocks_counts(prior, d, b0, b1)
        parts.append(c)
        path = tmp_path / f"s{i}.shard"
        shardfile.write(path, c.words, c.counts, 2, {"blocks": [b0, b1]})
        shards.append((path, shardfile.read_header(path)))
    oracle = merge_counts(parts)
    cap = 200_000  # bytes: far below the ~600 kB an in-memory table of these 16k functions takes
    table = merge.merge_shards(shards, tmp_path / "table", d.n_points, cap)
    assert table["merge"]["split_buckets"] >= 1 and table["merge"]["estimated_peak_bytes"] <= cap
    assert table["distinct"] == oracle.distinct and table["checksum"] == oracle.checksum()
    assert len(table["parts"]) == -(-oracle.distinct // (3 * 256))
    frame = pd.concat([pd.read_parquet(tmp_path / "table" / p["name"]) for p in table["parts"]], ignore_index=True)
    assert frame.equals(oracle.to_frame())


def sample_blocks_counts(prior, d, b0, b1):
    from biasprobe.sampling import sample_blocks

    return sample_blocks(prior, d, 1, b0, b1, 4 * BLOCK, workers=1)


def test_a_disk_error_is_one_line_and_keeps_finished_shards(tmp_path, monkeypatch, capsys, oracle):
    real = shardfile.write
    calls = []

    def failing(path, *a, **k):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(shardfile, "write", failing)
    args = ["sample", "mlp", "--set", "hidden=6,5", "--domain", "bool:5", "--samples", str(SAMPLES), "--seed", "3",
            "--run-dir", str(tmp_path / "r"), "--executor", "inline", "--shard-size", str(2 * BLOCK), "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err
    assert len(list((tmp_path / "r" / "shards").glob("*.shard"))) == 2
    assert not list((tmp_path / "r" / "shards").glob(".*"))  # no temporary file left behind
    monkeypatch.setattr(shardfile, "write", real)
    res = _run(tmp_path / "r")
    assert res.found == 2 and res.ran == 3
    assert open_run(tmp_path / "r").checksum == oracle.checksum()


def test_bad_run_directories_are_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for target, fragment in [(tmp_path / "file", "is a file"), (tmp_path / "file" / "run", "which is a file")]:
        rc = main(["sample", "counting", "--domain", "bool:3", "--samples", "1e12", "--run-dir", str(target),
                   "--no-progress"])
        err = capsys.readouterr().err
        assert rc == 2 and fragment in err and err.count("\n") == 1
    with pytest.raises(UserError, match="not finished"):
        _run(tmp_path / "r", merge=False)
        open_run(tmp_path / "r")


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run the second half as another user")
def test_a_read_only_run_directory_is_one_line_exit_2_and_its_shards_stay_usable(oracle):
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="biasprobe-ro-"))  # pytest's own tmp dirs are closed to other users
    try:
        os.chmod(base, 0o755)
        cache = base / "numba-cache"
        cache.mkdir(mode=0o777)
        os.chmod(cache, 0o777)
        path = base / "r"
        _run(path, merge=False)
        for s in sorted((path / "shards").glob("*.shard"))[3:]:
            s.unlink()
        args = ["sample", "mlp", "--set", "hidden=6,5", "--domain", "bool:5", "--samples", str(SAMPLES), "--seed",
                "3", "--run-dir", str(path), "--shard-size", str(2 * BLOCK), "--no-progress"]
        env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), HOME=str(cache))
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-P",
                               "-m", "biasprobe", *args], capture_output=True, text=True, env=env, timeout=180)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "not writable" in proc.stderr, proc.stderr
        res = _run(path)
        assert res.found == 3 and res.ran == 2 and open_run(path).checksum == oracle.checksum()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_a_worker_with_another_cpu_capability_refuses(tmp_path, monkeypatch):
    path = tmp_path / "r"
    _run(path, merge=False)
    for s in sorted((path / "shards").glob("*.shard"))[2:]:
        s.unlink()
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")  # the worker processes draw with torch's scalar path
    with pytest.raises(UserError, match="ATEN_CPU_CAPABILITY=") as err:
        _run(path, executor="local", workers=1)
    assert "\n" not in str(err.value)


def test_canary_messages_name_the_setting_to_pin():
    ref = {"machine": {"host": "a", "torch_cpu_capability": "AVX2", "numba_cpu_name": "skylake",
                       "numba_cpu_features": "f1", "torch": "2.13.0", "numba": "0.61"},
           "canary": {"parameters": "p", "outputs": "o"}}
    mine = json.loads(json.dumps(ref))
    canary.check(ref, mine, "worker")
    mine["machine"].update(host="b", numba_cpu_name="znver4")
    mine["canary"]["outputs"] = "x"
    with pytest.raises(UserError, match="NUMBA_CPU_NAME=generic"):
        canary.check(ref, mine, "worker")
    mine["canary"]["parameters"] = "y"
    mine["machine"]["torch_cpu_capability"] = "AVX512"
    with pytest.raises(UserError, match="ATEN_CPU_CAPABILITY=avx2"):
        canary.check(ref, mine, "worker")


def test_measure_reads_a_run_directory_part_by_part(tmp_path, monkeypatch, oracle):
    from biasprobe.sampling import merge

    monkeypatch.setattr(merge, "row_group_rows", lambda n_bits: 1024)  # several row groups and parts
    monkeypatch.setattr(merge, "PART_GROUPS", 2)
    _run(tmp_path / "r")
    assert len(open_run(tmp_path / "r").summary["parts"]) > 1
    assert main(["measure", "lz,entropy,boolean", "--in", str(tmp_path / "r"), "-o", str(tmp_path / "m.csv"),
                 "--sample", "40"]) == 0
    got = pd.read_csv(tmp_path / "m.csv", dtype={"function": str})
    from biasprobe.measures import measure_table

    want = measure_table(oracle.to_frame(), ["lz", "entropy"], DOMAIN)
    assert got[["function", "count"]].equals(want[["function", "count"]])
    assert np.allclose(got["lz"], want["lz"]) and np.allclose(got["entropy"], want["entropy"])
    assert got["boolean_measured"].sum() == 40 and got["boolean"].notna().sum() == 40
    side = json.loads((tmp_path / "m.csv.json").read_text())
    assert side["checksum"] == oracle.checksum() and side["measures"]["distinct_functions"] == oracle.distinct


def test_p_of_s_counts_what_a_condition_accepts(tmp_path, oracle):
    _run(tmp_path / "r")

    class FirstBitZero:
        def accepts(self, words):
            return ((words[:, 0] >> np.uint64(31)) & np.uint64(1)) == 0

    first = oracle.bits()[:, 0]
    assert open_run(tmp_path / "r").count_accepted(FirstBitZero()) == int(oracle.counts[first == 0].sum())


def test_growth_from_memory_and_from_shards_match_prefix_runs(tmp_path):
    from biasprobe.sampling.growth import growth_curve, shard_growth

    points = [1000, 2 * BLOCK, 2 * BLOCK + 1, 6 * BLOCK, SAMPLES]
    curve, levels = growth_curve(PRIOR, DOMAIN, 3, points, workers=2)
    for s, row in zip(points, curve.itertuples()):
        c = sample_counts(PRIOR, DOMAIN, samples=s, seed=3)  # oracle: a run of exactly s draws
        assert (row.samples, row.distinct, row.singletons) == (s, c.distinct, int((c.counts == 1).sum()))
    last = sample_counts(PRIOR, DOMAIN, samples=SAMPLES, seed=3)
    assert (levels["count"] * levels["functions"]).sum() == SAMPLES and levels["functions"].sum() == last.distinct
    _run(tmp_path / "r", merge=False)
    grown = shard_growth(tmp_path / "r", max_memory=16 << 20)
    assert list(grown["samples"]) == [2 * BLOCK, 4 * BLOCK, 6 * BLOCK, 8 * BLOCK, SAMPLES]
    for row in grown.itertuples():
        c = sample_counts(PRIOR, DOMAIN, samples=row.samples, seed=3)
        assert (row.distinct, row.singletons) == (c.distinct, int((c.counts == 1).sum()))


class Bit0Is:
    """A condition a run directory can record: f(0) == value (bool:5, so bit 31 of word 0)."""

    def __init__(self, value: int):
        self.value = value

    def accepts(self, words):
        return ((words[:, 0] >> np.uint64(31)) & np.uint64(1)) == self.value

    def to_spec(self):
        return {"value": self.value}

    @classmethod
    def from_spec(cls, spec):
        return cls(spec["value"])


def test_a_condition_is_recorded_and_the_run_equals_sample_counts_with_it(tmp_path):
    want = sample_counts(PRIOR, DOMAIN, samples=SAMPLES, seed=3, condition=Bit0Is(1))
    res = _run(tmp_path / "r", condition=Bit0Is(1))
    run = open_run(tmp_path / "r")
    assert run.checksum == want.checksum() and run.rejected == want.rejected > 0 and res.summary["rejected"]
    assert run.parameters["condition"]["spec"] == {"value": 1}
    with pytest.raises(UserError, match="condition"):
        _run(tmp_path / "r", condition=Bit0Is(0))

    class NoSpec:
        def accepts(self, words):
            return np.ones(len(words), bool)

    with pytest.raises(UserError, match="to_spec"):
        _run(tmp_path / "other", condition=NoSpec())


@pytest.mark.slow
def test_a_full_disk_is_one_line_exit_2_and_finished_shards_survive_it(tmp_path, capsys):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        # counting prior: every draw a new function, 24 bytes each; 80,000 draws need ~1.9 MB of shards
        args = ["sample", "counting", "--domain", "bool:7", "--samples", "80000", "--seed", "1", "--run-dir",
                str(mnt / "r"), "--executor", "inline", "--shard-size", "8192", "--no-progress"]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err
        kept = sorted((mnt / "r" / "shards").glob("*.shard"))
        assert kept and not list((mnt / "r" / "shards").glob(".*"))
        for s in kept:
            shardfile.verify(s)  # every shard left behind is whole
        subprocess.run(["mount", "-o", "remount,size=3m", str(mnt)], check=True)  # the shards fit, the merge not
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 2 and "cannot write the merged table" in err and "Traceback" not in err
        assert len(list((mnt / "r" / "shards").glob("*.shard"))) == 10 and not (mnt / "r" / "summary.json").exists()
        assert not [p.name for p in (mnt / "r").iterdir() if p.name.startswith(".") and p.name != ".lock"]
        subprocess.run(["mount", "-o", "remount,size=16m", str(mnt)], check=True)
        assert main(args) == 0
        assert "10 of 10 shards already done" in capsys.readouterr().err
        want = sample_counts(make_prior("counting"), parse_domain("bool:7"), samples=80000, seed=1)
        assert open_run(mnt / "r").checksum == want.checksum()
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
