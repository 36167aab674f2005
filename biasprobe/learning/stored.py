"""P(S) and the posterior for many training sets from one stored count table, without re-sampling.

One table of every distinct function drawn (and its count) answers P(S) for any
S (docs/definitions.md §7): P(S) = (sum of the counts of the functions that agree with
S) / samples. `evidence` checks every stored function against K training sets in
one numba pass over the packed words (parallel over chunks of functions, integer
sums, so the result does not depend on the thread count).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np
import pandas as pd

from biasprobe import tables
from biasprobe.errors import UserError
from biasprobe.learning.posterior import (LEVEL, clopper_pearson, mean_interval, posterior_from_counts,
                                          upper_bound_none_seen)

CHUNK = 1 << 16  # functions per parallel work item


@dataclass(frozen=True, eq=False)
class StoredCounts:
    """A `sample` output read back: packed functions, counts, the draws they came from, and the domain."""

    words: np.ndarray  # (D, W) uint64
    counts: np.ndarray  # (D,) int64
    samples: int
    nonfinite: int
    domain: object
    provenance: dict = field(default_factory=dict)

    @classmethod
    def from_counts(cls, counts) -> "StoredCounts":
        """From an in-memory `biasprobe.sampling.Counts`."""
        return cls(np.asarray(counts.words, np.uint64), np.asarray(counts.counts, np.int64), int(counts.samples),
                   int(counts.nonfinite), counts.domain)


def hex_to_words(names, n_bits: int, chunk: int = 1 << 20) -> np.ndarray:
    """Hex truth tables -> (B, W) packed words, chunk by chunk so 10^7 names never unpack to bits at once."""
    names = np.asarray(names)
    out = np.empty((len(names), tables.n_words(n_bits)), np.uint64)
    for start in range(0, len(names), chunk):
        out[start:start + chunk] = tables.pack(tables.hex_to_bits(names[start:start + chunk], n_bits))
    return out


def load_counts(path, domain=None) -> StoredCounts:
    """Read a `biasprobe sample` table (.csv or .parquet, columns function and count) and its JSON sidecar.

    As `biasprobe measure` does (biasprobe.tableio): the sidecar must carry this table's
    checksum unless `domain` is given; it then gives the domain, the number of draws
    (`samples`, which includes the non-finite ones) and `nonfinite`. Without a trusted
    sidecar the draws are taken to be the sum of the counts.
    """
    from biasprobe import tableio

    spec = str(domain) if domain is not None else None
    domain, prov, how = tableio.resolve_domain(tableio.check_input_path(path), spec)
    frame = tableio.read_table(path)
    if "count" not in frame.columns:
        raise UserError(f"stored table {str(path)!r} has no 'count' column")
    tableio.check_names(frame, domain, path)
    counts = frame["count"].to_numpy(np.int64)
    words = hex_to_words(frame["function"].to_numpy(), domain.n_points)
    trusted = how["domain_from"] == "sidecar" or how.get("sidecar") == "agrees"
    samples = int(prov.get("samples", counts.sum())) if trusted else int(counts.sum())
    nonfinite = int(prov.get("nonfinite", 0)) if trusted else 0
    if samples < counts.sum() + nonfinite:
        raise UserError(f"{str(path)!r}: counts sum to {counts.sum()} (+{nonfinite} non-finite) but the sidecar"
                        f" says only {samples} samples were drawn")
    return StoredCounts(words, counts, samples, nonfinite, domain, {**prov, **how})


@nb.njit(inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@nb.njit(parallel=True, cache=True)
def _evidence(words, counts, targets, masks, tests, chunk):
    """Per training set k: accepted draws, and the sums of mistakes and squared mistakes over them."""
    d_total, w = words.shape
    k_total = targets.shape[0]
    n_chunks = (d_total + chunk - 1) // chunk
    acc = np.zeros((n_chunks, k_total), np.int64)
    err = np.zeros((n_chunks, k_total), np.int64)
    err2 = np.zeros((n_chunks, k_total), np.int64)
    for c in nb.prange(n_chunks):
        stop = min(d_total, (c + 1) * chunk)
        for d in range(c * chunk, stop):
            for k in range(k_total):
                ok = True
                for j in range(w):
                    if (words[d, j] ^ targets[k, j]) & masks[k, j]:
                        ok = False
                        break
                if ok:
                    e = 0
                    for j in range(w):
                        e += _popcount((words[d, j] ^ targets[k, j]) & tests[k, j])
                    acc[c, k] += counts[d]
                    err[c, k] += counts[d] * e
                    err2[c, k] += counts[d] * e * e
    return acc.sum(axis=0), err.sum(axis=0), err2.sum(axis=0)


def accepted_counts(words, counts, conditions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(accepted, sum of test mistakes, sum of squared test mistakes) per condition, each (K,) int64, in one pass."""
    conditions = list(conditions)
    words = np.ascontiguousarray(words, dtype=np.uint64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if not conditions:
        z = np.zeros(0, np.int64)
        return z, z, z
    stack = lambda name: np.ascontiguousarray(np.stack([getattr(c, name) for c in conditions]))  # noqa: E731
    return _evidence(words, counts, stack("target"), stack("mask"), stack("test"), CHUNK)


def evidence(stored, conditions, level: float = LEVEL) -> pd.DataFrame:
    """One row per training set: m, accepted, P(S) with its Clopper-Pearson interval (and the one-sided upper
    bound when nothing was accepted), and the posterior's mean test error with its Student-t interval.

    `stored`: a StoredCounts, or a `biasprobe.sampling.Counts`.
    """
    if not isinstance(stored, StoredCounts):
        stored = StoredCounts.from_counts(stored)
    conditions = list(conditions)
    for c in conditions:
        if c.n_points != stored.domain.n_points:
            raise UserError(f"training set on {c.n_points} inputs, stored table on {stored.domain}")
    acc, err, err2 = accepted_counts(stored.words, stored.counts, conditions)
    n_test = np.array([c.n_test for c in conditions], float)
    lo, hi = clopper_pearson(acc, stored.samples, level)
    mean, mlo, mhi = mean_interval(err / n_test, err2 / n_test**2, acc, level)
    return pd.DataFrame({
        "target": [c.target_hex for c in conditions], "mask": [c.mask_hex for c in conditions],
        "m": [c.m for c in conditions], "samples": stored.samples, "accepted": acc,
        "p_s": acc / stored.samples, "p_s_lo": lo, "p_s_hi": hi,
        "p_s_upper": np.where(acc == 0, upper_bound_none_seen(stored.samples, level),
                              clopper_pearson(acc, stored.samples, 2 * level - 1)[1]),
        "test_error_mean": mean, "test_error_lo": mlo, "test_error_hi": mhi,
    })


def posterior_from_table(stored, condition):
    """The full posterior (accepted functions and counts) for one S from a stored table."""
    if not isinstance(stored, StoredCounts):
        stored = StoredCounts.from_counts(stored)
    return posterior_from_counts(stored.words, stored.counts, condition, stored.samples, stored.nonfinite,
                                 domain=stored.domain)


__all__ = ["StoredCounts", "load_counts", "evidence", "accepted_counts", "posterior_from_table", "hex_to_words"]
