"""Reading and writing tables of functions (CSV or Parquet) with their JSON sidecars: validated reads, atomic writes.

A table `X.csv` (or `X.parquet`) has a sidecar `X.csv.json` holding its provenance and the
SHA-256 of the table file (`table_sha256`). Writers put both under temporary names in the
target folder and rename the table first and the sidecar last, so a reader sees the old
pair, the new pair, or a new table whose sidecar's checksum does not match — which readers
refuse — never a silent mix. Readers check every claim: names are whole truth tables of the
domain, counts are non-negative integers, the sidecar describes this very file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import socket
from pathlib import Path

from biasprobe.errors import UserError

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}  # suffixes compared case-insensitively


def table_format(path: Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UserError(f"table {str(path)!r}: unknown format {Path(path).suffix or '(no suffix)'!r}; "
                        f"valid: {', '.join(FORMATS)}")
    return fmt


def sidecar_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json")


def check_output_path(path: Path | str, what: str = "output") -> Path:
    """Refuse, before any work starts, an output that cannot be written (one line, exit 2 from the CLI)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} {str(path)!r} is a folder; give a file name ending in .csv or .parquet")
    table_format(path)
    parent = path.parent if str(path.parent) else Path(".")
    for above in (parent, *parent.parents):
        if above.exists():
            if not above.is_dir():
                raise UserError(f"{what} {str(path)!r} lies below {str(above)!r}, which is a file, not a folder")
            break
    if not parent.exists():
        raise UserError(f"{what} folder {str(parent)!r} does not exist")
    # a real write, not os.access: root passes access checks on read-only file systems such as /proc
    probe = parent / f".{path.name}.probe{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise UserError(f"{what} folder {str(parent)!r} is not writable ({_os_reason(err)})") from None
    return path


