"""Add complexity-measure columns to a table of functions (hex truth tables in a `function` column), csv or parquet."""

from __future__ import annotations

import time
from pathlib import Path

HELP = "add measure columns (lz, entropy, ...) to a counts table"


def add_arguments(parser):
    parser.add_argument("measures",
                        help="comma-separated measure names, e.g. lz,entropy,csr (see `biasprobe list measures`)")
    parser.add_argument("--in", dest="input", required=True,
                        help="counts table (.csv or .parquet) with a 'function' column")
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

    source, target = tableio.check_input_path(args.input), Path(args.out)
    tableio.check_output_path(target)
    sample = None if args.sample is None else parse_count(args.sample, "--sample", minimum=0)
    seed = parse_count(args.seed, "--seed", minimum=0, maximum=2**63 - 1)
    workers = None if args.workers is None else parse_count(args.workers, "--workers")
    measures = [get_measure(name) for name in parse_names(args.measures)]  # unknown names fail before any work
    names = [m.name for m in measures]
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
