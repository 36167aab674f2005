"""The compute cache: one folder of parquet tables per (experiment, key); written atomically, verified when read.

The key hashes everything that determines what ``compute`` returns: the experiment's
name, resolved configuration and seed, the compute code (its function and the helpers it
reaches, the library code that can move numbers, the plug-ins with their versions and
code; see ``fingerprint``), the package version and the cache format. The manifest of an
entry repeats its key and the parts it was made from; an entry whose manifest is missing,
unreadable, of another key or missing a table is ignored (one warning) and recomputed,
never trusted and never a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

from biasprobe import __version__
from biasprobe.pipeline import fingerprint
from biasprobe.tableio import sha256_file

FORMAT = 2  # bump when the on-disk cache layout changes


def key_parts(exp, config: dict, seed: int) -> dict:
    return {"name": exp.name, "config": config, "seed": int(seed), "version": __version__, "format": FORMAT,
            "compute": fingerprint.function_fingerprint(exp.compute),
            "library": fingerprint.library_fingerprint(),
            "plugins": fingerprint.plugins_fingerprint()}


def key_of(parts: dict) -> str:
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def cache_key(exp, config: dict, seed: int) -> str:
    """Hash of everything that determines compute's output (the scale's name itself is not part of it)."""
    return key_of(key_parts(exp, config, seed))


def entry_path(exp_name: str, key: str, root: Path) -> Path:
    return Path(root) / "experiments" / f"{exp_name}-{key}"


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def read_manifest(path: Path) -> dict | None:
    """The entry's manifest if it parses and names its tables, else None (a missing entry says nothing)."""
    manifest = path / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
            raise ValueError("no table list")
        return data
    except (OSError, ValueError, UnicodeDecodeError) as err:
        _warn(f"ignoring damaged cache entry {path} ({type(err).__name__}: {err}); it will be recomputed")
        return None


def load(path: Path, key: str) -> dict | None:
    """The cached tables of an entry, or None when there is none or it cannot be trusted."""
    import pandas as pd

    manifest = read_manifest(path)
    if manifest is None:
        return None
    if manifest.get("key") != key:
        _warn(f"ignoring cache entry {path}: its manifest names key {manifest.get('key')!r}, not {key!r}")
        return None
    if not _verified(path, manifest):
        _warn(f"ignoring damaged cache entry {path}: a table is missing or fails its checksum; it will be recomputed")
        return None
    try:
        return {str(name): pd.read_parquet(path / f"{name}.parquet") for name in manifest["tables"]}
    except (OSError, ValueError) as err:  # a truncated, missing or foreign file
        _warn(f"ignoring damaged cache entry {path} ({type(err).__name__}: {err}); it will be recomputed")
        return None


def _verified(path: Path, manifest: dict) -> bool:
    sums = manifest.get("sha256")
    if not isinstance(sums, dict):
        return False
    try:
        return all(sha256_file(path / f"{name}.parquet") == sums.get(name) for name in manifest["tables"])
    except OSError:
        return False


def is_complete(path: Path, key: str) -> bool:
    """The entry's manifest names this key and every table it lists is there with its recorded checksum."""
    manifest = read_manifest(path)
    return manifest is not None and manifest.get("key") == key and _verified(path, manifest)


def compute_seconds(path: Path) -> float | None:
    manifest = read_manifest(path)
    value = manifest.get("compute_s") if manifest else None
    return float(value) if isinstance(value, (int, float)) else None


def store(path: Path, tables: dict, key: str, parts: dict, compute_s: float | None = None) -> None:
    """Write atomically (a temporary folder beside it, then one rename) so a reader never sees half an entry."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        for name, df in tables.items():
            if not isinstance(df, pd.DataFrame):
                raise TypeError(f"compute must return DataFrames; table {name!r} is {type(df).__name__}")
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        sums = {name: sha256_file(tmp / f"{name}.parquet") for name in tables}
        (tmp / "manifest.json").write_text(json.dumps(
            {"key": key, "parts": parts, "tables": list(tables), "sha256": sums, "compute_s": compute_s},
            indent=1, default=str))
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def clean_stale_temporaries(root: Path) -> int:
    """Remove temporary folders left by runs that died (their process is gone); returns how many."""
    folder = Path(root) / "experiments"
    removed = 0
    if not folder.is_dir():
        return 0
    for tmp in folder.glob("*.tmp*"):
        pid = tmp.name.rpartition(".tmp")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
