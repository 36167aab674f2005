"""Add complexity-measure columns to a table of functions (hex truth tables in a `function` column), csv or parquet."""

from __future__ import annotations

import json
import time
from pathlib import Path

from biasprobe.errors import UserError

HELP = "add measure columns (lz, entropy, ...) to a counts table"


def add_arguments(parser):
    parser.add_argument("measures",
                        help="comma-separated measure names, e.g. lz,entropy,csr (see `biasprobe list measures`)")
    parser.add_argument("--in", dest="input", required=True,
                        help="counts table (.csv or .parquet) with a 'function' column, or a run directory"
                        " (sample --run-dir)")
    parser.add_argument("-o", "--out", required=True, help="output table (.csv or .parquet); may equal --in")
    parser.add_argument("--domain",
                        help="domain spec (e.g. bool:7); default: the 'domain' of the input's .json sidecar")
    parser.add_argument("--sample", type=int, default=None,
                        help="measure only this many distinct functions (seeded) with slow measures such as 'boolean'")
    parser.add_argument("--seed", type=int, default=0, help="seed choosing the sampled functions (default 0)")
    parser.add_argument("--workers", type=int, default=None, help="threads/processes (default: all cores)")
    parser.add_argument("--column", default="function", help="column holding the hex truth tables (default: function)")


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def read_table(path: Path):
    import pandas as pd

    if not path.exists():
        raise UserError(f"input table {str(path)!r} does not exist")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"function": str})
    raise UserError(f"input table {str(path)!r} must end in .csv or .parquet")


def write_table(frame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise UserError(f"output table {str(path)!r} must end in .csv or .parquet")


def resolve_domain(spec: str | None, source: Path):
    from biasprobe.domains import parse_domain

    provenance = {}
    side = sidecar(source)
    if side.exists():
        try:
            provenance = json.loads(side.read_text())
        except json.JSONDecodeError as err:
            raise UserError(f"provenance sidecar {str(side)!r} is not valid JSON: {err}") from None
    if spec is None:
        spec = provenance.get("domain") if isinstance(provenance, dict) else None
        if spec is None:
            raise UserError(f"no --domain given and {str(side)!r} names none; pass e.g. --domain bool:7")
    return parse_domain(str(spec)), provenance


def run(args) -> int:
    from biasprobe.measures import measure_table
    from biasprobe.measures.registry import parse_names

    source, target = Path(args.input), Path(args.out)
    if target.suffix not in (".csv", ".parquet"):
        raise UserError(f"output table {str(target)!r} must end in .csv or .parquet")
    if not source.exists():
        raise UserError(f"input table {str(source)!r} does not exist")
    if source.is_dir():
        return _measure_run_dir(args, source, target, parse_names(args.measures))
    domain, provenance = resolve_domain(args.domain, source)
    names = parse_names(args.measures)
    frame = read_table(source)
    start = time.perf_counter()
    out = measure_table(frame, names, domain, sample=args.sample, seed=args.seed, workers=args.workers,
                        column=args.column)
    wall = time.perf_counter() - start
    target.parent.mkdir(parents=True, exist_ok=True)
    write_table(out, target)
    record = dict(provenance) if isinstance(provenance, dict) else {}
    record["measures"] = {"names": names, "domain": str(domain), "input": str(source), "sample": args.sample,
                          "seed": args.seed, "distinct_functions": int(frame[args.column].nunique()),
                          "wall_time_s": round(wall, 3)}
    sidecar(target).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"measured {', '.join(names)} on {record['measures']['distinct_functions']} distinct functions "
          f"in {wall:.2f} s -> {target}")
    return 0


def _measure_run_dir(args, source: Path, target: Path, names) -> int:
    """--in RUN_DIR: measure a run directory's table part by part (it is never loaded whole)."""
    from biasprobe.measures.runs import measure_run
    from biasprobe.sampling.reader import is_run_dir, open_run

    if not is_run_dir(source):
        raise UserError(f"input {str(source)!r} is a directory but not a run directory (no manifest.json)")
    if args.domain is not None:
        raise UserError("--domain is not used with a run directory: its manifest names the domain")
    if args.column != "function":
        raise UserError("--column is not used with a run directory: its table's column is 'function'")
    run = open_run(source)
    if not target.parent.is_dir():
        raise UserError(f"output directory {str(target.parent)!r} does not exist")
    start = time.perf_counter()
    rows = measure_run(run, names, target, sample=args.sample, seed=args.seed, workers=args.workers)
    wall = time.perf_counter() - start
    record = {"run_dir": str(source), "prior": run.parameters["prior"], "parameters": run.parameters["parameters"],
              "domain": run.parameters["domain"], "seed": run.parameters["seed"], "samples": run.samples,
              "nonfinite": run.nonfinite, "distinct": run.distinct, "checksum": run.checksum,
              "measures": {"names": names, "domain": str(run.domain), "input": str(source), "sample": args.sample,
                           "seed": args.seed, "distinct_functions": rows, "wall_time_s": round(wall, 3)}}
    from biasprobe.sampling.rundir import write_json_atomic

    write_json_atomic(sidecar(target), record)
    print(f"measured {', '.join(names)} on {rows} distinct functions of run {source} in {wall:.2f} s -> {target}")
    return 0
