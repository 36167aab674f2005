"""`Counts`, the exact table of distinct functions drawn, its content checksum, and the union of partial counts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from biasprobe import tables


@dataclass(frozen=True, eq=False)
class Counts:
    """Exact counts of the distinct functions drawn, sorted by count descending then function (canonical order)."""

    words: np.ndarray  # (D, W) uint64 packed canonical truth tables
    counts: np.ndarray  # (D,) int64
    samples: int  # draws requested
    nonfinite: int  # draws with a NaN/inf output somewhere: excluded from the counts
    domain: object
    prior: object
    seed: int = 0
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)  # engine details for provenance (device, workers, batch, block)
    rejected: int = 0  # finite draws a `condition` did not accept: excluded from the counts

    @property
    def n_bits(self) -> int:
        return self.domain.n_points

    @property
    def distinct(self) -> int:
        return int(self.counts.shape[0])

    def hex(self) -> list[str]:
        return tables.to_hex(self.words, self.n_bits)

    def bits(self) -> np.ndarray:
        """(D, N) uint8 canonical truth tables."""
        return tables.unpack(self.words, self.n_bits)

    def to_frame(self):
        """pandas DataFrame (function, count); pandas loads here, so worker processes never import it."""
        import pandas as pd

        return pd.DataFrame({"function": self.hex(), "count": self.counts})

    def checksum(self) -> str:
        """SHA-256 of the table's content in order (see `table_checksum`); equal for equal tables however stored."""
        h = hashlib.sha256()
        update_checksum(h, self.words, self.counts)
        return h.hexdigest()


def update_checksum(h, words: np.ndarray, counts: np.ndarray) -> None:
    """Feed rows to a hashlib object: each row is its W words big-endian, then its count as int64 little-endian.

    Row by row, so the digest of a table does not depend on how it is chunked into parts.
    """
    words = np.ascontiguousarray(words, np.uint64)
    rows = np.empty(len(counts), dtype=[("w", ">u8", (words.shape[1],)), ("c", "<i8")])
    rows["w"] = words
    rows["c"] = counts
    h.update(rows.tobytes())


def merge_counts(parts, samples: int | None = None) -> Counts:
    """The union of the counts of disjoint draws (e.g. the shards of one run): counts add, rows re-sorted.

    `samples` defaults to the sum of the parts' draws; non-finite and rejected draws add up.
    """
    from biasprobe.sampling.counter import HashCounter

    parts = list(parts)
    if not parts:
        raise ValueError("merge_counts needs at least one Counts")
    first = parts[0]
    for p in parts[1:]:
        if str(p.domain) != str(first.domain) or p.words.shape[1] != first.words.shape[1]:
            raise ValueError(f"cannot merge counts on {p.domain} with counts on {first.domain}")
    rows = sum(p.distinct for p in parts)
    table = HashCounter(first.words.shape[1], budget=1 << 62, expected=rows)
    for p in parts:
        table.add(p.words, p.counts)
    words, counts = table.sorted()
    return Counts(words=words, counts=counts, samples=sum(p.samples for p in parts) if samples is None else samples,
                  nonfinite=sum(p.nonfinite for p in parts), domain=first.domain, prior=first.prior,
                  seed=first.seed, wall_time=sum(p.wall_time for p in parts),
                  info={"merged_parts": len(parts)}, rejected=sum(p.rejected for p in parts))
