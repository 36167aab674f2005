"""Distinct functions against samples: exact counts at every checkpoint of one run, in memory or from a run directory.

A run's first S draws are the same whatever its length (block k has its own
stream; a partial block is a prefix of the full one), so one run gives the exact
number of distinct functions D(S) of every shorter run. `growth_curve` counts in
one growing hash table and reads D and the singletons n_1 at each checkpoint;
`shard_growth` does the same from a run directory's shards, bucket by bucket (the
buckets partition the functions, so D is the sum over buckets), never holding more
than one bucket in memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.errors import UserError
from biasprobe.sampling.blocks import _budget, _check_workers, check_condition, count_tasks
from biasprobe.sampling.counter import HashCounter
from biasprobe.sampling.engine import Engine, check_run, plan_batch, resolve_device


def _draw_tasks(engine: Engine, d0: int, d1: int) -> list[tuple[int, int, int]]:
    """(block, first, stop) tasks covering draws d0..d1-1 of a run."""
    tasks = []
    for blk in range(d0 // engine.block, -(-d1 // engine.block)):
        lo = max(d0, blk * engine.block) - blk * engine.block
        hi = min(d1, (blk + 1) * engine.block) - blk * engine.block
        tasks.append((blk, lo, hi))
    return tasks


def _levels(counts: np.ndarray) -> pd.DataFrame:
    values, freq = np.unique(counts[counts > 0], return_counts=True)
    return pd.DataFrame({"count": values[::-1].astype(np.int64), "functions": freq[::-1].astype(np.int64)})


def growth_curve(prior, domain, seed: int, checkpoints, *, workers=None, device=None, condition=None,
                 progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """D(S), n_1(S) and non-finite draws at each checkpoint S of one run, and the count levels at the last one.

    Returns (curve with columns samples, distinct, singletons, nonfinite, rejected; levels with
    columns count, functions). The last row equals `sample_counts(..., samples=max(checkpoints))`.
    """
    points = sorted({check_run(int(s), seed) for s in checkpoints})
    if not points:
        raise UserError("growth_curve needs at least one checkpoint")
    check_condition(condition)
    engine = Engine(prior, domain, int(seed), resolve_device(device))
    workers = _check_workers(workers)
    budget = _budget()
    batch = plan_batch(engine, None, workers, budget)
    table = HashCounter(engine.n_words, budget, expected=points[-1])
    from tqdm import tqdm

    bar = tqdm(total=points[-1], disable=not progress, unit="fn", unit_scale=True)
    rows, done, nonfinite, rejected = [], 0, 0, 0
    try:
        for s in points:
            tasks = _draw_tasks(engine, done, s)
            tally = count_tasks(engine, tasks, table, batch, int(min(workers, len(tasks))), condition,
                                bar if progress else None)
            nonfinite += tally["nonfinite"]
            rejected += tally["rejected"]
            done = s
            rows.append({"samples": s, "distinct": table.used, "singletons": int((table.counts == 1).sum()),
                         "nonfinite": nonfinite, "rejected": rejected})
    finally:
        bar.close()
    return pd.DataFrame(rows), _levels(table.counts)


def shard_growth(run_dir, shards=None, max_memory=None) -> pd.DataFrame:
    """D(S) and n_1(S) after the first k shards of a run directory, for each k in `shards` (default: every k).

    Columns: shards, samples, distinct, singletons, nonfinite. Reads the shards bucket by bucket.
    """
    from biasprobe.sampling import shardfile
    from biasprobe.sampling.kernels import in_sub_bucket
    from biasprobe.sampling.merge import default_max_memory, split_bits
    from biasprobe.sampling.rundir import RunDirectory, RunParameters

    rd = RunDirectory(run_dir)
    manifest = rd.read_manifest()
    if manifest is None:
        raise UserError(f"{str(run_dir)!r} is not a run directory")
    run = RunParameters(**manifest["parameters"])
    plan = run.plan()
    missing = [s["name"] for s in plan if s["name"] not in manifest["shards"]]
    if missing:
        raise UserError(f"run directory {str(run_dir)!r} has {len(missing)} shards still to sample")
    ks = sorted(set(range(1, len(plan) + 1) if shards is None else (int(k) for k in shards)))
    if not ks or ks[0] < 1 or ks[-1] > len(plan):
        raise UserError(f"shard counts must lie in 1..{len(plan)}")
    heads = [(rd.shard_path(s["name"]), shardfile.read_header(rd.shard_path(s["name"]))) for s in plan]
    cap = default_max_memory() if max_memory is None else int(max_memory)
    n_words = heads[0][1]["n_words"]
    entry = 8 * n_words + 8
    bits = heads[0][1]["bucket_bits"]
    distinct = np.zeros(len(ks), np.int64)
    singles = np.zeros(len(ks), np.int64)
    for b in range(1 << bits):
        sizes = [h["offsets"][b + 1] - h["offsets"][b] for _, h in heads[: ks[-1]]]
        rows = sum(sizes)
        if not rows:
            continue
        sub_bits = split_bits(rows, entry, max(sizes), cap, b)
        for sub in range(1 << sub_bits):
            table = HashCounter(n_words, cap, expected=-(-rows * 5 // (4 << sub_bits)) if sub_bits else rows)
            j = 0
            for i, (path, head) in enumerate(heads[: ks[-1]]):
                if head["offsets"][b + 1] > head["offsets"][b]:
                    words, counts = shardfile.read_bucket(path, head, b)
                    if sub_bits:
                        keep = in_sub_bucket(words, bits, sub_bits, sub)
                        words, counts = words[keep], counts[keep]
                    table.add(words, counts)
                while j < len(ks) and ks[j] == i + 1:
                    distinct[j] += table.used
                    singles[j] += int((table.counts == 1).sum())
                    j += 1
    samples = np.cumsum([s["draws"] for s in plan])
    nonfinite = np.cumsum([manifest["shards"][s["name"]]["nonfinite"] for s in plan])
    return pd.DataFrame({"shards": ks, "samples": [int(samples[k - 1]) for k in ks], "distinct": distinct,
                         "singletons": singles, "nonfinite": [int(nonfinite[k - 1]) for k in ks]})
