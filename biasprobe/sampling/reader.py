"""A finished run directory read part by part: the table's chunks, its count levels, P(S)-style sums, never the whole.

``open_run(path)`` checks the summary against the parts on disk and returns a
`RunTable`; ``RunTable.parts()`` yields the table in order as (words, counts)
chunks, ``frames()`` as DataFrames (function, count), ``levels()`` the rank-frequency
levels, and ``count_accepted(condition)`` sums the counts a condition accepts
(the numerator of P(S) when the condition is agreement with a training set S).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from biasprobe.errors import UserError
from biasprobe.sampling.rundir import LEVELS, MANIFEST, SUMMARY, TABLE


def is_run_dir(path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / MANIFEST).is_file()


def read_summary(path) -> dict:
    """summary.json of a finished run, its parts present with the recorded sizes; else a one-line UserError."""
    path = Path(path)
    summary_path = path / SUMMARY
    if not summary_path.is_file():
        if (path / MANIFEST).is_file():
            try:
                manifest = json.loads((path / MANIFEST).read_text())
                done = len(manifest.get("shards", {}))
            except (ValueError, OSError):
                done = "?"
            raise UserError(f"run directory {str(path)!r} is not finished ({done} shards done, no {SUMMARY});"
                            " re-run the same `biasprobe sample ... --run-dir` command to finish it")
        raise UserError(f"{str(path)!r} is not a run directory (no {MANIFEST})")
    try:
        summary = json.loads(summary_path.read_text())
        parts = summary["parts"]
        for part in parts:
            size = (path / TABLE / part["name"]).stat().st_size
            if size != part["bytes"]:
                raise ValueError(f"{part['name']} has {size} bytes, the summary says {part['bytes']}")
    except (ValueError, KeyError, TypeError, OSError) as err:
        raise UserError(f"run directory {str(path)!r} has a damaged table ({err}); re-run the same command to"
                        " merge it again") from None
    return summary


@dataclass(frozen=True)
class RunTable:
    """The merged table of a finished run directory (see the module docstring)."""

    path: Path
    summary: dict

    @property
    def parameters(self) -> dict:
        return self.summary["parameters"]

    @property
    def domain(self):
        from biasprobe.domains import parse_domain

        return parse_domain(self.parameters["domain"])

    @property
    def prior(self):
        from biasprobe.priors import make_prior

        return make_prior(self.parameters["prior"], **self.parameters["parameters"])

    @property
    def samples(self) -> int:
        return int(self.summary["samples"])

    @property
    def distinct(self) -> int:
        return int(self.summary["distinct"])

    @property
    def nonfinite(self) -> int:
        return int(self.summary["nonfinite"])

    @property
    def rejected(self) -> int:
        return int(self.summary.get("rejected", 0))

    @property
    def checksum(self) -> str:
        return self.summary["checksum"]

    def part_paths(self) -> list[Path]:
        return [self.path / TABLE / p["name"] for p in self.summary["parts"]]

    def frames(self, batch_rows: int | None = None):
        """The table in order as DataFrames (function, count), one parquet row group at a time."""
        import pyarrow.parquet as pq

        for path in self.part_paths():
            pf = pq.ParquetFile(path)
            for i in range(pf.num_row_groups):
                yield pf.read_row_group(i).to_pandas()

    def parts(self):
        """The table in order as (words (R, W) uint64, counts (R,) int64) chunks."""
        from biasprobe.tables import hex_to_bits, pack

        n = self.domain.n_points
        for frame in self.frames():
            names = frame["function"].to_numpy()
            if not len(names):
                continue
            words = pack(hex_to_bits(names.astype("S"), n))
            yield words, frame["count"].to_numpy(np.int64)

    def levels(self) -> pd.DataFrame:
        """count -> functions: how many distinct functions were drawn exactly `count` times, count descending."""
        return pd.read_csv(self.path / LEVELS)

    def count_accepted(self, condition) -> int:
        """Sum of the counts of the functions `condition.accepts` (packed canonical truth tables), part by part."""
        total = 0
        for words, counts in self.parts():
            ok = np.asarray(condition.accepts(words), bool)
            total += int(counts[ok].sum())
        return total

    def to_counts(self):
        """The whole table as an in-memory `Counts` (small runs; everything else should stream `parts()`)."""
        from biasprobe.sampling.counts import Counts

        chunks = list(self.parts())
        w = (self.domain.n_points + 63) // 64
        words = np.concatenate([c[0] for c in chunks]) if chunks else np.empty((0, w), np.uint64)
        counts = np.concatenate([c[1] for c in chunks]) if chunks else np.empty(0, np.int64)
        return Counts(words=words, counts=counts, samples=self.samples, nonfinite=self.nonfinite, domain=self.domain,
                      prior=self.prior, seed=int(self.parameters["seed"]), info={"run_dir": str(self.path)},
                      rejected=self.rejected)


def open_run(path) -> RunTable:
    path = Path(path)
    return RunTable(path=path, summary=read_summary(path))
