"""The exact Bayesian posterior P_B(f | S) by rejection: sample a prior keeping only the draws that agree with S, or filter a stored `sample` table.

Writes function, count, test_error (sorted like `sample`'s output) plus any measures, and
a JSON sidecar with S, the counts, P(S) with its 95% Clopper-Pearson interval (or the
upper bound when nothing is accepted), the posterior's mean test error with its interval,
and the provenance.
"""

from __future__ import annotations

import sys
from pathlib import Path

from biasprobe import tableio
from biasprobe.commands.sample import _check_measures, parse_count, provenance
from biasprobe.errors import UserError

HELP = "exact Bayesian posterior given a training set S (rejection sampling), and P(S)"
EPILOG = ("examples: biasprobe posterior mlp --domain bool:7 --target 0000000000000000ffffffffffffffff "
          "--train-size 32 --split-seed 1 --samples 1e6 -o post.csv   |   "
          "biasprobe posterior --from counts.parquet --target HEX --train MASK -o post.csv")


def add_arguments(parser):
    parser.epilog = EPILOG
    parser.add_argument("prior", nargs="?", help="prior name (see `biasprobe list priors`); omit with --from")
    add_condition_arguments(parser)
    parser.add_argument("--from", dest="source", help="a stored `biasprobe sample` table (.csv/.parquet with its"
                        " .json sidecar) to filter instead of sampling")
    parser.add_argument("--domain", default=None, help="input domain (default bool:7, or the stored table's)")
    parser.add_argument("--samples", default=None, help="draws to make, e.g. 1e6 (default 1e6; not with --from)")
    parser.add_argument("--seed", default=None, help="root seed (default 0; not with --from)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="set a prior parameter, e.g. --set hidden=40,40 (repeatable)")
    parser.add_argument("--measures", default="", help="comma-separated measures to add as columns, e.g. lz,entropy")
    parser.add_argument("-o", "--output", help="output table .csv or .parquet, with OUTPUT.json beside it"
                        " (without -o: a summary on stdout)")
    parser.add_argument("--batch-size", default=None, help="draws evaluated per kernel call (default: automatic)")
    parser.add_argument("--workers", default=None, help="worker threads (default: one per core)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_condition_arguments(parser) -> None:
    """--target, --train, --train-size, --split-seed (shared with `biasprobe train`)."""
    parser.add_argument("--target", required=True, help="target truth table in hex (docs/definitions.md §1), e.g."
                        " 0000000000000000ffffffffffffffff for x_1 on bool:7")
    parser.add_argument("--train", default=None, help="training mask in the same hex format (bit i = 1: input i"
                        " is a training input)")
    parser.add_argument("--train-size", default=None, help="draw a seeded random training set of this many inputs")
    parser.add_argument("--split-seed", default=None, help="seed of the random training set (default 0)")


def condition_from_args(args, domain):
    from biasprobe.learning import make_condition

    size = None if args.train_size is None else parse_count(args.train_size, "--train-size")
    split = None if args.split_seed is None else parse_count(args.split_seed, "--split-seed", minimum=0)
    if size is not None and size >= domain.n_points:
        raise UserError(f"--train-size {size} leaves no test inputs: {domain} has {domain.n_points} inputs")
    return make_condition(domain, args.target, train=args.train, train_size=size, split_seed=split)


def output_path(text) -> Path | None:
    """The -o path checked before any work (None without -o)."""
    return tableio.check_output_path(text) if text else None


def run(args) -> int:
    from biasprobe.domains import parse_domain
    from biasprobe.learning import condition_sample, load_counts, posterior_from_table

    measures = [m.strip() for m in args.measures.split(",") if m.strip()]
    out_path = output_path(args.output)
    if args.source:
        if args.prior or args.sets or args.samples is not None or args.seed is not None:
            raise UserError("--from filters a stored table: drop the prior, --set, --samples and --seed")
        stored = load_counts(args.source, domain=args.domain)
        domain = stored.domain
        condition = condition_from_args(args, domain)
        if measures:
            _check_measures(measures, domain)
        post = posterior_from_table(stored, condition)
        record = {"argv": sys.argv[1:], "from": str(args.source), "source": stored.provenance,
                  **provenance_env()}
    else:
        if not args.prior:
            raise UserError("name a prior (e.g. mlp) or give --from STORED_TABLE")
        from biasprobe.priors import make_prior, parse_sets

        prior = make_prior(args.prior, **parse_sets(args.sets))
        domain = parse_domain(args.domain or "bool:7")
        condition = condition_from_args(args, domain)
        samples = parse_count(args.samples or "1e6", "--samples")
        seed = parse_count(args.seed or "0", "--seed", minimum=0)
        batch = None if args.batch_size is None else parse_count(args.batch_size, "--batch-size")
        workers = None if args.workers is None else parse_count(args.workers, "--workers")
        if measures:
            _check_measures(measures, domain)
        post = condition_sample(prior, domain, condition, samples, seed, batch_size=batch, workers=workers,
                                device=args.device, progress=not args.no_progress and sys.stderr.isatty())
        record = provenance(post, measures)
    summary = post.summary()
    frame = post.to_frame()
    if measures and len(frame):
        from biasprobe.measures import measure_table

        frame = measure_table(frame, measures, domain)
    line = _summary_line(summary)
    if out_path is None:
        print(line)
        print(frame.head(10).to_string(index=False))
        return 0
    tableio.write_frame(frame, out_path, {**summary, "domain": str(domain), "measures": measures,
                                          "provenance": record})
    print(f"{line}\nwrote {out_path} and {tableio.sidecar_path(out_path)}", file=sys.stderr)
    return 0


def provenance_env() -> dict:
    from biasprobe import provenance as prov

    return prov.environment()


def _summary_line(s: dict) -> str:
    if s["accepted"] == 0:
        return f"m={s['m']}: {s['note']}"
    err = s["test_error_mean"]
    return (f"m={s['m']}: {s['accepted']} of {s['samples']} draws accepted ({s['distinct']} distinct functions);"
            f" P(S) = {s['p_s']:.4g} [{s['p_s_lo']:.4g}, {s['p_s_hi']:.4g}] ({s['p_s_interval']});"
            f" posterior mean test error {err:.4f}"
            + (f" [{s['test_error_lo']:.4f}, {s['test_error_hi']:.4f}]" if s["test_error_lo"] is not None else ""))
