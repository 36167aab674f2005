"""Kills and interrupts in real processes: a killed worker, a killed driver, Ctrl-C; results stay bit-identical."""

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from biasprobe.domains import parse_domain
from biasprobe.priors import make_prior
from biasprobe.sampling import open_run, sample_run

PRIOR_ARGS = ["mlp", "--domain", "bool:6", "--set", "hidden=20,20", "--seed", "5"]
PRIOR = make_prior("mlp", hidden=(20, 20))
DOMAIN = parse_domain("bool:6")
SHARD = 2 * 4096
SHARDS = 16
SAMPLES = SHARDS * SHARD - 1000  # the last shard and block partial


def _cli(*args):
    return [sys.executable, "-P", "-m", "biasprobe", "sample", *PRIOR_ARGS, *args]


def _descendants(root: int) -> list[tuple[int, int]]:
    """(pid, depth) of every live descendant of `root`, from /proc."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, frontier, depth = [], [root], 0
    while frontier:
        depth += 1
        frontier = [p for p, pp in parent.items() if pp in frontier]
        out += [(p, depth) for p in frontier]
    return out


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _all_gone(pids, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


def _done_shards(run_dir: Path) -> int:
    try:
        return len(json.loads((run_dir / "manifest.json").read_text())["shards"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, in this process."""
    path = tmp_path_factory.mktemp("ref") / "run"
    sample_run(PRIOR, DOMAIN, SAMPLES, 5, path, executor="inline", shard_size=SHARD, log=lambda m: None)
    return path


def _files(path: Path) -> dict:
    names = [p for p in sorted((path / "table").iterdir())] + [path / "levels.csv"]
    return {p.name: p.read_bytes() for p in names}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _kill_a_worker_when(run_dir: Path, marker: str, after: int, killed: list):
    def watch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            if _done_shards(run_dir) >= after:
                victims = [p for p, _ in _descendants(os.getpid()) if marker in _cmdline(p)]
                if victims:
                    os.kill(victims[0], signal.SIGKILL)
                    killed.append(victims[0])
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_worker_process_killed_mid_shard_changes_nothing(tmp_path, reference):
    path = tmp_path / "run"
    killed = []
    watcher = _kill_a_worker_when(path, "biasprobe.sampling.worker", after=2, killed=killed)
    res = sample_run(PRIOR, DOMAIN, SAMPLES, 5, path, executor="local", workers=2, shard_size=SHARD,
                     log=lambda m: None)
    watcher.join(5)
    assert killed and res.worker_restarts >= 1
    assert res.ran == res.shards == SHARDS
    assert _files(path) == _files(reference)
    assert open_run(path).checksum == open_run(reference).checksum


@pytest.mark.slow
def test_a_dask_worker_killed_mid_shard_changes_nothing(tmp_path, reference):
    pytest.importorskip("distributed")
    path = tmp_path / "run"
    killed = []
    # LocalCluster: the nannies live in this process, each worker is a spawned child; its nanny restarts it
    watcher = _kill_a_worker_when(path, "multiprocessing.spawn", after=2, killed=killed)
    res = sample_run(PRIOR, DOMAIN, SAMPLES, 5, path, executor="dask-local", workers=2, shard_size=SHARD,
                     log=lambda m: None)
    watcher.join(5)
    assert killed and res.ran == SHARDS
    assert _files(path) == _files(reference)


@pytest.mark.slow
def test_kill_9_of_the_driver_then_resume_gives_the_same_bytes(tmp_path, reference):
    path = tmp_path / "run"
    args = _cli("--samples", str(SAMPLES), "--run-dir", str(path), "--shard-size", str(SHARD), "--workers", "2",
                "--no-progress")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _done_shards(path) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = [p for p, _ in _descendants(proc.pid)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -9
    assert workers and _all_gone(workers)  # the workers follow their driver (PR_SET_PDEATHSIG)
    before = _done_shards(path)
    assert 3 <= before < SHARDS and not (path / "summary.json").exists()
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    line = next(x for x in rerun.stderr.splitlines() if "already done" in x)
    found = int(line.split(": ")[1].split(" of ")[0])
    assert found >= before and f"running {SHARDS - found}" in line  # adopted finished files may add to `before`
    assert _files(path) == _files(reference)


def _wait_for_output(fd: int, needle: bytes, timeout: float) -> bytes:
    seen, deadline = b"", time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # EIO: the process has gone
                break
    return seen


def _drain(fd: int, proc, timeout: float) -> bytes:
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out


@pytest.mark.parametrize("workers", [2, pytest.param(1, marks=pytest.mark.slow)])
def test_ctrl_c_during_sampling_stops_cleanly_with_exit_130(workers):
    # stderr on a terminal, so the progress bar shows when sampling has begun
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # tqdm draws nothing 0 wide
    proc = subprocess.Popen(_cli("--samples", "1e9", "--workers", str(workers)), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        seen = _wait_for_output(master, b"fn/s", 120)
        assert b"fn/s" in seen, seen
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the foreground process group
        rest = _drain(master, proc, 30)
        proc.wait(30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = (seen + rest).decode(errors="replace")
    assert proc.returncode == 130, text
    line = "biasprobe sample: interrupted; no partial output was written"
    assert text.rstrip().endswith(line) and text.count("interrupted") == 1
    for bad in ("terminate called", "Traceback", "SystemError", "Aborted"):
        assert bad not in text


@pytest.mark.slow
def test_ctrl_c_during_a_run_directory_leaves_no_partial_files(tmp_path, reference):
    path = tmp_path / "run"
    args = _cli("--samples", str(SAMPLES), "--run-dir", str(path), "--shard-size", str(SHARD), "--workers", "2",
                "--no-progress")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while _done_shards(path) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = [p for p, _ in _descendants(proc.pid)]
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "biasprobe sample: interrupted; no partial output was written\n", err
    assert workers and _all_gone(workers)
    assert not [p.name for p in (path / "shards").iterdir() if p.name.startswith(".")]
    assert not (path / "table").exists() and not (path / "summary.json").exists()
    res = sample_run(PRIOR, DOMAIN, SAMPLES, 5, path, executor="inline", shard_size=SHARD, log=lambda m: None)
    assert res.found >= 2 and _files(path) == _files(reference)
