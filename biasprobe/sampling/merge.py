"""The out-of-core merge: shards' counts added bucket by bucket under a memory cap, then one sorted table in parquet parts.

Phase 1 takes one hash bucket at a time (splitting it further by the next hash bits
when its rows would not fit the cap), adds the bucket's rows from every shard in a
hash table (the same numba table that counts in memory), and writes the bucket's
distinct functions sorted by count descending, then truth table, to a temporary
run file. Phase 2 merges the sorted runs chunk by chunk (a k-way merge: every row
not above the smallest chunk end is final) into ``table/part-NNNNN.parquet``
(columns function, count, exactly `sample_counts`' order), with fixed row-group
and part sizes so the bytes do not depend on the cap. Memory is the cap, not the
number of distinct functions; disk holds the shards, the runs and the table.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import numba as nb
import numpy as np

from biasprobe.errors import UserError
from biasprobe.sampling import shardfile
from biasprobe.sampling.counter import HashCounter, capacity_for, sort_rows
from biasprobe.sampling.counts import update_checksum

MIN_MEMORY = 16 << 20
MAX_SPLIT_BITS = 16


def default_max_memory() -> int:
    """A quarter of physical memory."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4)
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 2 << 30


def parse_memory(text) -> int:
    """'2GiB', '512MiB', '1.5G', '300M', '1000000' -> bytes; a UserError for anything else or below 16 MiB."""
    raw = str(text).strip().lower().replace("_", "")
    units = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
             "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}
    number = raw.rstrip("kmgtib")
    unit = raw[len(number):]
    try:
        value = float(number)
    except ValueError:
        value = float("nan")
    if unit not in units or not np.isfinite(value) or value <= 0:
        raise UserError(f"--max-memory {text!r} is not a size (e.g. 2GiB, 512MiB)")
    size = int(value * units[unit])
    if size < MIN_MEMORY:
        raise UserError(f"--max-memory {text!r} is below the 16 MiB the merge needs at least")
    return size


def row_group_rows(n_bits: int) -> int:
    """Rows per parquet row group: a power of two up to 16,384 and about 2 MiB of hex names (the domain's alone)."""
    digits = (n_bits + 3) // 4
    rows = 1 << 14
    while rows > 256 and rows * (digits + 8) > 2 << 20:
        rows //= 2
    return rows


PART_GROUPS = 64  # row groups per part file (1M rows for 7-input functions)


def hex_bytes(words: np.ndarray, n_bits: int) -> np.ndarray:
    """(R,) fixed-width ASCII hex names ('S' dtype), as `tables.to_hex` spells them, without Python strings."""
    from biasprobe.tables import _HEX_PAIRS, hex_digits

    b, w = words.shape
    digits = hex_digits(n_bits)
    raw = np.ascontiguousarray(words, np.uint64).astype(">u8").view(np.uint8).reshape(b, 8 * w)
    chars = _HEX_PAIRS[raw].view("S1").reshape(b, 16 * w)[:, 16 * w - digits:]
    return np.ascontiguousarray(chars).view(f"S{digits}").reshape(b)


@nb.njit(nogil=True, cache=True)
def _count_not_above(words, counts, start, fw, fc):
    """Rows from `start` of a sorted run whose key (-count, words) is <= (-fc, fw): a binary search."""
    lo, hi = start, counts.shape[0]
    n_words = words.shape[1]
    while lo < hi:
        mid = (lo + hi) // 2
        c = counts[mid]
        above = False
        if c < fc:
            above = True
        elif c == fc:
            for j in range(n_words):
                if words[mid, j] != fw[j]:
                    above = words[mid, j] > fw[j]
                    break
        if above:
            hi = mid
        else:
            lo = mid + 1
    return lo - start


class _Run:
    """A sorted run on disk (words then counts), read chunk by chunk."""

    def __init__(self, path: Path, rows: int, n_words: int):
        self.path, self.rows, self.n_words = path, rows, n_words
        self.next = 0  # first row not yet loaded
        self.words = np.empty((0, n_words), np.uint64)
        self.counts = np.empty(0, np.int64)
        self.pos = 0

    def load(self, chunk: int) -> None:
        n = min(chunk, self.rows - self.next)
        words = np.empty((n, self.n_words), np.uint64)
        counts = np.empty(n, np.int64)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            shardfile._pread_into(fd, words, 8 * self.n_words * self.next)
            shardfile._pread_into(fd, counts, 8 * self.n_words * self.rows + 8 * self.next)
        finally:
            os.close(fd)
        self.words, self.counts, self.pos = words, counts, 0
        self.next += n

    @property
    def loaded_left(self) -> int:
        return len(self.counts) - self.pos

    @property
    def more_on_disk(self) -> bool:
        return self.next < self.rows


