"""Sample random functions from a prior on a domain, count them exactly and write function,count plus a provenance sidecar."""

from __future__ import annotations

import math
import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from biasprobe import tableio
from biasprobe.errors import UserError

HELP = "sample random functions from a prior and count them exactly"
EPILOG = ("example: biasprobe sample mlp --domain bool:7 --samples 1e6 --seed 0 --set hidden=40,40 "
          "--set activation=relu -o counts.csv   (writes counts.csv and counts.csv.json)")


def add_arguments(parser):
    parser.epilog = EPILOG
    parser.add_argument("prior", help="prior name (see `biasprobe list priors`)")
    parser.add_argument("--domain", default="bool:7", help="input domain, e.g. bool:7, pm1:5, grid:2:64@gray (default bool:7)")
    parser.add_argument("--samples", default="1e6", help="number of functions to draw, e.g. 1e6 (default 1e6)")
    parser.add_argument("--seed", default="0", help="root seed (default 0)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="set a prior parameter, e.g. --set hidden=40,40 (repeatable)")
    parser.add_argument("-o", "--output", help="output table: .csv or .parquet; a JSON sidecar is written beside it"
                        " as OUTPUT.json (without -o: a summary on stdout)")
    parser.add_argument("--measures", default="", help="comma-separated measures to add as columns, e.g. lz,entropy")
    parser.add_argument("--batch-size", default=None, help="draws evaluated per kernel call (default: automatic)")
    parser.add_argument("--workers", default=None, help="worker threads (default: one per core)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (default: cuda when torch finds it;"
                        " cpu with --run-dir)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    runs = parser.add_argument_group("run directories (sharded, resumable, counted on disk)")
    runs.add_argument("--run-dir", help="sample into this run directory: shards written as they finish, re-running"
                      " the same command resumes; the merged table goes to RUN_DIR/table/*.parquet")
    runs.add_argument("--executor", default="local", help="local (worker processes, default), inline (this"
                      " process), dask (with --scheduler) or dask-local; dask needs biasprobe[distributed]")
    runs.add_argument("--scheduler", help="Dask scheduler address for --executor dask, e.g. tcp://HOST:8786")
    runs.add_argument("--max-memory", help="memory cap of the merge, e.g. 2GiB (default: a quarter of RAM)")
    runs.add_argument("--shard-size", help="draws per shard, rounded up to whole seeding blocks (default about 1e6)")
    runs.add_argument("--reuse", metavar="RUN_DIR", help="take complete shards from another run directory of the"
                      " same prior, domain, seed and code (e.g. a shorter run)")


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
MAX_DIGITS = 40  # no count or seed the engine takes is longer; bigger numbers are refused before int() sees them


def parse_count(text, what: str, minimum: int = 1, maximum: int | None = None) -> int:
    """'1e6', '1000000', '10**6' or '1_000' -> int, exactly (no float rounding: 1e30 is 10^30); anything else,
    or a value outside [minimum, maximum], is a UserError."""
    raw = str(text).strip().replace("_", "")
    try:
        if "**" in raw:
            base, _, exp = raw.partition("**")
            base, exp = int(base), int(exp)
            if exp < 0 or (abs(base) > 1 and exp * math.log10(abs(base)) > MAX_DIGITS):
                raise ValueError
            value = base**exp
        else:
            if not _NUMBER.fullmatch(raw):
                raise ValueError
            number = Decimal(raw)
            if number.adjusted() > MAX_DIGITS:
                raise UserError(f"{what} {text!r} is too large (more than {MAX_DIGITS} digits)")
            if number != number.to_integral_value():
                raise ValueError
            value = int(number)
    except (ValueError, OverflowError, InvalidOperation):
        raise UserError(f"{what} {text!r} is not a whole number (e.g. 1e6, 1000000)") from None
    if value < minimum:
        raise UserError(f"{what} must be >= {minimum}, got {text!r}")
    if maximum is not None and value > maximum:
        raise UserError(f"{what} must be <= {maximum}, got {text!r}")
    return value


def run(args) -> int:
    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior, parse_sets

    prior = make_prior(args.prior, **parse_sets(args.sets))
    domain = parse_domain(args.domain)
    samples = parse_count(args.samples, "--samples")
    from biasprobe.sampling.engine import MAX_SEED

    seed = parse_count(args.seed, "--seed", minimum=0, maximum=MAX_SEED - 1)
    batch = None if args.batch_size is None else parse_count(args.batch_size, "--batch-size")
    workers = None if args.workers is None else parse_count(args.workers, "--workers")
    measures = [m.strip() for m in args.measures.split(",") if m.strip()]
    out_path = tableio.check_output_path(args.output) if args.output else None  # before minutes of sampling
    prior.check_domain(domain)
    if measures:
        from biasprobe.measures import measure_table

        _check_measures(measures, domain)
    if args.run_dir is not None:
        return _run_dir(args, prior, domain, samples, seed, workers, measures, out_path)
    for flag in ("executor", "scheduler", "max_memory", "shard_size", "reuse"):
        if getattr(args, flag) not in (None, "local"):
            raise UserError(f"--{flag.replace('_', '-')} needs --run-dir")
    from biasprobe.sampling.engine import check_samples

    check_samples(samples, "--samples")

    from biasprobe.sampling import sample_counts

    counts = sample_counts(prior, domain, samples=samples, seed=seed, batch_size=batch, workers=workers,
                           device=args.device, progress=not args.no_progress and sys.stderr.isatty())
    frame = None
    if measures or out_path is None:
        frame = counts.to_frame() if out_path is not None else _frame(counts, 0, 10)
    if measures:
        frame = measure_table(frame, measures, domain)
    summary = (f"{counts.samples} samples of {prior.label()} on {domain}: {counts.distinct} distinct functions,"
               f" {counts.nonfinite} non-finite, {counts.wall_time:.2f} s"
               f" ({counts.samples / max(counts.wall_time, 1e-9):,.0f}/s)")
    if out_path is None:
        print(summary)
        print(frame.head(10).to_string(index=False))
        return 0
    write_table(counts, frame, out_path, provenance(counts, measures))
    print(f"{summary}\nwrote {out_path} and {tableio.sidecar_path(out_path)}", file=sys.stderr)
    return 0


CHUNK = 1 << 20  # rows per write when no measures are added: hex names never all in memory at once


def _frame(counts, start: int, stop: int):
    import pandas as pd

    from biasprobe.tables import to_hex

    return pd.DataFrame({"function": to_hex(counts.words[start:stop], counts.n_bits),
                         "count": counts.counts[start:stop]})


def write_table(counts, frame, path: Path, sidecar: dict) -> None:
    """Write `frame`, or (frame None) the counts in chunks of CHUNK rows, with the sidecar, atomically."""
    if frame is not None:
        tableio.write_frame(frame, path, sidecar)
        return
    chunks = (_frame(counts, i, i + CHUNK) for i in range(0, max(counts.distinct, 1), CHUNK))
    tableio.write_chunks(chunks, path, sidecar)


def _check_measures(names, domain) -> None:
    """Fail on an unknown measure name before sampling, not after minutes of it."""
    try:
        from biasprobe.measures import get_measure
    except ImportError:
        return
    for name in names:
        measure = get_measure(name)  # a UserError with the close matches if unknown
        if hasattr(measure, "check_domain"):
            measure.check_domain(domain)


def provenance(counts, measures=()) -> dict:
    from biasprobe import provenance as prov

    return {
        "argv": sys.argv[1:],
        "prior": counts.prior.name,
        "parameters": counts.prior.params(),
        "domain": str(counts.domain),
        "seed": counts.seed,
        "samples": counts.samples,
        "nonfinite": counts.nonfinite,
        "distinct": counts.distinct,
        "measures": list(measures),
        "engine": counts.info,
        "wall_time_s": round(counts.wall_time, 3),
        **prov.environment(),
    }


def _run_dir(args, prior, domain, samples, seed, workers, measures, out_path) -> int:
    """`sample --run-dir`: a sharded, resumable run; the table stays in the run directory unless -o asks for a copy."""
    from biasprobe.sampling.engine import check_samples
    from biasprobe.sampling.merge import parse_memory
    from biasprobe.sampling.reader import open_run
    from biasprobe.sampling.run import sample_run

    check_samples(samples, "--samples")
    if args.batch_size is not None:
        raise UserError("--batch-size is not used with --run-dir (each worker process picks its own)")
    max_memory = parse_memory(args.max_memory) if args.max_memory is not None else None
    shard_size = parse_count(args.shard_size, "--shard-size") if args.shard_size is not None else None
    # auto means cpu here: shards run in worker processes (one per core), and a run's device is one of its
    # parameters, so it must not change with the machine a resume happens on; ask for cuda explicitly
    device = "cpu" if args.device in (None, "", "auto") else args.device
    result = sample_run(prior, domain, samples, seed, args.run_dir, executor=args.executor, workers=workers,
                        scheduler=args.scheduler, shard_size=shard_size, max_memory=max_memory, device=device,
                        reuse=args.reuse, progress=not args.no_progress and sys.stderr.isatty())
    run = open_run(result.path)
    print(f"{run.samples} samples of {prior.label()} on {domain}: {run.distinct} distinct functions,"
          f" {run.nonfinite} non-finite, {result.wall_time:.2f} s ({result.shards} shards: {result.found} already"
          f" done, {result.reused} reused, {result.ran} run) -> {result.path}", file=sys.stderr)
    if out_path is not None:
        from biasprobe import provenance as prov
        from biasprobe.measures.runs import measure_run

        record = {"argv": sys.argv[1:], "run_dir": str(result.path), "summary": {
            k: v for k, v in run.summary.items() if k not in ("parts",)}, "measures": list(measures),
            "prior": run.parameters["prior"], "parameters": run.parameters["parameters"],
            "domain": run.parameters["domain"], "seed": run.parameters["seed"], "samples": run.samples,
            "nonfinite": run.nonfinite, "distinct": run.distinct, **prov.environment()}
        measure_run(run, measures, out_path, sidecar=record)
        print(f"wrote {out_path} and {tableio.sidecar_path(out_path)}", file=sys.stderr)
    else:
        first = next(run.frames(), None)
        if first is not None:
            print(first.head(10).to_string(index=False))
    return 0
