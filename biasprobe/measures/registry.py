"""The measure registry: metadata, lookup (built-in and entry-point plug-ins), and batched evaluation."""

from __future__ import annotations

import math
import os
import types
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from biasprobe.errors import UserError, unknown_name

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


@dataclass(frozen=True)
class Measure:
    """A registered measure: `func(tables (B, N) in enumeration order, domain) -> (B,) float64`."""

    name: str
    func: Callable[[np.ndarray, object], np.ndarray]
    domains: tuple[str, ...]
    higher_is_more_complex: bool = True
    bounds: tuple[Bound, Bound] = (None, None)
    invariant_under: tuple[str, ...] = ()
    slow: bool = False  # measured on a seeded sample of distinct functions by measure_table
    max_functions: int | None = None  # default sample size for slow measures
    description: str = ""
    threads: bool = False  # compute may split a batch across threads (the function releases the GIL, e.g. numpy)

    def bound_values(self, domain) -> tuple[float, float]:
        """The (lo, hi) bounds on this domain; callables are evaluated, None becomes -inf/+inf."""
        lo, hi = (b(domain) if callable(b) else b for b in self.bounds)
        return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))

    def check_domain(self, domain) -> None:
        if domain.family not in self.domains:
            raise UserError(f"measure {self.name!r} does not apply to {domain.family} domain {domain}; "
                            f"it applies to: {', '.join(self.domains)}")


_REGISTRY: dict[str, Measure] = {}
_PLUGINS_LOADED: set[str] = set()  # entry-point names already imported


def register_measure(name: str, *, domains: Iterable[str] = ("boolean",), higher_is_more_complex: bool = True,
                     bounds: tuple[Bound, Bound] = (0, None), invariant_under: Iterable[str] = (),
                     slow: bool = False, max_functions: int | None = None, description: str | None = None,
                     threads: bool = False):
    """Decorator registering `func(tables, domain) -> (B,) float64` under `name` with its metadata.

    `bounds` entries are numbers, None (unbounded) or callables of the domain (e.g. `lambda d: d.n_points`).
    `slow` measures are sampled by measure_table (`max_functions` by default, None: all). `threads=True`
    lets compute split a batch across threads: only for row-wise functions that release the
    GIL (vectorised numpy); compiled-parallel or process-parallel measures leave it False.
    """
    domains = tuple(domains)
    invariant_under = tuple(invariant_under)
    bad = [d for d in domains if d not in FAMILIES] + [i for i in invariant_under if i not in INVARIANCES]
    if bad:
        raise ValueError(f"measure {name!r}: unknown domain family or invariance {bad}; "
                         f"families {FAMILIES}, invariances {tuple(INVARIANCES)}")

    def decorate(func):
        old = _REGISTRY.get(name)
        if old is not None and (old.func.__module__, old.func.__qualname__) != (func.__module__, func.__qualname__):
            raise UserError(f"measure {name!r} from {func.__module__} clashes with the one from "
                            f"{old.func.__module__}; register it under another name")
        doc = description if description is not None else (func.__doc__ or "").strip().split("\n")[0]
        _REGISTRY[name] = Measure(name, func, domains, higher_is_more_complex, tuple(bounds), invariant_under,
                                  slow, max_functions, doc, threads)
        return func

    return decorate


def _entry_points():
    from importlib.metadata import entry_points

    return entry_points(group=ENTRY_POINT_GROUP)


def _load_plugins(only: str | None = None) -> None:
    """Import third-party measures lazily: one entry point by name, or all of them."""
    for ep in _entry_points():
        if ep.name in _PLUGINS_LOADED or (only is not None and ep.name != only):
            continue
        _PLUGINS_LOADED.add(ep.name)
        try:
            obj = ep.load()  # importing the module (or the decorated function's module) registers it
        except Exception as err:  # noqa: BLE001 - a broken plug-in must not take the built-ins down with it
            warnings.warn(f"measure plug-in {ep.name!r} ({ep.value}) failed to load and is skipped: "
                          f"{type(err).__name__}: {err}", RuntimeWarning, stacklevel=2)
            continue
        if ep.name not in _REGISTRY and callable(obj) and not isinstance(obj, types.ModuleType):
            # A bare function with no decorator: register it with the default metadata.
            register_measure(ep.name)(obj)


