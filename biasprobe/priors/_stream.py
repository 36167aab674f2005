"""Per-draw random streams for the compiled reference priors: a 128-bit key per draw, xoroshiro128** inside numba.

Why: a prior's ``draw_outputs`` must make draw i depend only on the start of the
block's stream (a shorter run is a prefix of a longer one), yet trees, formulas,
circuits and nearest-neighbour labellings consume a data-dependent number of
bounded integers per draw. So each draw takes exactly two raw 64-bit words from
the block's ``np.random.Generator`` (``draw_keys``) and seeds its own
xoroshiro128** generator (Blackman & Vigna 2018) with them; everything else about
the draw comes from that private stream, inside a compiled, GIL-free kernel.

Exactness: ``bounded(s, k)`` is exactly uniform on {0, ..., k-1} (Lemire 2019,
multiply-shift with rejection); ``bernoulli(s, p)`` is 1 with probability
ceil(p * 2^53) / 2^53, i.e. exactly p for every p with at most 53 binary digits
(0.5, 0.25, ...), as numpy's ``random() < p``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_MASK32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_INV53 = 1.0 / 9007199254740992.0  # 2^-53


def draw_keys(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 2) uint64: two raw words of the block stream per draw, row i from words 2i and 2i + 1."""
    return np.asarray(rng.bit_generator.random_raw(2 * int(count)), dtype=np.uint64).reshape(int(count), 2)


@nb.njit(cache=True, nogil=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@nb.njit(cache=True, nogil=True, inline="always")
def seed(s, k0, k1):
    """Set state s (2 uint64) from a draw's key; the all-zero state (a fixed point) is replaced by (1, 0)."""
    s[0] = k0
    s[1] = k1
    if k0 == np.uint64(0) and k1 == np.uint64(0):
        s[0] = np.uint64(1)


@nb.njit(cache=True, nogil=True, inline="always")
def next64(s):
    """xoroshiro128** (Blackman & Vigna 2018): next 64-bit output, state advanced in place."""
    s0 = s[0]
    s1 = s[1]
    result = _rotl(s0 * np.uint64(5), 7) * np.uint64(9)
    s1 ^= s0
    s[0] = _rotl(s0, 24) ^ s1 ^ (s1 << np.uint64(16))
    s[1] = _rotl(s1, 37)
    return result


@nb.njit(cache=True, nogil=True, inline="always")
def bounded(s, k):
    """Exactly uniform integer in [0, k) for 1 <= k <= 2^32 (Lemire's nearly divisionless method)."""
    kk = np.uint64(k)
    m = (next64(s) >> np.uint64(32)) * kk
    low = m & _MASK32
    if low < kk:
        threshold = (_TWO32 - kk) % kk
        while low < threshold:
            m = (next64(s) >> np.uint64(32)) * kk
            low = m & _MASK32
    return np.int64(m >> np.uint64(32))


@nb.njit(cache=True, nogil=True, inline="always")
def uniform(s):
    """A multiple of 2^-53 in [0, 1), each equally likely."""
    return np.float64(next64(s) >> np.uint64(11)) * _INV53


@nb.njit(cache=True, nogil=True, inline="always")
def bernoulli(s, p):
    """True with probability ceil(p 2^53) / 2^53 (exactly p for dyadic p)."""
    return uniform(s) < p


@nb.njit(cache=True, nogil=True)
def stream_words(k0, k1, count):
    """Test hook: the first `count` raw outputs of the stream keyed (k0, k1)."""
    s = np.empty(2, np.uint64)
    seed(s, k0, k1)
    out = np.empty(count, np.uint64)
    for i in range(count):
        out[i] = next64(s)
    return out


@nb.njit(cache=True, nogil=True)
def stream_bounded(k0, k1, count, k):
    """Test hook: `count` draws of bounded(., k) from the stream keyed (k0, k1)."""
    s = np.empty(2, np.uint64)
    seed(s, k0, k1)
    out = np.empty(count, np.int64)
    for i in range(count):
        out[i] = bounded(s, k)
    return out