class _PartWriter:
    """Rows in final order -> fixed-size row groups and parts, with the checksum and the count levels."""

    def __init__(self, directory: Path, n_bits: int):
        self.dir, self.n_bits = directory, n_bits
        self.group = row_group_rows(n_bits)
        self.part_rows = self.group * PART_GROUPS
        self.buf_w, self.buf_c, self.buffered = [], [], 0
        self.writer, self.in_part, self.parts = None, 0, []
        self.sha = hashlib.sha256()
        self.rows = 0

    def add(self, words: np.ndarray, counts: np.ndarray) -> None:
        if not len(counts):
            return
        update_checksum(self.sha, words, counts)
        self.rows += len(counts)
        self.buf_w.append(words)
        self.buf_c.append(counts)
        self.buffered += len(counts)
        while self.buffered >= self.group:
            self._flush(self.group)

    def _flush(self, n: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        words = np.concatenate(self.buf_w) if len(self.buf_w) > 1 else self.buf_w[0]
        counts = np.concatenate(self.buf_c) if len(self.buf_c) > 1 else self.buf_c[0]
        head_w, head_c = words[:n], counts[:n]
        self.buf_w, self.buf_c = ([words[n:]], [counts[n:]]) if n < len(counts) else ([], [])
        self.buffered -= n
        names = pa.array(hex_bytes(head_w, self.n_bits), pa.binary()).cast(pa.string())
        table = pa.table({"function": names, "count": pa.array(head_c, pa.int64())})
        if self.writer is None:
            name = f"part-{len(self.parts):05d}.parquet"
            # names are distinct: a dictionary would only cost memory; counts repeat a lot
            self.writer = pq.ParquetWriter(self.dir / name, table.schema, compression="zstd",
                                           use_dictionary=["count"])
            self.parts.append({"name": name, "rows": 0})
        self.writer.write_table(table, row_group_size=self.group)
        self.parts[-1]["rows"] += n
        self.in_part += n
        if self.in_part >= self.part_rows:
            self._close_part()

    def _close_part(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer, self.in_part = None, 0
            last = self.parts[-1]
            last["bytes"] = (self.dir / last["name"]).stat().st_size

    def close(self) -> None:
        if self.buffered:
            self._flush(self.buffered)
        self._close_part()
        if not self.parts:  # an empty table is still one (empty) part, so readers find its schema
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([("function", pa.string()), ("count", pa.int64())])
            pq.write_table(schema.empty_table(), self.dir / "part-00000.parquet", compression="zstd",
                           use_dictionary=["count"])
            self.parts.append({"name": "part-00000.parquet", "rows": 0,
                               "bytes": (self.dir / "part-00000.parquet").stat().st_size})


def _bucket_estimate(rows: int, entry: int, largest_slice: int) -> int:
    """Bytes to add `rows` rows in a table and sort what it holds (distinct <= rows)."""
    return capacity_for(rows) * entry + rows * (2 * entry + 32) + largest_slice * (entry + 8) * 2


def split_bits(rows: int, entry: int, largest: int, max_memory: int, bucket: int) -> int:
    """How many more hash bits split a bucket of `rows` rows so that each part fits `max_memory`.

    Hash bits split rows evenly up to sampling noise; a 25% margin covers it.
    """
    sub_bits = 0
    while _bucket_estimate(-(-rows * 5 // (4 << sub_bits)), entry, largest) > max_memory:
        sub_bits += 1
        if sub_bits > MAX_SPLIT_BITS or largest * (entry + 8) * 2 > max_memory:
            raise UserError(f"--max-memory {max_memory >> 20} MiB is too small for the {rows} rows of hash bucket"
                            f" {bucket}; give it more")
    return sub_bits


def merge_shards(shards: list[tuple[Path, dict]], out_dir: Path, n_bits: int, max_memory: int, log=None,
                 threads: int = 1) -> dict:
    """Merge shard files into sorted parquet parts in `out_dir` (created); returns the table's summary.

    `shards` are (path, header) pairs of verified shard files; a bucket failing its CRC raises
    `shardfile.CorruptShard` naming the file.
    """
    t0 = time.perf_counter()
    n_words = (n_bits + 63) // 64
    entry = 8 * n_words + 8
    bits = {h["bucket_bits"] for _, h in shards}
    if len(bits) > 1:
        raise ValueError(f"shards with different bucket bits {sorted(bits)}")
    bucket_bits = bits.pop() if bits else 0
    n_buckets = 1 << bucket_bits
    out_dir.mkdir(parents=True)
    scratch = out_dir.parent / f".merge-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    runs: list[_Run] = []
    levels: dict[int, int] = {}
    splits, peak = 0, 0
    # Buckets are independent: `threads` at a time (numba's table and numpy's sort release the GIL), each
    # within its share of the cap. The sorted runs they leave do not depend on the order they finish in.
    threads = max(1, min(int(threads or 1), 8))
    share = max_memory // threads
    jobs = []
    for b in range(n_buckets):
        sizes = [h["offsets"][b + 1] - h["offsets"][b] for _, h in shards]
        rows = sum(sizes)
        if not rows:
            continue
        largest = max(sizes)
        sub_bits = split_bits(rows, entry, largest, share, b)
        splits += sub_bits > 0
        peak = max(peak, threads * _bucket_estimate(-(-rows * 5 // (4 << sub_bits)), entry, largest))
        jobs += [(len(jobs) + sub, b, sub_bits, sub, rows) for sub in range(1 << sub_bits)]
    try:
        from concurrent.futures import ThreadPoolExecutor

        def one(job):
            index, b, sub_bits, sub, rows = job
            return _merge_bucket(shards, b, bucket_bits, sub_bits, sub, rows, n_words, share, scratch, index)

        with ThreadPoolExecutor(threads) as pool:
            for run, counts_levels in pool.map(one, jobs):
                runs.append(run)
                for v, f in counts_levels:
                    levels[v] = levels.get(v, 0) + f
        tmp_parts = _kway(runs, out_dir, n_bits, max_memory, n_words)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    writer, chunk = tmp_parts
    return {"distinct": writer.rows, "checksum": writer.sha.hexdigest(), "parts": writer.parts,
            "row_group_rows": writer.group, "part_rows": writer.part_rows,
            "levels": sorted(levels.items(), reverse=True),
            "merge": {"max_memory": max_memory, "buckets": n_buckets, "split_buckets": splits,
                      "sorted_runs": len(runs), "chunk_rows": chunk, "estimated_peak_bytes": int(peak),
                      "wall_time_s": round(time.perf_counter() - t0, 3)}}


def _merge_bucket(shards, b, bucket_bits, sub_bits, sub, rows, n_words, max_memory, scratch, index):
    """Add one bucket (or part of one) from every shard; write its rows sorted; returns (run, count levels)."""
    from biasprobe.sampling.kernels import in_sub_bucket

    expected = rows if sub_bits == 0 else sum(_sub_rows(shards, b, bucket_bits, sub_bits, sub))
    table = HashCounter(n_words, budget=max_memory, expected=max(expected, 1))
    for path, head in shards:
        if head["offsets"][b + 1] == head["offsets"][b]:
            continue
        words, counts = shardfile.read_bucket(path, head, b)
        if sub_bits:
            keep = in_sub_bucket(words, bucket_bits, sub_bits, sub)
            words, counts = words[keep], counts[keep]
        table.add(words, counts)
    words, counts = sort_rows(*table.rows())
    del table
    values, freq = np.unique(counts, return_counts=True)
    path = scratch / f"run-{index:07d}.bin"
    with open(path, "wb") as fh:
        fh.write(shardfile.as_bytes(words))
        fh.write(shardfile.as_bytes(counts))
    return _Run(path, len(counts), n_words), list(zip(values.tolist(), freq.tolist()))


def _sub_rows(shards, b, bucket_bits, sub_bits, sub):
    from biasprobe.sampling.kernels import in_sub_bucket

    for path, head in shards:
        if head["offsets"][b + 1] > head["offsets"][b]:
            words, _ = shardfile.read_bucket(path, head, b)
            yield int(in_sub_bucket(words, bucket_bits, sub_bits, sub).sum())


def _kway(runs: list[_Run], out_dir: Path, n_bits: int, max_memory: int, n_words: int):
    """Merge sorted runs into the writer: each round emits every loaded row not above the smallest chunk end."""
    writer = _PartWriter(out_dir, n_bits)
    entry = 8 * n_words + 8
    # loaded chunks, the rows taken in a round (copied, sorted) and the writer's buffer all fit the cap
    # the writer holds a row group as words, hex bytes and arrow buffers, and parquet encodes it: ~8 copies of a name
    budget = max(max_memory - writer.group * (3 * entry + 8 * ((n_bits + 3) // 4 + 8)), max_memory // 4)
    # a round holds the loaded chunks, the rows it takes, their sort keys, order and sorted copies: ~10 row copies
    chunk = int(max(64, min(1 << 14, budget // (max(len(runs), 1) * entry * 10))))
    for r in runs:
        r.load(chunk)
    active = [r for r in runs if r.rows]
    while active:
        bounded = [r for r in active if r.more_on_disk]
        if bounded:
            # the smallest last-loaded key among runs with rows still on disk bounds what is final
            lim = min(bounded, key=lambda r: (-int(r.counts[-1]), tuple(int(x) for x in r.words[-1])))
            fw, fc = lim.words[-1].copy(), lim.counts[-1]
        takes_w, takes_c = [], []
        for r in active:
            k = r.loaded_left if not bounded else _count_not_above(r.words, r.counts, r.pos, fw, fc)
            if k:
                takes_w.append(r.words[r.pos:r.pos + k])
                takes_c.append(r.counts[r.pos:r.pos + k])
                r.pos += k
        if takes_c:
            words = np.concatenate(takes_w) if len(takes_w) > 1 else takes_w[0]
            counts = np.concatenate(takes_c) if len(takes_c) > 1 else takes_c[0]
            words, counts = sort_rows(words, counts) if len(takes_c) > 1 else (words, counts)
            writer.add(np.ascontiguousarray(words), np.ascontiguousarray(counts))
        for r in active:
            if r.loaded_left == 0 and r.more_on_disk:
                r.load(chunk)
        active = [r for r in active if r.loaded_left or r.more_on_disk]
    writer.close()
    return writer, chunk
