"""Sharded-run bench: a run directory against `sample_counts` on the same run (same output), and the merge's memory under its cap."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOMAIN = "bool:7"
HIDDEN = (40, 40)


def _child(code: str) -> dict:
    """Run `code` in a fresh interpreter (its own peak RSS); it prints one JSON line last; adds the process's wall."""
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise RuntimeError(f"bench child failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1]) | {"process_wall_s": wall}


_UNSHARDED = """
import json, resource, time
from biasprobe.domains import parse_domain
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_counts
prior, domain = make_prior("mlp", hidden={hidden}), parse_domain("{domain}")
from pathlib import Path
from biasprobe.commands.sample import write_table
t = time.perf_counter()
c = sample_counts(prior, domain, samples={samples}, seed={seed}, workers={workers})
# what `biasprobe sample -o counts.parquet` writes: the table and its sidecar
write_table(c, None, Path("{path}"), {{"domain": "{domain}", "samples": {samples}, "seed": {seed}}})
wall = time.perf_counter() - t
Path("{path}").unlink()
Path("{path}.json").unlink()
print(json.dumps({{"wall_s": wall, "distinct": c.distinct, "checksum": c.checksum(),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

_SHARDED = """
import json, resource, time
from biasprobe.domains import parse_domain
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_run
prior, domain = make_prior("mlp", hidden={hidden}), parse_domain("{domain}")
t = time.perf_counter()
r = sample_run(prior, domain, {samples}, {seed}, "{path}", executor="local", workers={workers},
               shard_size={shard}, log=lambda m: None)
wall = time.perf_counter() - t
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({{"wall_s": wall, "merge_s": r.summary["merge"]["wall_time_s"], "shards": r.shards,
                  "distinct": r.summary["distinct"], "checksum": r.summary["checksum"],
                  "driver_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_rss_mib": kids}}))
"""

_MERGE = """
import json, sys
from pathlib import Path
from biasprobe.sampling import merge, shardfile  # load numba kernels and pyarrow before the baseline
import pyarrow, pyarrow.parquet
from biasprobe.sampling.run import merge_run
from biasprobe.sampling.kernels import bucket_ids, in_sub_bucket
import numpy as np
w = np.zeros((4, 2), np.uint64)
bucket_ids(w, 8); in_sub_bucket(w, 8, 1, 0)
merge._count_not_above(w, np.ones(4, np.int64), 0, w[0].copy(), 1)

def status(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1]) * 1024

pyarrow.parquet.write_table(pyarrow.table({{"c": [1]}}), "{path}/.probe.parquet", compression="zstd")  # fault in code
Path("{path}/.probe.parquet").unlink()
Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak RSS (VmHWM) restarts from the current RSS
base = status("VmRSS")
s = merge_run("{path}", {cap}, log=lambda m: None)
print(json.dumps({{"baseline_bytes": base, "peak_bytes": status("VmHWM"), "distinct": s["distinct"],
                  "merge": s["merge"], "torch_loaded": "torch" in sys.modules}}))
