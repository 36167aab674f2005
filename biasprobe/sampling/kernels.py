"""Numba kernels of the on-disk counter: hash buckets of packed truth tables, and a filter by sub-bucket."""

from __future__ import annotations

import numba as nb
import numpy as np

from biasprobe._kernels import _hash  # the hash table's own mix: buckets take its top bits, slots its low bits


@nb.njit(nogil=True, cache=True)
def bucket_ids(words, bits):
    """(R,) uint32: the top `bits` bits of each row's hash (0 when bits == 0)."""
    out = np.zeros(words.shape[0], np.uint32)
    if bits == 0:
        return out
    shift = np.uint64(64 - bits)
    for r in range(words.shape[0]):
        out[r] = np.uint32(_hash(words, r) >> shift)
    return out


@nb.njit(nogil=True, cache=True)
def in_sub_bucket(words, bits, sub_bits, sub):
    """(R,) bool: rows whose hash bits just below the top `bits` spell `sub` (a bucket split 2^sub_bits ways)."""
    out = np.zeros(words.shape[0], np.bool_)
    shift = np.uint64(64 - bits - sub_bits)
    mask = np.uint64((1 << sub_bits) - 1)
    for r in range(words.shape[0]):
        out[r] = ((_hash(words, r) >> shift) & mask) == np.uint64(sub)
    return out
