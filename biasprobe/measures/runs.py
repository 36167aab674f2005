"""Measures over a run directory's table, part by part: a measured table of any size written without loading it whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biasprobe import tableio
from biasprobe.errors import UserError


def measure_run(run, names, target: Path, *, sample: int | None = None, seed: int = 0, workers: int | None = None,
                sidecar: dict | None = None) -> int:
    """Write `run`'s table (function, count) plus one column per measure to `target` (.csv or .parquet), atomically,
    with its sidecar (see biasprobe.tableio).

    `run` is a `biasprobe.sampling.reader.RunTable`. Fast measures are computed on every
    row. Slow measures (`Measure.slow`) on a seeded uniform sample of `sample` rows (default:
    the measure's `max_functions`) drawn from all distinct functions; unmeasured rows hold
    NaN and `<name>_measured` says which were. Returns the number of rows written.
    """
    from biasprobe.measures.registry import compute, get_measure, parse_names
    from biasprobe.tables import hex_to_bits

    names = parse_names(names) if names else []
    measures = [get_measure(n) for n in names]
    domain = run.domain
    for m in measures:
        m.check_domain(domain)
    if sample is not None and sample < 0:
        raise UserError(f"sample must be >= 0, got {sample}")
    total = run.distinct
    chosen = {}
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    for m in measures:
        if m.slow:
            k = sample if sample is not None else m.max_functions
            k = total if k is None else min(int(k), total)
            chosen[m.name] = np.sort(rng.choice(total, size=k, replace=False)) if k < total else None
    fast = [m.name for m in measures if not m.slow]
    rows_written = [0]

    def frames():
        start = 0
        for frame in run.frames():
            if not len(frame):
                continue
            rows = len(frame)
            bits = hex_to_bits(frame["function"].to_numpy().astype("S"), domain.n_points)
            tables = bits if domain.is_boolean else 2.0 * bits - 1.0
            if fast:
                for name, values in compute(fast, tables, domain, workers=workers).items():
                    frame[name] = values
            for m in measures:
                if not m.slow:
                    continue
                picks = chosen[m.name]
                local = (np.arange(rows) if picks is None
                         else picks[(picks >= start) & (picks < start + rows)] - start)
                values = np.full(rows, np.nan)
                if len(local):
                    values[local] = compute([m.name], tables[local], domain, workers=workers)[m.name]
                measured = np.zeros(rows, bool)
                measured[local] = True
                frame[m.name] = values
                frame[f"{m.name}_measured"] = measured
            start += rows
            rows_written[0] = start
            yield frame
        if start == 0:  # an empty table still gets its header
            import pandas as pd

            empty = pd.DataFrame({"function": pd.Series([], dtype=str), "count": pd.Series([], dtype=np.int64)})
            for m in measures:
                empty[m.name] = pd.Series([], dtype=float)
                if m.slow:
                    empty[f"{m.name}_measured"] = pd.Series([], dtype=bool)
            yield empty

    tableio.write_chunks(frames(), target, sidecar)
    return rows_written[0]
