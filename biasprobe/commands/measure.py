"""Add complexity-measure columns to a table of functions (hex truth tables in a `function` column), csv or parquet."""

from __future__ import annotations

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
                        help="domain spec (e.g. bool:7); default: the 'domain' of the input's .json sidecar, which "
                             "must carry this table's checksum")
    parser.add_argument("--sample", default=None,
                        help="measure only this many distinct functions (seeded) with slow measures such as 'boolean'")
    parser.add_argument("--seed", default="0", help="seed choosing the sampled functions (default 0)")
    parser.add_argument("--workers", default=None, help="threads/processes (default: all cores)")
    parser.add_argument("--column", default="function", help="column holding the hex truth tables (default: function)")


def run(args) -> int:
    from biasprobe import tableio
    from biasprobe.commands.sample import parse_count
    from biasprobe.measures import get_measure, measure_table
    from biasprobe.measures.registry import parse_names

    source, target = Path(args.input), Path(args.out)
    tableio.check_output_path(target)
    sample = None if args.sample is None else parse_count(args.sample, "--sample", minimum=0)
    seed = parse_count(args.seed, "--seed", minimum=0, maximum=2**63 - 1)
    workers = None if args.workers is None else parse_count(args.workers, "--workers")
    measures = [get_measure(name) for name in parse_names(args.measures)]  # unknown names fail before any work
    names = [m.name for m in measures]
    if source.is_dir():
        return _measure_run_dir(args, source, target, names, sample, seed, workers)
    source = tableio.check_input_path(source)
    domain, provenance, how = tableio.resolve_domain(source, args.domain)
    for m in measures:
        m.check_domain(domain)
    frame = tableio.read_table(source, column=args.column)
    tableio.check_names(frame, domain, source, column=args.column)
    start = time.perf_counter()
    out = measure_table(frame, names, domain, sample=sample, seed=seed, workers=workers, column=args.column)
    wall = time.perf_counter() - start
    record = {k: v for k, v in provenance.items() if k != "table_sha256"}
    record["measures"] = {"names": names, "domain": str(domain), **how, "input": str(source),
                          "input_sha256": provenance.get("table_sha256"), "sample": sample, "seed": seed,
                          "distinct_functions": int(frame[args.column].nunique()), "wall_time_s": round(wall, 3)}
    tableio.write_frame(out, target, record)  # in place (-o = --in) is safe: the input is read in full first
    print(f"measured {', '.join(names)} on {record['measures']['distinct_functions']} distinct functions "
          f"in {wall:.2f} s -> {target}")
    return 0


def _measure_run_dir(args, source: Path, target: Path, names, sample, seed, workers) -> int:
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
    start = time.perf_counter()
    record = {"run_dir": str(source), "prior": run.parameters["prior"], "parameters": run.parameters["parameters"],
              "domain": run.parameters["domain"], "seed": run.parameters["seed"], "samples": run.samples,
              "nonfinite": run.nonfinite, "distinct": run.distinct, "checksum": run.checksum,
              "measures": {"names": names, "domain": str(run.domain), "input": str(source), "sample": sample,
                           "seed": seed, "distinct_functions": run.distinct}}
    rows = measure_run(run, names, target, sample=sample, seed=seed, workers=workers, sidecar=record)
    wall = time.perf_counter() - start
    print(f"measured {', '.join(names)} on {rows} distinct functions of run {source} in {wall:.2f} s -> {target}")
    return 0
