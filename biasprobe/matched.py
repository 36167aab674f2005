"""Matched-entropy controls: the counting measure restricted to T ones, and a prior's measures against it at equal T.

The critique of docs/definitions.md §5/§8: a prior that puts much mass on low-entropy
functions looks "simple" under most measures just because those functions have few
ones. The control compares a prior's functions with T ones against functions drawn
*uniformly from all functions with exactly T ones* (the counting measure restricted
to T), with the prior's own law of T, under the same encoding and enumeration order.
Whatever difference remains is structure, not entropy.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from biasprobe.errors import UserError

# Entropy bands on the balance b = min(T, N - T) as a fraction of N: {0}, (0, 1/16], (1/16, 1/8], ...
BAND_EDGES = (0.0, 1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2)


def tables_with_ones(rng: np.random.Generator, ones, n_points: int) -> np.ndarray:
    """(B, N) uint8 canonical tables, row i exactly uniform over the C(N, T_i) tables with T_i = ones[i] ones.

    Row i sets the first T_i positions of its own uniformly random permutation
    (numpy's `permuted`, a Fisher-Yates shuffle per row), an exactly uniform T_i-subset.
    """
    t = np.atleast_1d(np.asarray(ones))
    if t.ndim != 1 or t.dtype.kind not in "iu":
        raise UserError(f"ones must be a 1-D array of integers, got dtype {t.dtype} and shape {t.shape}")
    if t.size and (t.min() < 0 or t.max() > n_points):
        raise UserError(f"ones must lie in 0..{n_points}; got {int(t.min())}..{int(t.max())}")
    t = t.astype(np.int64)
    perm = rng.permuted(np.tile(np.arange(n_points), (t.size, 1)), axis=1)
    bits = np.zeros((t.size, n_points), np.uint8)
    np.put_along_axis(bits, perm, (np.arange(n_points)[None, :] < t[:, None]).astype(np.uint8), axis=1)
    return bits


def reference_tables(n_points: int, per_t: int, seed: int, t_values=None) -> tuple[np.ndarray, np.ndarray]:
    """(ones (R,), tables (R, N) uint8): `per_t` uniform tables for each T in t_values (default 0..N).

    T's draws come from their own stream, SeedSequence(seed, spawn_key=(T,)), so the
    tables at one T never depend on which other T values are asked for.
    """
    if isinstance(per_t, bool) or int(per_t) != per_t or per_t < 1:
        raise UserError(f"per_t must be a positive integer, got {per_t!r}")
    ts = np.arange(n_points + 1) if t_values is None else np.unique(np.asarray(t_values, dtype=np.int64))
    parts = [tables_with_ones(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(t),))),
                              np.full(int(per_t), int(t)), n_points) for t in ts]
    return np.repeat(ts, int(per_t)), np.concatenate(parts)


def reference_at_ones(domain, measures, per_t: int, seed: int, t_values=None) -> pd.DataFrame:
    """The restricted counting measure measured on `domain` (its encoding and enumeration order).

    One row per reference function: column ``ones`` (T) and one column per measure.
    Measures read the tables in the domain's enumeration order, so `bool:7@perm:3`
    gives the control for a permuted enumeration.
    """
    from biasprobe.measures import compute

    ones, tables = reference_tables(domain.n_points, per_t, seed, t_values)
    frame = pd.DataFrame({"ones": ones})
    for name, values in compute(measures, tables, domain).items():
        frame[name] = values
    return frame


def band_of(ones, n_points: int, edges=BAND_EDGES) -> np.ndarray:
    """Entropy band index of each T: 0 for constants, then (edges[i-1], edges[i]] of min(T, N - T) / N."""
    b = np.minimum(np.asarray(ones), n_points - np.asarray(ones)) / n_points
    return np.where(b == 0, 0, np.searchsorted(np.asarray(edges[1:]), b, side="left") + 1)


def band_labels(n_points: int, edges=BAND_EDGES) -> list[str]:
    """'T in {0, N}' then 'min(T,N-T) in lo..hi' for each band, in integers of T."""
    out = [f"T in {{0,{n_points}}}"]
    for lo, hi in zip(edges[:-1], edges[1:]):
        a, b = math.floor(lo * n_points) + 1, math.floor(hi * n_points)
        out.append(f"min(T,N-T) in {a}..{b}")
    return out


def weighted_quantile(values, weights, q) -> np.ndarray:
    """Quantiles of a weighted sample: the smallest value whose cumulative weight reaches q (inverted CDF)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    v, w = v[keep], w[keep]
    if v.size == 0:
        return np.full(np.shape(q), np.nan)
    order = np.argsort(v, kind="stable")
    v, cw = v[order], np.cumsum(w[order])
    idx = np.searchsorted(cw, np.asarray(q, dtype=float) * cw[-1] * (1 - 1e-12), side="left")
    return v[np.minimum(idx, v.size - 1)]


def matched_reference_weights(ones_prior, weights_prior, ones_ref) -> np.ndarray:
    """Weight of each reference row so the reference has the prior's law of T exactly.

    A reference row at T gets P_prior(T) / (number of reference rows at T); a T the
    prior reaches but the reference lacks is a bug in the caller (UserError).
    """
    ones_prior = np.asarray(ones_prior, dtype=np.int64)
    ones_ref = np.asarray(ones_ref, dtype=np.int64)
    size = int(max(ones_prior.max(initial=0), ones_ref.max(initial=0))) + 1
    p = np.bincount(ones_prior, weights=np.asarray(weights_prior, dtype=float), minlength=size)
    p = p / p.sum()
    m = np.bincount(ones_ref, minlength=size)
    missing = np.flatnonzero((p > 0) & (m == 0))
    if missing.size:
        raise UserError(f"the reference has no functions with T = {missing[:5].tolist()}; draw it for every T")
    return p[ones_ref] / np.maximum(m[ones_ref], 1)


def _mean_var(v, w):
    w = w / w.sum()
    m = float(np.sum(w * v))
    return m, float(np.sum(w * (v - m) ** 2))


def matched_comparison(values, ones, weights, reference: pd.DataFrame, measure: str, n_points: int,
                       edges=BAND_EDGES, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
    """A prior's measure against the T-matched restricted counting measure, overall and per entropy band.

    `values`, `ones`, `weights`: the measure, T and multiplicity of each distinct function
    the prior drew. Within each band (and overall, band 'all', and over every T but the
    constants, band 'non-constant', where the constant functions, identical on both
    sides, no longer dilute the difference), the reference rows are
    weighted to the prior's own law of T inside that band, so both sides have exactly
    the same distribution of T. Columns: band, n (the prior's draws in the band), mass
    (its share of draws), mean and quantiles for the prior and the reference, the
    reference's standard deviation (ref_sd) and its within-T part (ref_sd_within =
    sqrt(sum_T w_T Var(measure | T)), which leaves out the spread that T alone causes),
    delta = prior - reference, the effect size d = delta / ref_sd_within, and
    z = delta / its standard error (the prior's sampling error
    plus the reference's: sum_T w_T^2 Var_T / m_T; NaN when both sides have zero variance).
    """
    v = np.asarray(values, dtype=float)
    t = np.asarray(ones, dtype=np.int64)
    w = np.asarray(weights, dtype=float)
    rt = reference["ones"].to_numpy(dtype=np.int64)
    rv = reference[measure].to_numpy(dtype=float)
    band, rband = band_of(t, n_points, edges), band_of(rt, n_points, edges)
    labels = band_labels(n_points, edges)
    total = w.sum()
    rows = []
    for b, label in [(-1, "all"), (-2, "non-constant")] + list(enumerate(labels)):
        sel = {-1: np.ones_like(band, bool), -2: band > 0}.get(b, band == b)
        rsel = {-1: np.ones_like(rband, bool), -2: rband > 0}.get(b, rband == b)
        n = w[sel].sum()
        row = {"band": label, "n": int(n), "mass": n / total}
        if n == 0:
            rows.append(row)
            continue
        rw = matched_reference_weights(t[sel], w[sel], rt[rsel])
        pm, pvar = _mean_var(v[sel], w[sel])
        rm, rvar = _mean_var(rv[rsel], rw)
        # the reference mean is sum_T w_T mean_T over independent per-T samples of m_T rows
        st, sv = rt[rsel], rv[rsel]
        m_t = np.bincount(st)
        mean_t = np.bincount(st, weights=sv) / np.maximum(m_t, 1)
        var_t = np.bincount(st, weights=(sv - mean_t[st]) ** 2) / np.maximum(m_t - 1, 1)
        share_t = np.bincount(st, weights=rw, minlength=m_t.size)
        ref_var = float(np.sum(share_t**2 * var_t / np.maximum(m_t, 1)))
        within = math.sqrt(float(np.sum(share_t * var_t)))
        se = math.sqrt(pvar / max(n - 1, 1) + ref_var)
        delta = pm - rm
        z = delta / se if se > 0 else math.nan  # both sides deterministic here: delta is exact, z undefined
        row.update(mean=pm, ref_mean=rm, ref_sd=math.sqrt(rvar), ref_sd_within=within, delta=delta,
                   d=delta / within if within > 0 else math.nan, z=z)
        for q, pq, rq in zip(quantiles, weighted_quantile(v[sel], w[sel], quantiles),
                             weighted_quantile(rv[rsel], rw, quantiles)):
            row[f"q{round(100 * q):02d}"] = pq
            row[f"ref_q{round(100 * q):02d}"] = rq
        rows.append(row)
    return pd.DataFrame(rows)
