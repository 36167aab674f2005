"""The exact counter: an open-addressing hash table of packed truth tables -> counts, sized by what it may hold."""

from __future__ import annotations

import numpy as np

from biasprobe.errors import UserError
from biasprobe.sampling.engine import gib

MAX_LOAD = 0.7  # hash-table load factor before it doubles
INITIAL = 1 << 12  # slots, unless fewer rows can ever arrive


def capacity_for(rows: int) -> int:
    """Smallest power of two that holds `rows` entries below the load factor."""
    cap = 16
    while rows > MAX_LOAD * cap:
        cap *= 2
    return cap


class HashCounter:
    """Open-addressing hash table of packed truth tables -> counts; memory ~ distinct functions.

    `expected` is an upper bound on the rows that will ever be inserted (e.g. the
    samples of a run): the first allocation never exceeds what it needs, so 10 draws
    on bool:24 (2 MiB per key) allocate a 16-slot table, not 4096 slots (8 GiB).
    """

    def __init__(self, n_words: int, budget: int, capacity: int = INITIAL, expected: int | None = None):
        self.n_words, self.budget = n_words, budget
        if expected is not None:
            capacity = min(capacity, capacity_for(expected))
        self.keys = np.zeros((capacity, n_words), np.uint64)
        self.counts = np.zeros(capacity, np.int64)
        self.used = 0

    def entry_bytes(self) -> int:
        return 8 * self.n_words + 8

    def _grow_for(self, need: int) -> None:
        from biasprobe import _kernels

        cap = self.keys.shape[0]
        if need <= MAX_LOAD * cap:
            return
        while need > MAX_LOAD * cap:
            cap *= 2
        grown = cap * self.entry_bytes()
        if grown + self.keys.shape[0] * self.entry_bytes() > self.budget:
            raise UserError(
                f"{self.used} distinct functions so far; counting more needs a {gib(grown)} table"
                f" (over the {gib(self.budget)} memory budget): use fewer samples, a smaller domain,"
                " or a run directory (--run-dir), which counts on disk"
            )
        keys = np.zeros((cap, self.n_words), np.uint64)
        counts = np.zeros(cap, np.int64)
        _kernels.table_merge(keys, counts, self.keys, self.counts)
        self.keys, self.counts = keys, counts

    def insert(self, words, valid) -> None:
        """Count each row of `words` whose `valid` flag is set."""
        from biasprobe import _kernels

        self._grow_for(self.used + len(words))
        self.used += _kernels.table_insert(self.keys, self.counts, words, valid)

    def add(self, words, counts) -> None:
        """Add `counts[i]` to the count of `words[i]` (merging another table's rows)."""
        from biasprobe import _kernels

        self._grow_for(self.used + len(words))
        self.used += _kernels.table_merge(self.keys, self.counts, np.ascontiguousarray(words, np.uint64),
                                          np.ascontiguousarray(counts, np.int64))

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(words, counts) of the occupied slots, in slot order (which depends on insertion order)."""
        occupied = np.flatnonzero(self.counts)
        return self.keys[occupied], self.counts[occupied]

    def sorted(self):
        return sort_rows(*self.rows())


def sort_rows(words: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by count descending, then by the number the truth table spells (word 0 most significant)."""
    order = np.lexsort([words[:, j] for j in range(words.shape[1] - 1, -1, -1)] + [-counts])
    return np.ascontiguousarray(words[order]), np.ascontiguousarray(counts[order])