def get_measure(name: str) -> Measure:
    """The Measure called `name` (UserError with close matches if unknown)."""
    if name not in _REGISTRY:
        _load_plugins(only=name)
    if name not in _REGISTRY:
        _load_plugins()
        if name not in _REGISTRY:
            raise unknown_name("measure", name, _REGISTRY)
    return _REGISTRY[name]


def list_measures(family: str | None = None) -> list[str]:
    """Sorted names of every registered measure (plug-ins included), optionally only those for a domain family."""
    _load_plugins()
    return sorted(n for n, m in _REGISTRY.items() if family is None or family in m.domains)


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


def _set_threads(workers: int | None):
    """Limit numba's threads for this call; returns the previous count (or None if numba is not loaded)."""
    if workers is None:
        return None
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(workers), numba.config.NUMBA_NUM_THREADS)))
    return previous


def compute(names, tables, domain, workers: int | None = None) -> dict[str, np.ndarray]:
    """Evaluate measures on canonical-order tables: returns {name: (B,) float64}.

    Tables are permuted into the domain's enumeration order before each measure sees
    them; rows are processed in chunks of about 2^23 values. `workers` caps the threads
    of compiled kernels, numpy measures split across threads and the processes of slow
    per-row measures (default: all cores); it never changes a value.
    """
    measures = [get_measure(n) for n in parse_names(names)]
    for m in measures:
        m.check_domain(domain)
    canonical = prepare_tables(tables, domain)
    b, n = canonical.shape
    out = {m.name: np.empty(b, dtype=np.float64) for m in measures}
    chunk = max(1, CHUNK_VALUES // max(n, 1))
    threads = max(1, os.cpu_count() or 1) if workers is None else max(1, int(workers))
    from biasprobe.measures import _common

    previous = _set_threads(workers)
    _common.WORKERS[0] = workers
    try:
        for start in range(0, b, chunk):
            part = domain.enumerate(canonical[start:start + chunk])
            for m in measures:
                values = _evaluate(m, part, domain, threads)
                if values.shape != (len(part),):
                    raise RuntimeError(f"measure {m.name!r} returned shape {values.shape}, expected ({len(part)},)")
                out[m.name][start:start + chunk] = values
    finally:
        _common.WORKERS[0] = None
        if previous is not None:
            import numba

            numba.set_num_threads(previous)
    return out


# Below this many rows per thread, splitting a numpy measure across threads costs more than it saves.
MIN_ROWS_PER_THREAD = 2048


def _evaluate(m: Measure, part: np.ndarray, domain, threads: int) -> np.ndarray:
    """m.func on one chunk, split row-wise over `threads` threads when the measure allows it."""
    threads = min(threads, len(part) // MIN_ROWS_PER_THREAD) if m.threads else 1
    if threads <= 1:
        return np.asarray(m.func(part, domain), dtype=np.float64)
    pieces = np.array_split(np.arange(len(part)), threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(lambda idx: np.asarray(m.func(part[idx[0]:idx[-1] + 1], domain), dtype=np.float64),
                              pieces))
    return np.concatenate(parts)


def describe_measures() -> str:
    """One block per measure for `biasprobe list measures`."""
    lines = []
    for name in list_measures():
        m = _REGISTRY[name]
        lo, hi = _bound_text(m.bounds[0], "-inf"), _bound_text(m.bounds[1], "inf")
        direction = "higher = more complex" if m.higher_is_more_complex else "higher = simpler"
        extra = f"; slow: sampled, default {m.max_functions} functions" if m.slow else ""
        lines.append(f"  {name:17s} {m.description}")
        lines.append(f"  {'':17s} domains: {', '.join(m.domains)}; bounds [{lo}, {hi}]; {direction}{extra}")
        lines.append(f"  {'':17s} invariant under: {', '.join(m.invariant_under) or '-'}")
    lines.append("  invariances: " + "; ".join(f"{k} = {v}" for k, v in INVARIANCES.items()))
    return "\n".join(lines)


def _bound_text(b: Bound, unbounded: str) -> str:
    if b is None:
        return unbounded
    if callable(b):
        return (b.__doc__ or b.__name__).strip()
    return f"{b:g}"
