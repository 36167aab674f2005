"""Statistics of sampled function distributions: Zipf slope, Good-Turing coverage and Jensen-Shannon divergence."""

from __future__ import annotations

import math

import numpy as np


def zipf_slope(counts, min_count: int = 10, min_ranks: int = 20) -> float:
    """Least-squares slope of log10 frequency against log10 rank over the functions drawn >= min_count times.

    Rarer functions sit on the 1/samples floor and flatten the curve, so they are
    left out; Valle-Perez et al.'s Zipf law has slope -1. NaN with fewer than
    `min_ranks` such functions (a fit through a handful of ranks, e.g. two constants
    and a few stragglers, says nothing about the curve).
    """
    c = np.sort(np.asarray(counts, dtype=float))[::-1]
    c = c[c >= min_count]
    if c.size < max(min_ranks, 3):
        return math.nan
    rank = np.arange(1, c.size + 1)
    return float(np.polyfit(np.log10(rank), np.log10(c), 1)[0])


def missing_mass(counts) -> float:
    """Good-Turing estimate of the probability of functions never drawn: (functions drawn once) / draws."""
    c = np.asarray(counts)
    total = c.sum()
    return float((c == 1).sum() / total) if total else math.nan


def _align(words_a, counts_a, words_b, counts_b):
    """Probabilities of a and b on the union of their supports (rows of packed words)."""
    words = np.concatenate([np.asarray(words_a), np.asarray(words_b)])
    _, inverse = np.unique(words, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    k = int(inverse.max()) + 1 if inverse.size else 0
    na = len(counts_a)
    pa = np.bincount(inverse[:na], weights=np.asarray(counts_a, float), minlength=k)
    pb = np.bincount(inverse[na:], weights=np.asarray(counts_b, float), minlength=k)
    return pa / pa.sum(), pb / pb.sum()


def js_bits(p, q) -> float:
    """Jensen-Shannon divergence in bits (0 .. 1) between two probability vectors on the same support."""
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return max(0.0, 0.5 * kl(p) + 0.5 * kl(q))


def function_divergence(words_a, counts_a, words_b, counts_b) -> dict:
    """Plug-in Jensen-Shannon divergence between two samples of functions, with what it rests on.

    Keys: js_bits; overlap_a / overlap_b (each sample's mass on functions the other also
    drew); missing_a / missing_b (Good-Turing mass never drawn). The plug-in value is
    only meaningful when both missing masses are small: callers decide "estimable".
    """
    pa, pb = _align(words_a, counts_a, words_b, counts_b)
    both = (pa > 0) & (pb > 0)
    return {"js_bits": js_bits(pa, pb), "overlap_a": float(pa[both].sum()), "overlap_b": float(pb[both].sum()),
            "missing_a": missing_mass(counts_a), "missing_b": missing_mass(counts_b)}