"""


def sharded_vs_unsharded(samples: int, repeats: int, workers: int, shard: int, scratch: Path) -> dict:
    """Interleaved repeats of the same run (same seed) unsharded and in a fresh run directory."""
    unsharded, sharded = [], []
    for r in range(repeats):
        unsharded.append(_child(_UNSHARDED.format(hidden=HIDDEN, domain=DOMAIN, samples=samples, seed=r,
                                                  workers=workers, path=scratch / f"counts-{r}.parquet")))
        path = scratch / f"run-{r}"
        shutil.rmtree(path, ignore_errors=True)
        sharded.append(_child(_SHARDED.format(hidden=HIDDEN, domain=DOMAIN, samples=samples, seed=r, path=path,
                                              workers=workers, shard=shard)))
        shutil.rmtree(path, ignore_errors=True)
        if sharded[-1]["checksum"] != unsharded[-1]["checksum"]:
            raise RuntimeError("the sharded run's table differs from sample_counts'")
    med = lambda runs, key: statistics.median(x[key] for x in runs)  # noqa: E731
    u, s = med(unsharded, "process_wall_s"), med(sharded, "process_wall_s")
    u_in, s_in = med(unsharded, "wall_s"), med(sharded, "wall_s")
    s_sampling = statistics.median(x["wall_s"] - x["merge_s"] for x in sharded)
    return {"samples": samples, "workers": workers, "shard_draws": shard, "repeats": repeats,
            "unsharded_process_wall_s": u, "sharded_process_wall_s": s,
            "unsharded_wall_s": u_in, "sharded_wall_s": s_in, "sharded_without_merge_s": s_sampling,
            "unsharded_networks_per_s": samples / u, "sharded_networks_per_s": samples / s,
            "throughput_ratio": u / s, "throughput_ratio_in_process": u_in / s_in,
            "identical_tables": True, "unsharded_runs": unsharded, "sharded_runs": sharded}


def merge_under_cap(samples: int, cap: int, scratch: Path) -> dict:
    """Counting prior on bool:7 (every draw a new function), merged in a fresh process under `cap` bytes."""
    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior
    from biasprobe.sampling import sample_run
    from biasprobe.sampling.counter import capacity_for

    path = scratch / "merge-run"
    shutil.rmtree(path, ignore_errors=True)
    sample_run(make_prior("counting"), parse_domain(DOMAIN), samples, 0, path, executor="inline",
               shard_size=1 << 18, merge=False, log=lambda m: None)
    out = _child(_MERGE.format(path=path, cap=cap))
    disk = sum(p.stat().st_size for p in (path / "shards").iterdir())
    shutil.rmtree(path, ignore_errors=True)
    in_memory = capacity_for(out["distinct"]) * 24 + out["distinct"] * 24  # the table plus the sorted copy
    return {"samples": samples, "cap_bytes": cap, "distinct": out["distinct"], "in_memory_table_bytes": in_memory,
            "merge_peak_rss_bytes": out["peak_bytes"], "baseline_rss_bytes": out["baseline_bytes"],
            "merge_rss_above_baseline_bytes": out["peak_bytes"] - out["baseline_bytes"],
            "estimated_peak_bytes": out["merge"]["estimated_peak_bytes"], "split_buckets":
            out["merge"]["split_buckets"], "merge_wall_s": out["merge"]["wall_time_s"], "shard_bytes": disk,
            "torch_loaded": out["torch_loaded"]}


def run(out_dir: Path, quick: bool = False) -> dict:
    from biasprobe import runtime

    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    workers = runtime.cores()
    scratch = Path(tempfile.mkdtemp(prefix="biasprobe-bench-shards-"))
    try:
        samples = 500_000 if quick else 4_000_000
        log(f"bench: sharded vs unsharded, {samples:,} draws x {2 if quick else 3} ...")
        speed = sharded_vs_unsharded(samples, 2 if quick else 3, workers, 1 << 18 if quick else 1 << 20, scratch)
        log("bench: merge under a memory cap ...")
        memory = merge_under_cap(1_000_000 if quick else 3_000_000, 32 << 20, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {"sharded": speed, "merge": memory, "load_average_at_start": os.getloadavg()[0], "quick": quick}
    (Path(out_dir) / "shards.json").write_text(json.dumps(result, indent=2) + "\n")
    log(markdown(result))
    return result


def markdown(r: dict) -> str:
    s, m = r["sharded"], r["merge"]
    mib = lambda b: f"{b / 2**20:,.0f} MiB"  # noqa: E731
    kept = "kept" if m["merge_rss_above_baseline_bytes"] <= m["cap_bytes"] else "EXCEEDED"
    return "\n".join([
        "## Sharded runs: a run directory against `sample_counts`, and the out-of-core merge",
        "",
        "| | wall, whole process (median) | networks/s | vs unsharded |",
        "|---|---:|---:|---:|",
        f"| `sample_counts` + parquet (`sample -o`), {s['workers']} threads | {s['unsharded_process_wall_s']:.1f} s |"
        f" {s['unsharded_networks_per_s']:,.0f} | 1.00 |",
        f"| run directory, {s['workers']} worker processes (start, shards, merge) |"
        f" {s['sharded_process_wall_s']:.1f} s | {s['sharded_networks_per_s']:,.0f} | {s['throughput_ratio']:.2f} |",
        "",
        f"7-40-40-1 ReLU on {DOMAIN}, {s['samples']:,} draws, shards of {s['shard_draws']:,} draws, {s['repeats']}"
        " interleaved repeats of the same seeds, each in a fresh process (imports included); the tables'"
        f" checksums are identical. Inside the processes: {s['unsharded_wall_s']:.1f} s against"
        f" {s['sharded_wall_s']:.1f} s ({s['sharded_without_merge_s']:.1f} s without the merge; the sharded figure"
        " includes starting the worker processes). Target: within 10% (ratio >= 0.90).",
        "",
        f"Merge of {m['distinct']:,} distinct functions (counting prior, {m['samples']:,} draws,"
        f" {mib(m['shard_bytes'])} of shards) under a {mib(m['cap_bytes'])} cap: the merging process's RSS rose"
        f" {mib(m['merge_rss_above_baseline_bytes'])} above its {mib(m['baseline_rss_bytes'])} after imports (cap"
        f" {kept}); an in-memory table would take about {mib(m['in_memory_table_bytes'])}."
        f" {m['split_buckets']} bucket(s) split; {m['merge_wall_s']:.1f} s; torch not loaded:"
        f" {not m['torch_loaded']}. Load average at start: {r['load_average_at_start']:.2f}.",
    ])
