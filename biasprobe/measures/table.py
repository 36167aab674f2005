"""`measure_table`: add measure columns to a table of functions (hex names), measuring each distinct function once."""

from __future__ import annotations

import numpy as np

from biasprobe.errors import UserError
from biasprobe.measures.registry import compute, get_measure, parse_names
from biasprobe.tables import hex_to_bits


def measure_table(frame, names, domain, *, sample: int | None = None, seed: int = 0, workers: int | None = None,
                  column: str = "function"):
    """Return a copy of `frame` with one float64 column per measure.

    `frame[column]` holds canonical hex truth tables (docs/definitions.md §1). Each distinct
    function is measured once, in batches. On grid and cloud domains the hex names are
    the thresholded outputs, so measures see +1 / -1 values (y > 0 gives back the bit).

    Slow measures (`Measure.slow`, e.g. `boolean`) are computed on `sample` distinct
    functions (default: the measure's `max_functions`), chosen by a seeded RNG from the
    sorted distinct names; the subsets are nested (a smaller sample is a prefix of the
    same permutation). Unmeasured rows hold NaN and a boolean column `<name>_measured`
    says which rows were measured; it is added for every slow measure.
    """
    measures = [get_measure(n) for n in parse_names(names)]
    for m in measures:
        m.check_domain(domain)
    if column not in frame.columns:
        raise UserError(f"the table has no {column!r} column (columns: {', '.join(map(str, frame.columns))})")
    if sample is not None and sample < 0:
        raise UserError(f"sample must be >= 0, got {sample}")
    keys = _keys(frame[column])
    distinct, inverse = np.unique(keys, return_inverse=True)
    bits = _decode(distinct, domain)
    tables = bits if domain.is_boolean else 2.0 * bits - 1.0
    out = frame.copy()
    fast = [m.name for m in measures if not m.slow]
    if fast:
        for name, values in compute(fast, tables, domain, workers=workers).items():
            out[name] = values[inverse]
    order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(len(distinct))
    for m in measures:
        if not m.slow:
            continue
        k = sample if sample is not None else m.max_functions
        chosen = np.sort(order[:k]) if k is not None and k < len(distinct) else np.arange(len(distinct))
        values = np.full(len(distinct), np.nan)
        if len(chosen):
            values[chosen] = compute([m.name], tables[chosen], domain, workers=workers)[m.name]
        measured = np.zeros(len(distinct), dtype=bool)
        measured[chosen] = True
        out[m.name] = values[inverse]
        out[f"{m.name}_measured"] = measured[inverse]
    return out


def _keys(column) -> np.ndarray:
    """Normalised names as a fixed-width bytes array (fast to sort); unicode only if not plain ASCII."""
    text = column.astype(str).str.strip().str.lower()
    try:
        return text.to_numpy().astype("S")
    except UnicodeEncodeError:
        return text.to_numpy().astype("U")


def _decode(names: np.ndarray, domain) -> np.ndarray:
    """Distinct hex names -> (D, N) canonical bits, naming the domain when a name does not fit it."""
    try:
        return hex_to_bits(names, domain.n_points)
    except UserError as err:
        raise UserError(f"{err} (domain {domain})") from None
