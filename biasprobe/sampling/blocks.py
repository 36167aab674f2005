"""Counting the draws of a range of seeding blocks: `sample_blocks` (the unit of a sharded run), `sample_counts`, `sample_outputs`.

Parallelism: `workers` threads (default: one per core) each take whole blocks;
torch's generator and the numba kernels release the GIL, torch runs one thread
per worker meanwhile, and one locked hash table counts for all of them. The
threads are never daemons and the calling thread only waits: Ctrl-C sets a stop
flag, every worker finishes its current batch (milliseconds) and the
KeyboardInterrupt is re-raised with nothing left running inside torch or numba.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from biasprobe import runtime
from biasprobe.errors import UserError
from biasprobe.sampling.counter import HashCounter
from biasprobe.sampling.counts import Counts
from biasprobe.sampling.engine import (
    Engine,
    check_run,
    check_samples,
    check_seed,
    plan_batch,
    resolve_device,
    single_thread_torch,
)


def _budget() -> int:
    # Looked up on the package so that one override (biasprobe.sampling.memory_budget) reaches every caller.
    import biasprobe.sampling as package

    return package.memory_budget()


def _check_workers(workers) -> int:
    workers = runtime.cores() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise UserError(f"workers must be a positive integer, got {workers!r}")
    return int(workers)


def check_condition(condition) -> None:
    if condition is not None and not callable(getattr(condition, "accepts", None)):
        raise TypeError(f"a condition needs a method accepts(words) -> (B,) bool; got {type(condition).__name__}")


def _accepted(condition, words: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """finite & condition.accepts(words), asking the condition about finite rows only."""
    if condition is None:
        return finite
    ok = np.zeros(len(finite), np.bool_)
    rows = np.flatnonzero(finite)
    if len(rows):
        got = np.asarray(condition.accepts(words if len(rows) == len(finite) else words[rows]))
        if got.shape != (len(rows),) or got.dtype != np.bool_:
            raise TypeError(f"{type(condition).__name__}.accepts returned {got.dtype} {got.shape}, "
                            f"expected bool ({len(rows)},)")
        ok[rows] = got
    return ok


def count_tasks(engine: Engine, tasks, table: HashCounter, batch: int, workers: int, condition=None,
                bar=None) -> dict:
    """Draw and count every task (block, first, stop) into `table` with `workers` threads.

    A task counts draws first..stop-1 of its block. Returns {"nonfinite": n, "rejected": n}.
    """
    from biasprobe import _kernels

    lock = threading.Lock()
    tasks = list(tasks)
    state = {"next": 0, "nonfinite": 0, "rejected": 0, "error": None, "stop": False}

    def work():
        try:
            buf = engine.new_buffers(batch)
            while True:
                with lock:
                    if state["stop"] or state["error"] is not None or state["next"] >= len(tasks):
                        return
                    blk, first, stop = tasks[state["next"]]
                    state["next"] += 1
                handle = engine.draw(blk, stop, buf)
                for start in range(first, stop, batch):
                    if state["stop"]:
                        return
                    end = min(stop, start + batch)
                    out = engine.evaluate(handle, start, end, buf)
                    words, finite = buf["words"][: end - start], buf["finite"][: end - start]
                    _kernels.threshold_pack(out, words, finite)
                    valid = _accepted(condition, words, finite)
                    n_finite = int(finite.sum())
                    n_valid = int(valid.sum()) if condition is not None else n_finite
                    with lock:
                        table.insert(words, valid)
                        state["nonfinite"] += len(finite) - n_finite
                        state["rejected"] += n_finite - n_valid
                        if bar is not None:
                            bar.update(end - start)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            with lock:
                if state["error"] is None:
                    state["error"] = err

    with single_thread_torch():
        threads = [threading.Thread(target=work, name=f"biasprobe-sampler-{i}") for i in range(workers)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
        except BaseException:
            state["stop"] = True  # Ctrl-C: let every worker leave torch/numba at a batch boundary first
            _join_all(threads)
            raise
    if state["error"] is not None:
        raise state["error"]
    return {"nonfinite": state["nonfinite"], "rejected": state["rejected"]}


def _join_all(threads) -> None:
    """Join every thread even if more interrupts arrive: exiting while one runs in C++ aborts the process."""
    for t in threads:
        while t.is_alive():
            try:
                t.join()
            except BaseException:  # noqa: BLE001 - a second Ctrl-C or SIGTERM: keep waiting (a batch is ms)
                continue


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, unit="fn", unit_scale=True, smoothing=0.1)


def sample_blocks(prior, domain, seed: int, start: int, stop: int, samples: int | None = None, *, batch_size=None,
                  workers=None, device=None, condition=None, progress: bool = False, engine: Engine | None = None
                  ) -> Counts:
    """Count the draws of seeding blocks [start, stop) of the run of `samples` draws with this seed.

    The unit of work of a sharded run: for any split of the blocks 0..ceil(samples/block) into
    ranges, the union of the ranges' counts (`merge_counts`) equals `sample_counts(prior,
    domain, samples, seed)` exactly. `samples` (the whole run's length, default: every block
    full) only decides how many draws the run's last block has. The result's `samples` is the
    number of draws in the range, and `info` records the block range.
    """
    seed = check_seed(seed)
    for name, value in (("start", start), ("stop", stop)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise UserError(f"block {name} must be an integer, got {value!r}")
    device = resolve_device(device)
    engine = engine if engine is not None else Engine(prior, domain, seed, device)
    samples = check_samples(max(1, int(stop)) * engine.block if samples is None else samples)
    n_blocks = engine.n_blocks(samples)
    if not 0 <= start < stop <= n_blocks:
        raise UserError(f"blocks [{start}, {stop}) are not a non-empty range within the run's {n_blocks} blocks")
    return _count(engine, [(k, 0, engine.block_draws(k, samples)) for k in range(start, stop)], batch_size,
                  workers, condition, progress, info={"blocks": [int(start), int(stop)], "run_samples": samples})


def _count(engine: Engine, tasks, batch_size, workers, condition, progress: bool, info: dict) -> Counts:
    check_condition(condition)
    workers = _check_workers(workers)
    draws = sum(stop - first for _, first, stop in tasks)
    workers = int(min(workers, len(tasks))) if engine.device == "cpu" else 1
    budget = _budget()
    batch = plan_batch(engine, batch_size, workers, budget)
    table = HashCounter(engine.n_words, budget, expected=draws)
    bar = _progress(draws, progress)
    t0 = time.perf_counter()
    try:
        tally = count_tasks(engine, tasks, table, batch, workers, condition, bar if progress else None)
    finally:
        bar.close()
    words, counts = table.sorted()
    wall = time.perf_counter() - t0
    info = {"device": engine.device, "workers": workers, "batch_size": batch, "block_size": engine.block} | info
    return Counts(words=words, counts=counts, samples=draws, nonfinite=tally["nonfinite"], domain=engine.domain,
                  prior=engine.prior, seed=engine.seed, wall_time=wall, info=info, rejected=tally["rejected"])


def sample_counts(prior, domain, samples: int = 10**6, seed: int = 0, batch_size=None, workers=None,
                  device=None, progress: bool = False, condition=None) -> Counts:
    """Draw `samples` functions from `prior` on `domain` and count every distinct truth table exactly.

    Same seed => bit-identical counts for any batch_size and workers (see `biasprobe.sampling.engine`).
    Draws whose output is NaN or infinite at any point are counted in `.nonfinite`, not in the table.
    `condition` (any object with ``accepts(words: (B, W) uint64) -> (B,) bool``, given the packed
    canonical truth tables of finite draws) keeps only accepted draws; the others are tallied in
    `.rejected`.
    """
    samples = check_run(samples, seed)
    device = resolve_device(device)
    _check_workers(workers)
    engine = Engine(prior, domain, int(seed), device)
    tasks = [(k, 0, engine.block_draws(k, samples)) for k in range(engine.n_blocks(samples))]
    return _count(engine, tasks, batch_size, workers, condition, progress, info={})


def sample_outputs(prior, domain, samples: int = 16, seed: int = 0, device=None) -> np.ndarray:
    """(samples, N) float32 real outputs on the canonical points: the same draws as `sample_counts` with this seed."""
    samples = check_run(samples, seed)
    device = resolve_device(device)
    engine = Engine(prior, domain, int(seed), device)
    batch = plan_batch(engine, None, 1, _budget())
    out = np.empty((samples, domain.n_points), np.float32)
    buf = engine.new_buffers(batch)
    with single_thread_torch():
        for blk in range(engine.n_blocks(samples)):
            first = blk * engine.block
            count = engine.block_draws(blk, samples)
            handle = engine.draw(blk, count, buf)
            for start in range(0, count, batch):
                stop = min(count, start + batch)
                out[first + start : first + stop] = engine.evaluate(handle, start, stop, buf)
    return out


__all__ = ["sample_blocks", "sample_counts", "sample_outputs", "count_tasks", "check_samples"]
