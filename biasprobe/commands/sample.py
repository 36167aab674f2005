"""Sample random functions from a prior on a domain, count them exactly and write function,count plus a provenance sidecar."""

from __future__ import annotations

import decimal
import json
import sys
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
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (default: cuda when torch finds it)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_count(text, what: str, minimum: int = 1, maximum: int | None = None) -> int:
    """'1e6', '1000000', '10**6' or '1_000' -> int; anything else (or outside [minimum, maximum]) is a UserError."""
    raw = str(text).strip().replace("_", "")
    try:
        if "**" in raw:
            base, _, exp = raw.partition("**")
            if len(exp) > 4:
                raise ValueError
            value = int(base) ** int(exp)
        else:
            # Decimal is exact: 1e30 is 10^30, never the float 1000000000000000019884624838656
            number = decimal.Decimal(raw)
            if not number.is_finite() or number != number.to_integral_value() or abs(number.adjusted()) > 100:
                raise ValueError
            value = int(number)
    except (ValueError, OverflowError, decimal.InvalidOperation):
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
    seed = parse_count(args.seed, "--seed", minimum=0, maximum=2**63 - 1)
    batch = None if args.batch_size is None else parse_count(args.batch_size, "--batch-size")
    workers = None if args.workers is None else parse_count(args.workers, "--workers")
    measures = [m.strip() for m in args.measures.split(",") if m.strip()]
    out_path = tableio.check_output_path(args.output) if args.output else None  # before minutes of sampling
    prior.check_domain(domain)
    if measures:
        from biasprobe.measures import measure_table

        _check_measures(measures, domain)

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
