"""The measure registry: metadata, lookup (built-in and entry-point plug-ins), and batched evaluation."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from biasprobe import runtime
from biasprobe.errors import UserError
from biasprobe.registry import Registry

FAMILIES = ("boolean", "grid", "cloud")
ENTRY_POINT_GROUP = "biasprobe.measures"

# The transformations a measure may declare itself invariant under. Each acts on a
# CANONICAL table of a lex-ordered domain (tests/measures/common_checks.py applies them).
INVARIANCES = {
    "complement": "negated outputs (Boolean f -> 1-f; real y -> -y)",
    "reverse": "the table read backwards (on a lex-ordered lattice: every coordinate reflected)",
    "permute_inputs": "a permutation of the input coordinates",
    "flip_inputs": "reflection of input coordinates (Boolean x_i -> 1-x_i; grid: mirror an axis)",
    "enumeration": "another enumeration order (@gray, @perm): only the canonical structure is used",
    "shuffle": "any permutation of the inputs: only the multiset of outputs matters",
}

Bound = float | Callable[..., float] | None
# Rows per evaluation chunk: chunk_rows * N stays near 2^23 values so memory stays bounded
# while numba kernels still get batches large enough to spread over both cores.
CHUNK_VALUES = 1 << 23


READS = {
    "sequence": "the table in the domain's enumeration order (@lex, @gray, @perm): LZ, compression",
    "structure": "the table in canonical order, to use the cube's or grid's structure (neighbours, Walsh, FFT)",
}


@dataclass(frozen=True)
class Measure:
    """A registered measure: `func(tables (B, N), domain) -> (B,) float64`.

    ``reads="sequence"`` measures receive their tables permuted into the domain's
    enumeration order; ``reads="structure"`` measures receive canonical order (so they
    are invariant under the enumeration by construction). A function that accepts a
    ``workers`` keyword is given the caller's worker count (processes or threads it may use).
    """

    name: str
    func: Callable[..., np.ndarray]
    domains: tuple[str, ...]
    higher_is_more_complex: bool = True
    bounds: tuple[Bound, Bound] = (None, None)
    invariant_under: tuple[str, ...] = ()
    slow: bool = False  # measured on a seeded sample of distinct functions by measure_table
    max_functions: int | None = None  # default sample size for slow measures
    description: str = ""
    threads: bool = False  # compute may split a batch across threads (the function releases the GIL, e.g. numpy)
    reads: str = "sequence"
    takes_workers: bool = False

    def bound_values(self, domain) -> tuple[float, float]:
        """The (lo, hi) bounds on this domain; callables are evaluated, None becomes -inf/+inf."""
        lo, hi = (b(domain) if callable(b) else b for b in self.bounds)
        return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))

    def check_domain(self, domain) -> None:
        if domain.family not in self.domains:
            raise UserError(f"measure {self.name!r} does not apply to {domain.family} domain {domain}; "
                            f"it applies to: {', '.join(self.domains)}")

    def arrange(self, canonical_tables: np.ndarray, domain) -> np.ndarray:
        """The tables as this measure reads them: enumeration order for sequence measures, else canonical."""
        return domain.enumerate(canonical_tables) if self.reads == "sequence" else canonical_tables

    def __call__(self, tables: np.ndarray, domain, workers: int | None = None) -> np.ndarray:
        """Values on tables already arranged for this measure (see `arrange`)."""
        if self.takes_workers:
            return np.asarray(self.func(tables, domain, workers=workers), dtype=np.float64)
        return np.asarray(self.func(tables, domain), dtype=np.float64)


def _same_measure(old: Measure, new: Measure) -> bool:  # a module imported twice is not a clash
    return (old.func.__module__, old.func.__qualname__) == (new.func.__module__, new.func.__qualname__)


def _adapt(name: str, obj):
    """An entry point naming a bare function with no decorator: register it with the default metadata."""
    import types

    if isinstance(obj, types.ModuleType):
        return None  # its @register_measure decorators ran on import
    if isinstance(obj, Measure):
        return obj
    if callable(obj):
        register_measure(name)(obj)
        return None
    raise TypeError(f"entry point {name!r} must name a module or a measure function, not {type(obj).__name__}")


MEASURES: Registry[Measure] = Registry("measure", ENTRY_POINT_GROUP, adapt=_adapt)


def register_measure(name: str, *, domains: Iterable[str] = ("boolean",), higher_is_more_complex: bool = True,
                     bounds: tuple[Bound, Bound] = (0, None), invariant_under: Iterable[str] = (),
                     reads: str = "sequence", slow: bool = False, max_functions: int | None = None,
                     description: str | None = None, threads: bool = False):
    """Decorator registering `func(tables, domain) -> (B,) float64` under `name` with its metadata.

    `reads` says which order the function gets its tables in: "sequence" (the domain's
    enumeration order, e.g. for LZ) or "structure" (canonical order, e.g. for neighbours
    or a Fourier transform). `bounds` entries are numbers, None (unbounded) or callables of
    the domain (e.g. `lambda d: d.n_points`). `slow` measures are sampled by measure_table
    (`max_functions` by default, None: all). `threads=True` lets compute split a batch
    across threads: only for row-wise functions that release the GIL (vectorised numpy).
    A function with a `workers` keyword receives the caller's worker count.
    """
    domains = tuple(domains)
    invariant_under = tuple(invariant_under)
    bad = [d for d in domains if d not in FAMILIES] + [i for i in invariant_under if i not in INVARIANCES]
    if bad:
        raise ValueError(f"measure {name!r}: unknown domain family or invariance {bad}; "
                         f"families {FAMILIES}, invariances {tuple(INVARIANCES)}")
    if reads not in READS:
        raise ValueError(f"measure {name!r}: reads={reads!r}; valid: {', '.join(READS)}")
    if reads == "structure" and "enumeration" not in invariant_under:
        invariant_under += ("enumeration",)  # canonical tables: true by construction

    def decorate(func):
        import inspect

        doc = description if description is not None else (func.__doc__ or "").strip().split("\n")[0]
        takes = "workers" in inspect.signature(func).parameters
        MEASURES.add(name, Measure(name, func, domains, higher_is_more_complex, tuple(bounds), invariant_under,
                                   slow, max_functions, doc, threads, reads, takes), same=_same_measure)
        return func

    return decorate


def get_measure(name: str) -> Measure:
    """The Measure called `name` (UserError with close matches if unknown)."""
    return MEASURES.get(name)


def list_measures(family: str | None = None) -> list[str]:
    """Sorted names of every registered measure (plug-ins included), optionally only those for a domain family."""
    return [n for n, m in MEASURES.items() if family is None or family in m.domains]


def parse_names(names) -> list[str]:
    if isinstance(names, str):
        names = names.split(",")
    out = [n.strip() for n in names if n.strip()]
    if not out:
        raise UserError("no measure names given; see `biasprobe list measures`")
    return list(dict.fromkeys(out))


def prepare_tables(tables, domain) -> np.ndarray:
    """Validate canonical tables: (B, N) uint8 0/1 on Boolean domains, float64 real outputs otherwise."""
    tables = np.asarray(tables)
    if tables.ndim == 1:
        tables = tables[None, :]
    if tables.ndim != 2 or tables.shape[1] != domain.n_points:
        raise UserError(f"tables of shape {tables.shape} do not fit domain {domain} "
                        f"(expected (B, {domain.n_points}))")
    if domain.is_boolean:
        if tables.dtype.kind not in "biu" or (tables.size and tables.max() > 1) or (tables.size and tables.min() < 0):
            raise UserError(f"Boolean tables must hold 0/1 integers (got dtype {tables.dtype})")
        return np.ascontiguousarray(tables, dtype=np.uint8)
    return np.ascontiguousarray(tables, dtype=np.float64)


def compute(names, tables, domain, workers: int | None = None) -> dict[str, np.ndarray]:
    """Evaluate measures on canonical-order tables: returns {name: (B,) float64}.

    Each measure sees the tables as it declared it reads them (`Measure.arrange`); rows are
    processed in chunks of about 2^23 values. `workers` (default: every core) caps the
    threads of compiled kernels, numpy measures split across threads and the processes of
    slow per-row measures; it never changes a value.
    """
    measures = [get_measure(n) for n in parse_names(names)]
    for m in measures:
        m.check_domain(domain)
    canonical = prepare_tables(tables, domain)
    b, n = canonical.shape
    out = {m.name: np.empty(b, dtype=np.float64) for m in measures}
    chunk = max(1, CHUNK_VALUES // max(n, 1))
    workers = runtime.resolve_workers(workers)
    with runtime.thread_limits(numba_threads=workers if _numba_loaded() else None):
        for start in range(0, b, chunk):
            part = canonical[start:start + chunk]
            for m in measures:
                values = _evaluate(m, m.arrange(part, domain), domain, workers)
                if values.shape != (len(part),):
                    raise RuntimeError(f"measure {m.name!r} returned shape {values.shape}, expected ({len(part)},)")
                out[m.name][start:start + chunk] = values
    return out


def _numba_loaded() -> bool:
    import sys

    return "numba" in sys.modules


# Below this many rows per thread, splitting a numpy measure across threads costs more than it saves.
MIN_ROWS_PER_THREAD = 2048


def _evaluate(m: Measure, part: np.ndarray, domain, workers: int) -> np.ndarray:
    """m on one chunk, split row-wise over `workers` threads when the measure allows it."""
    threads = min(workers, len(part) // MIN_ROWS_PER_THREAD) if m.threads else 1
    if threads <= 1:
        return m(part, domain, workers=workers)
    pieces = np.array_split(np.arange(len(part)), threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(lambda idx: m(part[idx[0]:idx[-1] + 1], domain, workers=1), pieces))
    return np.concatenate(parts)


def describe_measures() -> str:
    """One block per measure for `biasprobe list measures`."""
    lines = []
    for name, m in MEASURES.items():
        lo, hi = _bound_text(m.bounds[0], "-inf"), _bound_text(m.bounds[1], "inf")
        direction = "higher = more complex" if m.higher_is_more_complex else "higher = simpler"
        extra = f"; slow: sampled, default {m.max_functions} functions" if m.slow else ""
        lines.append(f"  {name:17s} {m.description}")
        lines.append(f"  {'':17s} domains: {', '.join(m.domains)}; bounds [{lo}, {hi}]; {direction}{extra}")
        lines.append(f"  {'':17s} reads: {m.reads}; invariant under: {', '.join(m.invariant_under) or '-'}")
    lines.append("  invariances: " + "; ".join(f"{k} = {v}" for k, v in INVARIANCES.items()))
    return "\n".join(lines)


def _bound_text(b: Bound, unbounded: str) -> str:
    if b is None:
        return unbounded
    if callable(b):
        return (b.__doc__ or b.__name__).strip()
    return f"{b:g}"
