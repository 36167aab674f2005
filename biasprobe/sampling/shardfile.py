"""One shard's counts on disk: rows grouped by hash bucket, a JSON header with per-bucket CRCs, written atomically.

Layout: ``BPSHARD1``, the header length (uint64 LE), the JSON header (padded
to 64 bytes), the (R, W) uint64 words, the (R,) int64 counts (both little-endian),
then ``BPSHEND1`` and the CRC-32 of the header. Rows are sorted by bucket, then
by truth table, so a shard's bytes depend only on what it counts. A reader checks
the magic numbers, the header CRC and the file size before trusting a header,
and each bucket's CRC before trusting its rows: a truncated or corrupt shard is
detected, never merged.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from biasprobe.tableio import atomic_file

MAGIC = b"BPSHARD1"
END = b"BPSHEND1"
FORMAT = 1
SUFFIX = ".shard"


class CorruptShard(Exception):
    """A shard file that is truncated, damaged or not what its name says: redo it."""


def shard_name(b0: int, b1: int, draws: int) -> str:
    """The file name of blocks [b0, b1) holding `draws` draws (a partial last block changes it)."""
    return f"{b0:010d}-{b1:010d}-{draws}{SUFFIX}"


def as_bytes(a: np.ndarray) -> np.ndarray:
    """A flat uint8 view of an array's little-endian bytes (no copy on little-endian hosts)."""
    a = np.ascontiguousarray(a)
    return a.astype(a.dtype.newbyteorder("<"), copy=False).reshape(-1).view(np.uint8)


def _crc(*arrays) -> int:
    crc = 0
    for a in arrays:
        crc = zlib.crc32(as_bytes(a), crc)
    return crc


def partition(words: np.ndarray, counts: np.ndarray, bucket_bits: int):
    """Rows sorted by (bucket, truth table) and the (2^bits + 1,) offsets of each bucket."""
    from biasprobe.sampling.kernels import bucket_ids

    words = np.ascontiguousarray(words, np.uint64)
    ids = bucket_ids(words, bucket_bits)
    order = np.lexsort([words[:, j] for j in range(words.shape[1] - 1, -1, -1)] + [ids])
    ids = ids[order]
    offsets = np.searchsorted(ids, np.arange((1 << bucket_bits) + 1), side="left").astype(np.int64)
    return np.ascontiguousarray(words[order]), np.ascontiguousarray(counts[order], np.int64), offsets


def write(path: Path, words: np.ndarray, counts: np.ndarray, bucket_bits: int, header: dict) -> dict:
    """Write a shard atomically (temporary name in the same directory, fsync, rename); returns the full header."""
    path = Path(path)
    words, counts, offsets = partition(words, counts, bucket_bits)
    rows, n_words = words.shape
    crcs = [_crc(words[offsets[b]:offsets[b + 1]], counts[offsets[b]:offsets[b + 1]])
            for b in range(len(offsets) - 1)]
    head = dict(header, format=FORMAT, rows=int(rows), n_words=int(n_words), bucket_bits=int(bucket_bits),
                offsets=offsets.tolist(), crc=crcs)
    blob = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
    start = 16 + len(blob)
    blob += b" " * (-start % 64)
    with atomic_file(path, "wb") as fh:  # the cleaner in rundir removes leftover ".NAME.shard.tmp-*"
        fh.write(MAGIC + struct.pack("<Q", len(blob)) + blob)
        fh.write(as_bytes(words))
        fh.write(as_bytes(counts))
        fh.write(END + struct.pack("<I", zlib.crc32(blob)))
    return head


def read_header(path: Path) -> dict:
    """The header of a complete shard file (magic numbers, header CRC and size checked), else CorruptShard."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            first = fh.read(16)
            if len(first) < 16 or first[:8] != MAGIC:
                raise CorruptShard(f"{path.name}: not a shard file")
            (length,) = struct.unpack("<Q", first[8:])
            if length > 1 << 30:
                raise CorruptShard(f"{path.name}: header length {length} is implausible")
            blob = fh.read(length)
            size = os.fstat(fh.fileno()).st_size
            try:
                head = json.loads(blob)
                rows, n_words = int(head["rows"]), int(head["n_words"])
            except (ValueError, KeyError, TypeError):
                raise CorruptShard(f"{path.name}: damaged header") from None
            data = 16 + length
            expect = data + 8 * rows * (n_words + 1) + 12
            if size != expect:
                raise CorruptShard(f"{path.name}: {size} bytes, expected {expect} (truncated or padded)")
            fh.seek(expect - 12)
            tail = fh.read(12)
    except OSError as err:
        raise CorruptShard(f"{path.name}: {err}") from None
    if tail[:8] != END or struct.unpack("<I", tail[8:])[0] != zlib.crc32(blob):
        raise CorruptShard(f"{path.name}: damaged header or trailer")
    head["_data"] = data
    return head


def read_bucket(path: Path, head: dict, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """(words, counts) of one bucket, read with two positioned reads and checked against its CRC."""
    lo, hi = head["offsets"][bucket], head["offsets"][bucket + 1]
    n, w, rows = hi - lo, head["n_words"], head["rows"]
    words = np.empty((n, w), np.uint64)
    counts = np.empty(n, np.int64)
    if n:
        fd = os.open(path, os.O_RDONLY)
        try:
            _pread_into(fd, words, head["_data"] + 8 * w * lo)
            _pread_into(fd, counts, head["_data"] + 8 * w * rows + 8 * lo)
        finally:
            os.close(fd)
    if _crc(words, counts) != head["crc"][bucket]:
        raise CorruptShard(f"{Path(path).name}: bucket {bucket} fails its CRC")
    return words, counts


def _pread_into(fd: int, array: np.ndarray, offset: int) -> None:
    view = memoryview(array.reshape(-1).view(np.uint8))
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got <= 0:
            raise CorruptShard("unexpected end of shard file")
        done += got


def read_all(path: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    """Header and every row, every bucket's CRC checked (one read of the whole file)."""
    head = read_header(path)
    rows, w = head["rows"], head["n_words"]
    words = np.empty((rows, w), np.uint64)
    counts = np.empty(rows, np.int64)
    fd = os.open(path, os.O_RDONLY)
    try:
        _pread_into(fd, words, head["_data"])
        _pread_into(fd, counts, head["_data"] + 8 * w * rows)
    finally:
        os.close(fd)
    off = head["offsets"]
    for b in range(len(off) - 1):
        if _crc(words[off[b]:off[b + 1]], counts[off[b]:off[b + 1]]) != head["crc"][b]:
            raise CorruptShard(f"{Path(path).name}: bucket {b} fails its CRC")
    return head, words, counts


def verify(path: Path) -> dict:
    """Header plus every bucket's CRC: the whole file is what it claims, else CorruptShard."""
    return read_all(path)[0]
