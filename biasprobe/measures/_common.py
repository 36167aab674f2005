"""Helpers shared by the measure modules: thresholding, NaN masks, row sums, child processes for slow per-row measures."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np

from biasprobe import runtime

def bits_of(tables: np.ndarray, domain) -> tuple[np.ndarray, np.ndarray]:
    """(B, N) uint8 bits and a (B,) mask of rows that are valid.

    Boolean tables pass through; real outputs become 1 iff y > 0 (docs/definitions.md §1), and a
    row with any NaN or infinite value is marked invalid: it is not a function, so measures
    return NaN for it rather than a value of its thresholded shadow.
    """
    if domain.is_boolean:
        return tables, np.ones(len(tables), dtype=bool)
    valid = np.isfinite(tables).all(axis=1)
    return (tables > 0).astype(np.uint8), valid


def masked(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if not valid.all():
        values = values.copy()
        values[~valid] = np.nan
    return values


def row_sums(x: np.ndarray) -> np.ndarray:
    """Float sums over all but the first axis, the same for a row whatever the batch around it.

    numpy may reorder a reduction over a non-contiguous array (and so round differently)
    depending on the batch size; on a C-contiguous copy each row is summed on its own.
    """
    return np.ascontiguousarray(x).reshape(len(x), -1).sum(axis=1)


def map_rows(func, rows: np.ndarray, min_rows: int, workers: int | None = None) -> np.ndarray:
    """`func(rows_chunk) -> (b,) float64` over the rows, split across up to `workers` child processes when that pays.

    A child costs about 0.3-0.5 s to start, so each gets at least `min_rows` rows: set it to
    the rows `func` handles in about a second.

    `func` must be a module-level function. Each child is a fresh `python -P -m
    biasprobe.measures._worker` fed .npy bytes: no pickle, no fork of numba's thread pool,
    no re-import of the caller's __main__ (a script without a main guard stays safe), and
    (-P) no current directory prepended to its path, so a stray numpy.py there is never run;
    the child sees exactly the parent's sys.path.
    """
    workers = min(runtime.resolve_workers(workers), len(rows) // max(1, min_rows))
    if workers <= 1:
        return np.asarray(func(rows), dtype=np.float64)
    target = f"{func.__module__}:{func.__qualname__}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    procs = []
    for chunk in np.array_split(rows, workers):
        proc = subprocess.Popen([sys.executable, "-P", "-m", "biasprobe.measures._worker", target],
                                stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(chunk), allow_pickle=False)
        try:
            proc.stdin.write(buffer.getvalue())  # the child reads all of it before writing anything
            proc.stdin.close()
        except BrokenPipeError:  # the child died early; its stderr and exit code tell why, below
            pass
        proc.stdin = None  # so communicate() below only collects the outputs
        procs.append(proc)
    outputs = [proc.communicate() for proc in procs]  # wait for every child before judging any
    parts = []
    for proc, (out, err) in zip(procs, outputs):
        if proc.returncode != 0:
            raise RuntimeError(f"measure worker {target} failed:\n{err.decode(errors='replace')}")
        parts.append(np.load(io.BytesIO(out), allow_pickle=False))
    return np.concatenate(parts).astype(np.float64)
