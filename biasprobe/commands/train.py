"""P_SGD(f | S): train many networks from the prior's own initialisation until they fit S, and count the functions they learn.

Writes function, count, test_error (the fitted runs; the same shape as `posterior`'s table,
so P_SGD(f | S) and P_B(f | S) compare directly) and a JSON sidecar with S, the training
settings, the runs that never fit within --max-epochs (reported, not dropped silently),
the epochs used (median and quantiles) and the provenance.
"""

from __future__ import annotations

import sys

from biasprobe.commands.posterior import add_condition_arguments, condition_from_args, output_path
from biasprobe import tableio
from biasprobe.commands.sample import _check_measures, parse_count
from biasprobe.errors import UserError

HELP = "train networks from the prior's initialisation until they fit S (P_SGD)"
EPILOG = ("example: biasprobe train mlp --domain bool:7 --set sigma_b=0 --target 0000000000000000ffffffffffffffff "
          "--train-size 64 --runs 1000 --preset valle-perez -o sgd.csv")


def add_arguments(parser):
    from biasprobe.learning.training import PRESETS

    parser.epilog = EPILOG
    parser.add_argument("prior", help="a network prior: mlp, perceptron, polynomial (family=network)")
    parser.add_argument("--domain", default="bool:7", help="Boolean domain, e.g. bool:7 (default)")
    add_condition_arguments(parser)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="set a prior parameter, e.g. --set sigma_b=0 (repeatable)")
    parser.add_argument("--runs", default="1000", help="training runs (default 1000)")
    parser.add_argument("--preset", default=None, help="published settings: " + " | ".join(PRESETS)
                        + " (explicit options below override it)")
    parser.add_argument("--optimizer", default=None, help="sgd | adam (default sgd)")
    parser.add_argument("--lr", default=None, help="learning rate (default 0.001)")
    parser.add_argument("--momentum", default=None, help="SGD momentum (default 0.9)")
    parser.add_argument("--batch-size", default=None, help="minibatch size or 'full' (default 10)")
    parser.add_argument("--loss", default=None, help="ce (logistic) | mse (against +-1) (default ce)")
    parser.add_argument("--epochs-after-fit", default=None, help="epochs to go on after 100%% training accuracy"
                        " (default 0)")
    parser.add_argument("--max-epochs", default=None, help="give up on a run after this many epochs (default 2000)")
    parser.add_argument("--seed", default="0", help="root seed (default 0)")
    parser.add_argument("--measures", default="", help="comma-separated measures to add as columns, e.g. lz")
    parser.add_argument("-o", "--output", help="output table .csv or .parquet, with OUTPUT.json beside it"
                        " (without -o: a summary on stdout)")
    parser.add_argument("--workers", default=None, help="processes (default: one per core)")


def spec_from_args(args):
    import dataclasses

    from biasprobe.learning.training import PRESETS, TrainSpec

    if args.preset is not None and args.preset not in PRESETS:
        from biasprobe.errors import unknown_name

        raise unknown_name("training preset", args.preset, PRESETS)
    base = PRESETS[args.preset] if args.preset else TrainSpec()
    fields = {}
    if args.optimizer is not None:
        fields["optimizer"] = args.optimizer
    if args.loss is not None:
        fields["loss"] = args.loss
    for name in ("lr", "momentum"):
        value = getattr(args, name)
        if value is not None:
            try:
                fields[name] = float(value)
            except ValueError:
                raise UserError(f"--{name} {value!r} is not a number") from None
    if args.batch_size is not None:
        text = str(args.batch_size).strip().lower()
        fields["batch_size"] = None if text == "full" else parse_count(text, "--batch-size")
    if args.epochs_after_fit is not None:
        fields["epochs_after_fit"] = parse_count(args.epochs_after_fit, "--epochs-after-fit", minimum=0)
    if args.max_epochs is not None:
        fields["max_epochs"] = parse_count(args.max_epochs, "--max-epochs")
    spec = dataclasses.replace(base, **fields)
    if spec.optimizer == "adam" and args.momentum is not None:
        raise UserError("--momentum applies to sgd only; adam uses betas (0.9, 0.999)")
    return spec


def run(args) -> int:
    from biasprobe.commands.posterior import provenance_env
    from biasprobe.domains import parse_domain
    from biasprobe.learning.training import train_runs, trainable_network
    from biasprobe.priors import make_prior, parse_sets

    prior = make_prior(args.prior, **parse_sets(args.sets))
    domain = parse_domain(args.domain)
    trainable_network(prior, domain)  # fail before anything else on a non-Boolean domain or a non-network prior
    condition = condition_from_args(args, domain)
    spec = spec_from_args(args)
    runs = parse_count(args.runs, "--runs")
    seed = parse_count(args.seed, "--seed", minimum=0)
    workers = None if args.workers is None else parse_count(args.workers, "--workers")
    measures = [m.strip() for m in args.measures.split(",") if m.strip()]
    out_path = output_path(args.output)
    if measures:
        _check_measures(measures, domain)
    result = train_runs(prior, domain, condition, runs, spec, seed=seed, workers=workers)
    summary = result.summary()
    frame = result.to_frame()
    if measures and len(frame):
        from biasprobe.measures import measure_table

        frame = measure_table(frame, measures, domain)
    fe = summary["fit_epochs"]
    line = (f"{runs} runs of {prior.label()} ({spec.label()}) on m={condition.m}: {summary['fitted']} fitted"
            f" ({summary['distinct']} distinct functions), {summary['never_fit']} never fit within"
            f" {spec.max_epochs} epochs, {summary['lost_fit']} lost the fit, {summary['nonfinite']} non-finite;"
            f" median fit epoch {fe['median']}; {result.wall_time:.1f} s")
    if out_path is None:
        print(line)
        print(frame.head(10).to_string(index=False))
        return 0
    record = {**summary, "prior": prior.name, "parameters": prior.params(), "domain": str(domain), "seed": seed,
              "measures": measures,
              "provenance": {"argv": sys.argv[1:], "engine": result.info, "wall_time_s": round(result.wall_time, 3),
                             **provenance_env()}}
    tableio.write_frame(frame, out_path, record)
    print(f"{line}\nwrote {out_path} and {tableio.sidecar_path(out_path)}", file=sys.stderr)
    return 0
