"""Compiled Lempel-Ziv (Kaspar-Schuster) phrase counting over batches of bit strings, bit-parallel in 64-bit words.

Imported lazily (numba start-up costs ~0.5 s); `cache=True` keeps the compiled kernels
between runs so a fresh process does not recompile them.

The scan follows Kaspar & Schuster (1987), Phys. Rev. A 36, 842: the first symbol is a
phrase; each next phrase is the longest prefix of the rest that starts somewhere earlier
(overlap allowed) plus one new symbol; a phrase cut off by the end of the string counts
too. Instead of trying each earlier start i one by one, the set of starts still matching
is kept as a bit set of "current end" positions E and advanced for all starts at once:
E <- (E & positions holding the next symbol) << 1, which costs N/64 word operations per
symbol. Strings of up to 128 bits (the 7-input case) take a path with two scalar words.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

BLOCK = 512  # rows per parallel work item (scratch buffers are allocated once per block)
ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
# Multiplying 8 little-endian 0/1 bytes by these gathers them into the top byte:
# byte k -> bit 56+k (forward) or bit 63-k (reversed); no two partial products collide.
GATHER = np.uint64(0x0102040810204080)
GATHER_REV = np.uint64(0x8040201008040201)


@njit(cache=True, inline="always")
def _low_mask(l, lo):
    """Bits [0, l - lo) of a word covering positions lo..lo+63."""
    if l >= lo + 64:
        return ONES
    if l > lo:
        return (np.uint64(1) << np.uint64(l - lo)) - np.uint64(1)
    return np.uint64(0)


@njit(cache=True, inline="always")
def _count2(b0, b1, n):
    """Phrase count of a string of n <= 128 bits whose 1-positions are the 128-bit set (b0, b1)."""
    if n == 1:
        return 1
    c = 1
    l = 1
    while l < n:
        e0 = _low_mask(l, 0)
        e1 = _low_mask(l, 64)
        pos = l
        while True:
            if pos == n:  # the copy ran off the end: the unfinished phrase counts
                return c + 1
            if pos < 64:
                bit = (b0 >> np.uint64(pos)) & np.uint64(1)
            else:
                bit = (b1 >> np.uint64(pos - 64)) & np.uint64(1)
            # Positions holding the same symbol: b when bit is 1, ~b when it is 0 (branch-free).
            flip = bit - np.uint64(1)
            e0 &= b0 ^ flip
            e1 &= (b1 ^ flip)
            if (e0 | e1) == 0:
                break
            e1 = (e1 << np.uint64(1)) | (e0 >> np.uint64(63))
            e0 = e0 << np.uint64(1)
            pos += 1
        c += 1
        l = pos + 1
    return c


@njit(cache=True, inline="always")
def _count(b, n, w, e):
    """Phrase count of a string of n bits whose 1-positions are the bit set b (w words); e is scratch."""
    if n == 1:
        return 1
    c = 1
    l = 1
    while l < n:
        for k in range(w):
            e[k] = _low_mask(l, 64 * k)
        pos = l
        while True:
            if pos == n:
                return c + 1
            bit = (b[pos >> 6] >> np.uint64(pos & 63)) & np.uint64(1)
            flip = bit - np.uint64(1)
            alive = np.uint64(0)
            for k in range(w):
                e[k] &= b[k] ^ flip
                alive |= e[k]
            if alive == 0:
                break
            carry = np.uint64(0)
            for k in range(w):
                top = e[k] >> np.uint64(63)
                e[k] = (e[k] << np.uint64(1)) | carry
                carry = top
            pos += 1
        c += 1
        l = pos + 1
    return c


@njit(cache=True, inline="always")
def _load(row, n, fwd, rev):
    """Fill the forward and reversed 1-position sets of a 0/1 uint8 row; returns the number of ones."""
    for k in range(fwd.size):
        fwd[k] = 0
        rev[k] = 0
    ones = 0
    for p in range(n):
        if row[p]:
            ones += 1
            fwd[p >> 6] |= np.uint64(1) << np.uint64(p & 63)
            q = n - 1 - p
            rev[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    return ones


@njit(cache=True, inline="always")
def _load8(row8, n, fwd, rev):
    """As _load, for n % 8 == 0, reading the row as n/8 little-endian uint64 words of 8 bytes."""
    for k in range(fwd.size):
        fwd[k] = 0
        rev[k] = 0
    ones = 0
    m = n // 8
    for t in range(m):
        x = row8[t]
        ones += ((x * np.uint64(0x0101010101010101)) >> np.uint64(56))  # byte sum (each byte 0/1)
        f = (x * GATHER) >> np.uint64(56)  # position 8t+k -> bit k
        r = (x * GATHER_REV) >> np.uint64(56)  # position 8t+k -> bit 7-k
        fwd[(8 * t) >> 6] |= f << np.uint64((8 * t) & 63)
        q = n - 8 - 8 * t  # reversed chunk starts at n-1-(8t+7)
        rev[q >> 6] |= r << np.uint64(q & 63)
    return int(ones)


@njit(cache=True, inline="always")
def _phrases(row, row8, n, use8, fwd, rev, e, both):
    """(ones, forward count, reverse count) of one row; the reverse count only when `both`."""
    ones = _load8(row8, n, fwd, rev) if use8 else _load(row, n, fwd, rev)
    if n <= 128:
        f = _count2(fwd[0], fwd[1] if fwd.size > 1 else np.uint64(0), n)
        r = _count2(rev[0], rev[1] if rev.size > 1 else np.uint64(0), n) if both else 0
    else:
        f = _count(fwd, n, fwd.size, e)
        r = _count(rev, n, rev.size, e) if both else 0
    return ones, f, r


@njit(cache=True, parallel=True)
def _batch(bits, bits8, use8, both):
    b, n = bits.shape
    w = (n + 63) // 64
    out = np.empty((b, 3), dtype=np.int64)
    nblocks = (b + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        fwd = np.empty(w, np.uint64)
        rev = np.empty(w, np.uint64)
        e = np.empty(w, np.uint64)
        for i in range(blk * BLOCK, min(b, (blk + 1) * BLOCK)):
            ones, f, r = _phrases(bits[i], bits8[i], n, use8, fwd, rev, e, both)
            out[i, 0] = ones
            out[i, 1] = f
            out[i, 2] = r
    return out


def phrase_counts(bits: np.ndarray, both: bool = True) -> np.ndarray:
    """(B, 3) int64: number of ones, forward and (if `both`) reverse phrase counts of each 0/1 row."""
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    n = bits.shape[1]
    use8 = n % 8 == 0 and n > 0
    bits8 = bits.view(np.uint64) if use8 else np.zeros((bits.shape[0], 1), np.uint64)
    # Hand out blocks a few at a time rather than one equal share per thread, so a core
    # slowed by another process does not leave the other idle at the end.
    previous = numba.set_parallel_chunksize(4)
    try:
        return _batch(bits, bits8, use8, both)
    finally:
        numba.set_parallel_chunksize(previous)
