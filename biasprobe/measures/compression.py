"""Compressed sizes of the truth table with zlib, bz2 and lzma: crude upper bounds on its Kolmogorov complexity.

The table is read in the enumeration order (real outputs thresholded at y > 0), packed
8 bits per byte (the last byte zero-padded) and compressed at the highest level; the
value is the compressed size in bytes, container overhead included (a constant per
compressor, so it shifts values but never reorders them).
"""

from __future__ import annotations

import bz2
import lzma
import zlib

import numpy as np

from biasprobe.measures._common import bits_of, map_rows, masked
from biasprobe.measures.registry import register_measure

# Raw LZMA2 stream with the smallest dictionary: the xz container would add ~60 bytes of headers.
LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 4096}]
# About a second of work per child process (see _common.map_rows).
MIN_ROWS_PER_PROCESS = {"bz2": 30_000, "lzma": 3_000}


def _sizes(compress, rows: np.ndarray) -> np.ndarray:
    packed = np.packbits(rows, axis=1)
    return np.array([len(compress(row.tobytes())) for row in packed], dtype=np.float64)


def zlib_rows(rows):
    return _sizes(lambda data: zlib.compress(data, 9), rows)


def bz2_rows(rows):
    return _sizes(lambda data: bz2.compress(data, 9), rows)


def lzma_rows(rows):
    return _sizes(lambda data: lzma.compress(data, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS), rows)


@register_measure("zlib", domains=("boolean", "grid"), bounds=(0, None))
def zlib_size(tables, domain):
    """zlib (DEFLATE, level 9) size in bytes of the packed table, ~5 us per function."""
    bits, valid = bits_of(tables, domain)
    return masked(zlib_rows(bits), valid)


@register_measure("bz2", domains=("boolean", "grid"), bounds=(0, None), slow=True, max_functions=200_000)
def bz2_size(tables, domain, workers=None):
    """bz2 (level 9) size in bytes of the packed table, ~30 us per function."""
    bits, valid = bits_of(tables, domain)
    return masked(map_rows(bz2_rows, bits, min_rows=MIN_ROWS_PER_PROCESS["bz2"], workers=workers), valid)


@register_measure("lzma", domains=("boolean", "grid"), bounds=(0, None), slow=True, max_functions=20_000)
def lzma_size(tables, domain, workers=None):
    """Raw LZMA2 (preset 9, 4 KiB dictionary) size in bytes of the packed table, ~0.3 ms per function."""
    bits, valid = bits_of(tables, domain)
    return masked(map_rows(lzma_rows, bits, min_rows=MIN_ROWS_PER_PROCESS["lzma"], workers=workers), valid)
