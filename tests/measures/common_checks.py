"""Checks every registered measure must pass (bounds, dtype, determinism, declared invariances); used by test_common.

Kept apart from the test module so a plug-in measure can be run through the same checks.
"""

from __future__ import annotations

import numpy as np

from biasprobe.domains import parse_domain
from biasprobe.measures import compute, get_measure

DOMAINS = {"boolean": ["bool:5", "pm1:4", "bool:1"], "grid": ["grid:2:8", "grid:1:9"], "cloud": ["gauss:2:40:1"]}
SLOW_DOMAINS = {"boolean": ["bool:3", "pm1:4"], "grid": ["grid:2:4", "grid:1:5"], "cloud": ["gauss:2:10:1"]}
# Transformations defined through lattice digits: no meaning on a point cloud.
LATTICE_ONLY = ("permute_inputs", "flip_inputs")


def domains_for(name: str, family: str):
    specs = (SLOW_DOMAINS if get_measure(name).slow else DOMAINS)[family]
    return [parse_domain(s) for s in specs]


def sample_tables(domain, rng: np.random.Generator, rows: int) -> np.ndarray:
    """A mix of random and structured canonical tables: uniform, biased, constant, linear-threshold-like."""
    n = domain.n_points
    if domain.is_boolean:
        parts = [rng.integers(0, 2, (rows // 2, n)), (rng.random((rows - rows // 2 - 2, n)) < 0.2),
                 np.zeros((1, n)), (domain.points @ rng.standard_normal(domain.dim) > 0)[None, :]]
        return np.concatenate(parts).astype(np.uint8)
    x = domain.points
    parts = [rng.standard_normal((rows - 3, n)), (x @ rng.standard_normal(domain.dim))[None, :],
             np.sin(3 * x @ rng.standard_normal(domain.dim))[None, :], np.full((1, n), 0.7)]
    return np.concatenate(parts)


def _reindex(domain, digits: np.ndarray) -> np.ndarray:
    base = domain.size ** np.arange(domain.dim - 1, -1, -1)
    return digits @ base


def transform(kind: str, tables: np.ndarray, domain, rng: np.random.Generator):
    """(tables', domain') under which a measure invariant to `kind` must give the same values."""
    if kind == "complement":
        return (1 - tables if domain.is_boolean else -tables), domain
    if kind == "reverse":
        return tables[:, ::-1], domain
    if kind == "shuffle":
        return tables[:, rng.permutation(domain.n_points)], domain
    if kind == "enumeration":
        order = "perm" if domain.kind == "gauss" or rng.random() < 0.5 else "gray"
        return tables, domain.with_order(order, order_seed=int(rng.integers(1, 1000)))
    digits = domain.digits
    if kind == "permute_inputs":
        perm = rng.permutation(domain.dim)
        if domain.dim > 1:
            while np.array_equal(perm, np.arange(domain.dim)):
                perm = rng.permutation(domain.dim)
        return tables[:, _reindex(domain, digits[:, perm])], domain
    if kind == "flip_inputs":
        axes = rng.random(domain.dim) < 0.5
        axes[rng.integers(domain.dim)] = True
        flipped = np.where(axes[None, :], domain.size - 1 - digits, digits)
        return tables[:, _reindex(domain, flipped)], domain
    raise AssertionError(f"no test transformation for {kind!r}")


def assert_same(a: np.ndarray, b: np.ndarray, what: str):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=False, err_msg=what)


def check_basic(name: str, family: str, seed: int = 0):
    """Declared bounds, float64 (B,) output, determinism, chunking and worker count do not change values."""
    m = get_measure(name)
    rows = 6 if m.slow else 40
    for domain in domains_for(name, family):
        rng = np.random.default_rng(seed)
        tables = sample_tables(domain, rng, rows)
        out = compute(name, tables, domain)[name]
        assert out.dtype == np.float64 and out.shape == (len(tables),), (name, domain)
        assert np.isfinite(out).all(), (name, str(domain), out)
        lo, hi = m.bound_values(domain)
        slack = 1e-9 * max(1.0, abs(lo) if np.isfinite(lo) else 1.0, abs(hi) if np.isfinite(hi) else 1.0)
        assert (out >= lo - slack).all() and (out <= hi + slack).all(), (name, str(domain), lo, hi, out)
        again = compute([name], tables.copy(), domain)[name]
        np.testing.assert_array_equal(out, again, err_msg=f"{name} is not deterministic on {domain}")
        halves = np.concatenate([compute(name, tables[:3], domain)[name], compute(name, tables[3:], domain)[name]])
        np.testing.assert_array_equal(out, halves, err_msg=f"{name} depends on the batch on {domain}")
        single = compute(name, tables, domain, workers=1)[name]
        np.testing.assert_array_equal(out, single, err_msg=f"{name} depends on the worker count on {domain}")


def check_invariance(name: str, family: str, kind: str, seed: int = 0):
    """The measure gives the same values after the transformation it declares invariance under."""
    m = get_measure(name)
    rows = 6 if m.slow else 40
    for domain in domains_for(name, family):
        if kind in LATTICE_ONLY and domain.kind == "gauss":
            continue
        rng = np.random.default_rng(seed)
        tables = sample_tables(domain, rng, rows)
        base = compute(name, tables, domain)[name]
        for repeat in range(3):
            t2, d2 = transform(kind, tables, domain, rng)
            assert_same(compute(name, t2, d2)[name], base, f"{name} not invariant under {kind} on {domain} ({repeat})")