def check_input_path(path: Path | str) -> Path:
    path = Path(path)
    if not path.exists():
        raise UserError(f"input table {str(path)!r} does not exist")
    if path.is_dir():
        raise UserError(f"input table {str(path)!r} is a folder, not a table file")
    table_format(path)
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _temp_name(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{tag}.tmp{os.getpid()}")


@contextlib.contextmanager
def atomic_pair(path: Path | str, sidecar: dict | None = None):
    """Yield a temporary path to write the table to; on success the table and its sidecar replace the old pair.

    The sidecar (if given) gains `table_sha256`. On any failure (a full disk, Ctrl-C) both
    temporaries are removed and the old pair is left exactly as it was.
    """
    path = Path(path)
    tmp_table = _temp_name(path, "table")
    tmp_side = _temp_name(path, "sidecar")
    try:
        yield tmp_table
        if sidecar is not None:
            record = dict(sidecar, table_sha256=sha256_file(tmp_table))
            tmp_side.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
        os.replace(tmp_table, path)
        if sidecar is not None:
            os.replace(tmp_side, sidecar_path(path))
    except OSError as err:
        raise UserError(f"could not write {str(path)!r}: {_os_reason(err)}; nothing was replaced") from None
    finally:
        for tmp in (tmp_table, tmp_side):
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_file(path: Path | str, mode: str = "w"):
    """Open a temporary file beside `path` for writing; on success it is flushed to disk and renamed over `path`.

    Readers see the old file or the new one, never half of one; on any failure (a full disk,
    Ctrl-C, an exception in the block) the temporary is removed and `path` is untouched. The
    temporary's name carries the host and process (``.NAME.tmp-HOST-PID``), so writers on
    several machines sharing a directory never collide, and a cleaner can glob ``.NAME.tmp-*``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{socket.gethostname()}-{os.getpid()}")
    try:
        with open(tmp, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path | str, data, indent: int = 1) -> None:
    """A JSON file written under a temporary name, flushed to disk and renamed: old or new, never half."""
    with atomic_file(path) as fh:
        fh.write(json.dumps(data, indent=indent, sort_keys=True, default=str) + "\n")


def _os_reason(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "no space left on the device"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (or a read-only file system)"
    return err.strerror or type(err).__name__


def write_frame(frame, path: Path | str, sidecar: dict | None = None) -> None:
    """Write a DataFrame as CSV or Parquet (by suffix) with its sidecar, atomically."""
    path = Path(path)
    fmt = table_format(path)
    with atomic_pair(path, sidecar) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)


def write_chunks(chunks, path: Path | str, sidecar: dict | None = None) -> None:
    """Write an iterable of DataFrames (same columns) as one table, never holding all of them at once."""
    path = Path(path)
    fmt = table_format(path)
    with atomic_pair(path, sidecar) as tmp:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            writer = None
            try:
                for chunk in chunks:
                    table = pa.Table.from_pandas(chunk, preserve_index=False)
                    writer = writer or pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()
        else:
            with open(tmp, "w", newline="") as fh:
                for i, chunk in enumerate(chunks):
                    chunk.to_csv(fh, index=False, header=i == 0)


# ---- reading ----------------------------------------------------------------------------------

def read_sidecar(path: Path | str) -> dict | None:
    """The sidecar of a table (None if there is none); a damaged one is a UserError naming it."""
    side = sidecar_path(Path(path))
    if not side.exists():
        return None
    if side.is_dir():
        raise UserError(f"sidecar {str(side)!r} is a folder, not a JSON file")
    try:
        record = json.loads(side.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"sidecar {str(side)!r} is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise UserError(f"sidecar {str(side)!r} is not valid JSON: {err}") from None
    if not isinstance(record, dict):
        raise UserError(f"sidecar {str(side)!r} does not hold a JSON object")
    return record


def resolve_domain(path: Path | str, spec: str | None):
    """(domain, sidecar record, how the domain was chosen) for a table, refusing a sidecar that is not its own.

    Without --domain the sidecar must exist, name a domain and carry this file's checksum. With --domain
    the sidecar is advisory: the output's provenance says the domain was given and why.
    """
    from biasprobe.domains import parse_domain

    path = Path(path)
    record = read_sidecar(path)
    problem = None
    if record is None:
        problem = f"{str(sidecar_path(path))!r} is missing"
    elif "table_sha256" not in record:
        problem = f"{str(sidecar_path(path))!r} carries no checksum of its table (written by hand or by an older tool)"
    elif record["table_sha256"] != sha256_file(path):
        problem = (f"{str(sidecar_path(path))!r} does not describe this table (its checksum differs: the table "
                   "was changed or only partly written)")
    elif not isinstance(record.get("domain"), str):
        problem = f"{str(sidecar_path(path))!r} names no domain"
    if spec is not None:
        return parse_domain(str(spec)), record or {}, {"domain_from": "--domain", "sidecar": problem or "agrees"}
    if problem is not None:
        raise UserError(f"{problem}; pass --domain (e.g. --domain bool:7) to read {str(path)!r} anyway")
    return parse_domain(record["domain"]), record, {"domain_from": "sidecar"}


def read_table(path: Path | str, column: str = "function"):
    """A table of functions as a DataFrame: the name column as text, any `count` column validated."""
    import pandas as pd

    path = check_input_path(path)
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={column: str}, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"input table {str(path)!r} is not UTF-8 text: not a CSV table") from None
    except pd.errors.EmptyDataError:
        raise UserError(f"input table {str(path)!r} is empty") from None
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise UserError(f"input table {str(path)!r} cannot be read as {fmt}: {str(err).splitlines()[0][:200]}") \
            from None
    if column not in frame.columns:
        raise UserError(f"input table {str(path)!r} has no {column!r} column "
                        f"(columns: {', '.join(map(str, frame.columns)) or 'none'})")
    names = frame[column]
    if not (pd.api.types.is_string_dtype(names) or pd.api.types.is_object_dtype(names)) or \
            not names.map(lambda v: isinstance(v, str)).all():
        bad = next((i for i, v in enumerate(names) if not isinstance(v, str)), 0)
        raise UserError(f"{str(path)!r} row {bad + 1}: {column} {names.iloc[bad]!r} is not text; hex truth tables "
                        "are strings (an integer column would silently read 255 as 0x255)")
    if "count" in frame.columns:
        frame["count"] = _counts(frame["count"], path)
    return frame


def _counts(col, path: Path):
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(col, errors="coerce")
    ok = values.notna() & (values >= 0) & (values == np.floor(values.fillna(0)))
    if not ok.all():
        i = int(np.flatnonzero(~ok.to_numpy())[0])
        raise UserError(f"{str(path)!r} row {i + 1}: count {str(col.iloc[i])!r} is not a non-negative integer")
    return values.astype(np.int64)


def check_names(frame, domain, path: Path | str, column: str = "function") -> None:
    """Every name must be a whole truth table of the domain; the error names the file, the row and the value."""
    from biasprobe.tables import _name_pattern, hex_digits

    names = frame[column].to_numpy()
    digits = hex_digits(domain.n_points)
    pattern = _name_pattern(digits)
    lengths = frame[column].str.strip().str.len().to_numpy()
    suspects = [i for i in range(len(names)) if lengths[i] not in (digits, digits + 2)]
    if not suspects:
        # the common case: every name has the right length; check characters in one vectorised pass
        ok = frame[column].str.strip().str.fullmatch(pattern.pattern).to_numpy()
        suspects = [int(i) for i in (~ok).nonzero()[0][:1]]
    for i in suspects[:1]:
        raise UserError(f"{str(path)!r} row {i + 1}: {column} {names[i]!r} is not a truth table of domain {domain} "
                        f"({digits} hex digits for its {domain.n_points} inputs)")
