"""A run directory: its parameters, the manifest of finished shards, the lock, and the shard plan.

Layout of ``RUN/``::

    manifest.json   parameters, the reference canary, and one record per finished shard (rewritten atomically)
    .lock           held (flock) by the one driver working on the run
    shards/         B0-B1-DRAWS.shard files (see `shardfile`)
    table/          part-00000.parquet, ...: the merged table (function, count), sorted like `sample_counts`
    levels.csv      count -> number of functions with that count (the rank-frequency curve)
    summary.json    distinct, samples, nonfinite, rejected, checksum and the parts; written last

Shard s covers seeding blocks [s * shard_blocks, (s + 1) * shard_blocks) of the run
(the last one fewer, its last block possibly partial): a plan that does not depend on
the number of samples except at the end, so a longer run with the same seed reuses a
shorter run's complete shards.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from biasprobe.errors import UserError
from biasprobe.tableio import write_json_atomic  # noqa: F401  (used here and re-exported to run.py)
from biasprobe.sampling import shardfile

FORMAT = 1
MANIFEST = "manifest.json"
SUMMARY = "summary.json"
SHARDS = "shards"
TABLE = "table"
LEVELS = "levels.csv"
DEFAULT_SHARD_DRAWS = 1 << 20  # about 7 s of one core for 7-40-40-1; rounded to whole blocks
DEFAULT_BUCKET_BITS = 8  # 256 hash buckets per shard; the merge splits further when a bucket exceeds its cap
# What may differ between runs that share shards (a longer run reusing a shorter one's): only the length.
_SHARD_INDEPENDENT = ("samples",)


@dataclass(frozen=True)
class RunParameters:
    """Everything that decides a run's bits and layout; a run directory holds exactly one of these."""

    prior: str
    parameters: dict
    domain: str
    seed: int
    samples: int
    device: str
    condition: dict | None
    code: str  # fingerprint of the library code that computes (biasprobe.pipeline.fingerprint)
    block: int
    shard_blocks: int
    bucket_bits: int
    format: int = FORMAT

    def to_json(self) -> dict:
        return asdict(self)

    def shard_key(self) -> str:
        """Hash of what decides a shard's bytes: everything but the run's length."""
        blob = {k: v for k, v in self.to_json().items() if k not in _SHARD_INDEPENDENT}
        return hashlib.sha256(json.dumps(blob, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:20]

    @property
    def n_blocks(self) -> int:
        return -(-self.samples // self.block)

    def plan(self) -> list[dict]:
        """Every shard of the run: {name, blocks: [b0, b1], draws}."""
        out = []
        for b0 in range(0, self.n_blocks, self.shard_blocks):
            b1 = min(b0 + self.shard_blocks, self.n_blocks)
            draws = min(b1 * self.block, self.samples) - b0 * self.block
            out.append({"name": shardfile.shard_name(b0, b1, draws), "blocks": [b0, b1], "draws": draws})
        return out


def code_fingerprint() -> str:
    """The library code that can move numbers, comments and docstrings ignored (the experiments' cache uses it too)."""
    from biasprobe.pipeline.fingerprint import library_fingerprint

    return library_fingerprint()


def condition_spec(condition) -> dict | None:
    """How a condition is recorded (and rebuilt in worker processes): its class path and `to_spec()`."""
    if condition is None:
        return None
    cls = type(condition)
    if not (callable(getattr(condition, "to_spec", None)) and callable(getattr(cls, "from_spec", None))):
        raise UserError(f"condition {cls.__name__} cannot go in a run directory: it needs to_spec() -> dict and"
                        " a classmethod from_spec(dict), so every worker can rebuild it")
    spec = condition.to_spec()
    try:
        json.dumps(spec)
    except (TypeError, ValueError):
        raise UserError(f"condition {cls.__name__}.to_spec() must return JSON data, got {spec!r}") from None
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "spec": spec}


def build_condition(record: dict | None):
    """The condition a record describes (inverse of `condition_spec`)."""
    if record is None:
        return None
    import importlib

    module, _, qualname = record["class"].partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj.from_spec(record["spec"])


def _fmt(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def describe_difference(old: dict, new: dict) -> str:
    names = {"prior": "prior", "parameters": "prior parameters", "domain": "domain", "seed": "seed",
             "samples": "samples", "device": "device", "condition": "condition", "code": "code fingerprint",
             "block": "block size", "shard_blocks": "shard size (blocks)", "bucket_bits": "bucket bits",
             "format": "format"}
    parts = []
    for key in names:
        if old.get(key) != new.get(key):
            a, b = old.get(key), new.get(key)
            if key == "parameters" and isinstance(a, dict) and isinstance(b, dict):
                keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                a = " ".join(f"{k}={_fmt(a.get(k))}" for k in keys)
                b = " ".join(f"{k}={_fmt(b.get(k))}" for k in keys)
            parts.append(f"{names[key]} {a} there, {b} here")
    return "; ".join(parts)


class RunDirectory:
    """The files of one run directory; the caller holds `lock()` while changing them."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.shards = self.path / SHARDS
        self._lock_fd = None

    # -- creation and locking ---------------------------------------------------------------
    def prepare(self) -> None:
        """Create the directory, take the lock and prove it writable, before any sampling starts."""
        p = self.path
        if p.exists() and not p.is_dir():
            raise UserError(f"run directory {str(p)!r} is a file")
        for parent in p.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise UserError(f"run directory {str(p)!r} is below {str(parent)!r}, which is a file")
                break
        try:
            self.shards.mkdir(parents=True, exist_ok=True)
            self.lock()
            probe = self.shards / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            self.unlock()
            raise UserError(f"run directory {str(p)!r} is not writable: {err.strerror or err}") from None

    def lock(self) -> None:
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise UserError(f"run directory {str(self.path)!r} is in use by another biasprobe process") from None
            raise
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- manifest ---------------------------------------------------------------------------
    def read_manifest(self) -> dict | None:
        path = self.path / MANIFEST
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
                raise ValueError("no parameters")
            data.setdefault("shards", {})
            return data
        except (ValueError, OSError) as err:
            raise UserError(f"{str(path)!r} is damaged ({err}); delete the run directory or move it aside") from None

    def write_manifest(self, manifest: dict) -> None:
        write_json_atomic(self.path / MANIFEST, manifest)

    def clean_temporaries(self) -> int:
        """Remove half-written shard files left by killed workers (safe: only the lock holder calls it)."""
        removed = 0
        for tmp in self.shards.glob(f".*{shardfile.SUFFIX}.tmp-*"):
            tmp.unlink(missing_ok=True)
            removed += 1
        import shutil

        for pattern in (".table-tmp-*", ".merge-*"):
            for tmp in self.path.glob(pattern):
                shutil.rmtree(tmp, ignore_errors=True)
        return removed

    def shard_path(self, name: str) -> Path:
        return self.shards / name


