"""Numba kernels of the sampler: batched network forward pass, threshold-and-pack, and the exact-count hash table."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from biasprobe.activations import POWER, Activation

# No 'nnan'/'ninf'/'reassoc': NaN and inf must survive to the finiteness check, and a fixed
# summation order keeps outputs identical whatever the batch. 'contract' allows FMA.
_FM = {"contract", "arcp", "nsz"}
_SQRT1_2 = 1.0 / math.sqrt(2.0)
# Plain ints: numba freezes module globals as compile-time constants.
LINEAR, RELU, TANH, ERF = int(Activation.LINEAR), int(Activation.RELU), int(Activation.TANH), int(Activation.ERF)
SIGMOID, GELU, SIN = int(Activation.SIGMOID), int(Activation.GELU), int(Activation.SIN)


@nb.njit(nogil=True, fastmath=_FM, inline="always")
def _activate(acc, s, bias, code, dst, i, tile):
    """dst[i, :] = act(s * acc + bias) for one unit over one tile of points."""
    if code == RELU:
        for p in range(tile):
            v = acc[p] * s + bias
            dst[i, p] = 0.0 if v < 0.0 else v  # NaN propagates, as torch.relu does
    elif code == LINEAR:
        for p in range(tile):
            dst[i, p] = acc[p] * s + bias
    elif code == TANH:
        for p in range(tile):
            dst[i, p] = math.tanh(acc[p] * s + bias)
    elif code == ERF:
        for p in range(tile):
            dst[i, p] = math.erf(acc[p] * s + bias)
    elif code == SIGMOID:
        for p in range(tile):
            dst[i, p] = 1.0 / (1.0 + math.exp(-(acc[p] * s + bias)))
    elif code == GELU:
        for p in range(tile):
            v = acc[p] * s + bias
            dst[i, p] = 0.5 * v * (1.0 + math.erf(v * _SQRT1_2))
    elif code == SIN:
        for p in range(tile):
            dst[i, p] = math.sin(acc[p] * s + bias)
    elif code > POWER:
        k = code - POWER
        for p in range(tile):
            v = acc[p] * s + bias
            r = v
            for _ in range(k - 1):
                r = r * v
            dst[i, p] = r
    else:  # unknown code: Network validates codes, and NaN is counted as non-finite, never thresholded
        for p in range(tile):
            dst[i, p] = math.nan


@nb.njit(nogil=True, fastmath=_FM, inline="always")
def _layer(src, fan_in, fan_out, par, off, s, sb, code, dst, acc, tile):
    """dst[i, :] = act(s * W[i] . src + sb * b[i]) for every unit i, two units and four inputs per pass.

    Two units share each load of src and four inputs share each load/store of the
    accumulators: about 1.2x faster than one unit per pass and 1.5x faster than one
    input per pass on 40-wide layers (measured; four units per pass was no faster).
    """
    bias_off = off + fan_out * fan_in
    i = 0
    while i < fan_out:
        two = i + 1 < fan_out
        ba = off + i * fan_in
        bb = ba + fan_in if two else ba  # a lone last unit computes a duplicate row, then drops it
        for p in range(tile):
            acc[0, p] = 0.0
            acc[1, p] = 0.0
        k = 0
        while k + 4 <= fan_in:
            w0 = par[ba + k]
            w1 = par[ba + k + 1]
            w2 = par[ba + k + 2]
            w3 = par[ba + k + 3]
            v0 = par[bb + k]
            v1 = par[bb + k + 1]
            v2 = par[bb + k + 2]
            v3 = par[bb + k + 3]
            for p in range(tile):
                s0 = src[k, p]
                s1 = src[k + 1, p]
                s2 = src[k + 2, p]
                s3 = src[k + 3, p]
                acc[0, p] += w0 * s0 + w1 * s1 + w2 * s2 + w3 * s3
                acc[1, p] += v0 * s0 + v1 * s1 + v2 * s2 + v3 * s3
            k += 4
        while k < fan_in:
            w0 = par[ba + k]
            v0 = par[bb + k]
            for p in range(tile):
                acc[0, p] += w0 * src[k, p]
                acc[1, p] += v0 * src[k, p]
            k += 1
        _activate(acc[0], s, par[bias_off + i] * sb, code, dst, i, tile)
        if two:
            _activate(acc[1], s, par[bias_off + i + 1] * sb, code, dst, i + 1, tile)
        i += 2


@nb.njit(nogil=True, fastmath=_FM, inline="always")
def _cube_layer(n, fan_out, par, off, p0, tile, pm1, s, sb, code, dst, row):
    """First layer on a Boolean cube tile by additive enumeration: T - 1 adds per unit instead of n*T FMAs.

    In lexicographic order the last log2(T) coordinates of point p0 + q are the bits
    of q, so z(p0 + q) = z(p0) + sum of the weights of q's set bits: each doubling
    step adds one weight to the half built so far. pm1 (x = 2 bit - 1) starts from
    -sum w and steps by 2 w.
    """
    low = 0
    while (1 << low) < tile:
        low += 1
    bias_off = off + fan_out * n
    for i in range(fan_out):
        base = off + i * n
        c = 0.0
        for k in range(n - low):
            w = par[base + k]
            if (p0 >> (n - 1 - k)) & 1:
                c += w
            elif pm1:
                c -= w
        if pm1:
            for j in range(low):
                c -= par[base + n - 1 - j]
        row[0] = c
        size = 1
        for j in range(low):
            step = par[base + n - 1 - j]
            if pm1:
                step = 2.0 * step
            lo = row[:size]
            hi = row[size : 2 * size]  # disjoint views: lets the long steps vectorise
            for q in range(size):
                hi[q] = lo[q] + step
            size *= 2
        _activate(row, s, par[bias_off + i] * sb, code, dst, i, tile)


@nb.njit(nogil=True, fastmath=_FM, cache=True)
def forward(features, params, widths, codes, wscale, bscale, tile, cube, out):
    """out[b, :] = network b (raw unit-variance parameters params[b]) on every point; see `_forward`.

    The usual tile of 128 points is passed as a literal so that, with every helper
    inlined, the compiler knows the trip count of the point loops: 1.3x faster than
    a run-time tile (measured), with bit-identical outputs.
    """
    if tile == 128:
        return _forward(features, params, widths, codes, wscale, bscale, 128, cube, out)
    return _forward(features, params, widths, codes, wscale, bscale, tile, cube, out)


@nb.njit(nogil=True, fastmath=_FM, inline="always")
def _forward(features, params, widths, codes, wscale, bscale, tile, cube, out):
    """out[b, :] = network b (raw unit-variance parameters params[b]) on every point.

    features: (K, Npad) float32 with Npad a multiple of tile; out: (B, N) float32.
    cube: 0 = general features; 1 = the inputs are {0,1}^n in lexicographic order,
    2 = {-1,+1}^n (then tile is a power of two <= N, and the first layer is built
    by additive enumeration). Each network is computed alone, tile by tile, so its
    output does not depend on B.
    """
    n_out = out.shape[1]
    n_pad = features.shape[1]
    depth = widths.shape[0] - 1
    widest = 0
    for w in widths:
        widest = max(widest, w)
    ha = np.empty((widest, tile), np.float32)
    hb = np.empty((widest, tile), np.float32)
    acc = np.empty((2, tile), np.float32)
    # The cube layer sums its weights in float64: a sum of a few float32 numbers is then exact, so an output is
    # exactly 0 only if the weights cancel exactly (a bias-free perceptron on pm1:n stays exactly odd; float32
    # sums tied at 0 at x and -x about once per 10^5 draws and broke the theorem's support).
    row = np.empty(tile, np.float64)
    for b in range(params.shape[0]):
        par = params[b]
        for p0 in range(0, n_pad, tile):
            src = ha
            dst = hb
            first = 0
            if cube:
                _cube_layer(widths[0], widths[1], par, 0, p0, tile, cube == 2, wscale[0], bscale[0], codes[0],
                            dst, row)
                src, dst = dst, src
                first = 1
            else:
                for k in range(widths[0]):
                    for p in range(tile):
                        ha[k, p] = features[k, p0 + p]
            off = widths[0] * widths[1] + widths[1] if cube else 0
            for layer in range(first, depth):
                fi = widths[layer]
                fo = widths[layer + 1]
                _layer(src, fi, fo, par, off, wscale[layer], bscale[layer], codes[layer], dst, acc, tile)
                off += fo * fi + fo
                src, dst = dst, src
            for p in range(min(tile, n_out - p0)):
                out[b, p0 + p] = src[0, p]
    return out


@nb.njit(nogil=True, cache=True)
def threshold_pack(outputs, words, finite):
    """Bit i = outputs[:, i] > 0, packed big-endian (bit 0 is the most significant); rows with NaN/inf flagged."""
    n = outputs.shape[1]
    n_words = words.shape[1]
    shift = 64 * n_words - n  # the left padding of biasprobe.tables.pack
    for b in range(outputs.shape[0]):
        ok = True
        for w in range(n_words):
            words[b, w] = 0
        for i in range(n):
            v = outputs[b, i]
            if not np.isfinite(v):
                ok = False
                break
            if v > 0:
                q = shift + i
                words[b, q >> 6] |= np.uint64(1) << np.uint64(63 - (q & 63))
        finite[b] = ok


@nb.njit(inline="always")
def _hash(words, row):
    h = np.uint64(0x9E3779B97F4A7C15)
    for w in range(words.shape[1]):
        h ^= words[row, w]
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h


@nb.njit(inline="always")
def _add(keys, counts, mask, src, row, c):
    """Add c to the count of src[row] in the open-addressing table; returns 1 if the row was new."""
    n_words = keys.shape[1]
    slot = _hash(src, row) & mask
    while True:
        if counts[slot] == 0:
            for w in range(n_words):
                keys[slot, w] = src[row, w]
            counts[slot] = c
            return 1
        same = True
        for w in range(n_words):
            if keys[slot, w] != src[row, w]:
                same = False
                break
        if same:
            counts[slot] += c
            return 0
        slot = (slot + np.uint64(1)) & mask


@nb.njit(nogil=True, cache=True)
def table_insert(keys, counts, words, valid):
    """Add each valid row of words to the open-addressing table (count 0 = empty); returns new distinct rows.

    The caller keeps the load factor below 1 so that a free slot always exists.
    """
    mask = np.uint64(keys.shape[0] - 1)
    added = 0
    for r in range(words.shape[0]):
        if valid[r]:
            added += _add(keys, counts, mask, words, r, 1)
    return added


@nb.njit(nogil=True, cache=True)
def table_merge(keys, counts, src_keys, src_counts):
    """Add every occupied entry of (src_keys, src_counts) into (keys, counts); used to grow and to merge."""
    mask = np.uint64(keys.shape[0] - 1)
    added = 0
    for r in range(src_keys.shape[0]):
        if src_counts[r] != 0:
            added += _add(keys, counts, mask, src_keys, r, src_counts[r])
    return added
