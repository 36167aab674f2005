"""Packed truth tables inside the compiled priors: per-variable input masks, and unpacking words to +-1 outputs."""

from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np

ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@lru_cache(maxsize=32)
def variable_masks(n: int) -> np.ndarray:
    """(n, W) uint64: bit x % 64 of word x // 64 of row j is x_j at canonical input x (x_1 most significant)."""
    npts = 1 << n
    x = np.arange(npts)
    bits = ((x[None, :] >> (n - 1 - np.arange(n))[:, None]) & 1).astype(np.uint8)
    padded = np.zeros((n, -(-npts // 64) * 64), np.uint8)
    padded[:, :npts] = bits
    masks = np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    masks.setflags(write=False)
    return masks


@lru_cache(maxsize=8)
def popcounts(npts: int) -> np.ndarray:
    """(npts,) uint8: the number of set bits of every index (Hamming weights on a cube of npts points)."""
    x = np.arange(npts, dtype=np.int64)
    count = np.zeros(npts, np.uint8)
    while x.any():
        count += (x & 1).astype(np.uint8)
        x >>= 1
    count.setflags(write=False)
    return count


@nb.njit(cache=True, nogil=True)
def unpack_row(words, out, i):
    """out[i, x] = +1 if bit x of the little-endian packed words is set, else -1."""
    for x in range(out.shape[1]):
        out[i, x] = 1.0 if (words[x >> 6] >> np.uint64(x & 63)) & np.uint64(1) else -1.0
