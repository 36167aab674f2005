"""The seeded sampler: block-seeded draws, exact counting in memory, and sharded, resumable run directories on disk.

Modules: `engine` (block streams, evaluation), `counter` (the hash table), `counts`
(`Counts`, checksums, unions), `blocks` (`sample_blocks`, `sample_counts`,
`sample_outputs`), `shardfile` (one shard's counts on disk, bucketed by hash),
`rundir` (parameters, manifest, lock), `run` (`sample_run`: plan, execute, resume),
`executors` (local worker processes, Dask), `merge` (the out-of-core merge),
`reader` (`open_run`: a finished run read part by part), `canary` (cross-machine
determinism checks) and `growth` (distinct functions against samples).
"""

from __future__ import annotations

from biasprobe.sampling.blocks import sample_blocks, sample_counts, sample_outputs
from biasprobe.sampling.counter import MAX_LOAD, HashCounter
from biasprobe.sampling.counts import Counts, merge_counts
from biasprobe.sampling.engine import (
    BATCH_OUTPUT_BYTES,
    BLOCK,
    BLOCK_BYTES,
    MAX_SAMPLES,
    Engine,
    block_size,
    memory_budget,
    resolve_device,
    torch_forward,
)

# Names the engine had when it was one module (the bench and kernel tests use them).
_Engine = Engine
_Table = HashCounter
_torch_forward = torch_forward


def __getattr__(name):
    # The run-directory API loads lazily: `import biasprobe.sampling` stays as light as before.
    lazy = {"sample_run": "run", "open_run": "reader", "RunTable": "reader", "RunResult": "run"}
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(f"biasprobe.sampling.{lazy[name]}"), name)
    raise AttributeError(f"module 'biasprobe.sampling' has no attribute {name!r}")


__all__ = ["Counts", "sample_counts", "sample_outputs", "sample_blocks", "merge_counts", "sample_run", "open_run",
           "RunTable", "block_size", "memory_budget", "resolve_device", "BLOCK", "BLOCK_BYTES",
           "BATCH_OUTPUT_BYTES", "MAX_LOAD", "MAX_SAMPLES"]
