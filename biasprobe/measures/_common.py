"""Helpers shared by the measure modules: canonical order, thresholding, a process pool for slow per-row measures."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

# Set by registry.compute for the duration of a call so per-row measures know how many processes to use.
WORKERS: list[int | None] = [None]
# Below this many rows a process pool (about 0.3 s to start) is not worth it.
MIN_ROWS_PER_PROCESS = 64


def canonical(tables: np.ndarray, domain) -> np.ndarray:
    """Enumeration-order tables -> canonical order (the inverse of domain.enumerate)."""
    if domain.order == "lex":
        return tables
    out = np.empty_like(tables)
    out[:, domain.order_index] = tables
    return out


def bits_of(tables: np.ndarray, domain) -> tuple[np.ndarray, np.ndarray]:
    """(B, N) uint8 bits and a (B,) mask of rows that are valid.

    Boolean tables pass through; real outputs become 1 iff y > 0 (REFERENCES.md §1), and a
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


def n_workers() -> int:
    workers = WORKERS[0]
    return max(1, os.cpu_count() or 1) if workers is None else max(1, int(workers))


def map_rows(func, rows: np.ndarray) -> np.ndarray:
    """`func(rows_chunk) -> (b,) float64` over the rows, split across processes when that pays.

    Uses 'spawn' so that no thread state (numba's pool) is forked into the children.
    """
    workers = min(n_workers(), len(rows) // MIN_ROWS_PER_PROCESS)
    if workers <= 1:
        return np.asarray(func(rows), dtype=np.float64)
    chunks = np.array_split(rows, workers * 4)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        parts = list(pool.map(func, chunks))
    return np.concatenate(parts).astype(np.float64)
