"""Smoke test of the measures bench section's command-line timing (the speed itself is measured by `make bench`)."""

import pytest

from biasprobe.bench import measures as bench


def test_startup_command_runs_end_to_end():
    # The timed `biasprobe measure` call must succeed as written (it once failed on a hand-made sidecar).
    assert bench._startup_seconds(1) > 0


@pytest.mark.slow
def test_every_bench_section_runs_quick(tmp_path):
    # `make bench` is not run by CI; this smoke run of every section keeps the sections working as the code moves.
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "biasprobe.bench", "--quick", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    import json

    assert set(json.loads((tmp_path / "bench.json").read_text())) == set(__import__("biasprobe.bench.__main__",
                                                                                   fromlist=["SECTIONS"]).SECTIONS)
