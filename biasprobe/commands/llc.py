"""Estimate a local learning coefficient (LLC) by SGLD on an oracle model and print it beside its closed form."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from biasprobe.errors import UserError

HELP = "estimate a local learning coefficient by SGLD (oracle toy models with closed forms)"
EPILOG = ("example: biasprobe llc toy rrr --set M=5 --set H=3 --set N=5 --seed 0 -o out.json   "
          "(toy models: regular, monomial, rrr, dln; `biasprobe llc toy list` shows their keys; without "
          "--step/--gamma both are chosen automatically)")
TARGETS = ("toy",)


def add_arguments(parser):
    parser.epilog = EPILOG
    parser.add_argument("target", help="what to estimate on: toy (an oracle model with a closed-form λ)")
    parser.add_argument("model", help="toy model: regular, monomial, rrr, dln (or 'list')")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="set a model parameter, e.g. --set M=5 or --set widths=3,4,3 (repeatable)")
    parser.add_argument("--seed", default="0", help="root seed of the data and the chains (default 0)")
    parser.add_argument("--step", default=None, help="SGLD step ε (default: automatic, with --gamma)")
    parser.add_argument("--gamma", default=None, help="localisation γ (default: automatic, with --step)")
    parser.add_argument("--chains", default="8", help="chains (default 8)")
    parser.add_argument("--draws", default="2000", help="kept steps per chain (default 2000)")
    parser.add_argument("--burn-in", default=None,
                        help="discarded steps per chain (default: max(100, draws/2) when automatic, else max(100, draws/4))")
    parser.add_argument("--max-draws", default=None,
                        help="automatic mode: allow up to this many draws when the sweep finds the chains too slow to "
                             "equilibrate at a weaker localisation (default: --draws, no extension)")
    parser.add_argument("--beta", default=None, help="inverse temperature β (default 1/ln n)")
    parser.add_argument("--threads", default="1", help="torch threads (default 1: these models are small)")
    parser.add_argument("-o", "--output", help="write the estimate, theory and hyperparameters as JSON here")
    parser.add_argument("--trace", help="write the loss traces as CSV here")
    parser.add_argument("--plot", help="write a figure of the traces here (.png or .pdf)")


def _number(text, what: str, kind=float, minimum=None):
    if text is None:
        return None
    try:
        value = kind(float(text)) if kind is int else float(text)
        if kind is int and float(text) != value:
            raise ValueError
    except (TypeError, ValueError):
        raise UserError(f"{what} {text!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        raise UserError(f"{what} must be {'>= ' + str(minimum) if minimum is not None else 'finite'}, got {text!r}")
    return value


def _positive(text, what: str):
    value = _number(text, what)
    if value is not None and not value > 0:
        raise UserError(f"{what} must be > 0, got {text!r}")
    return value


def run(args) -> int:
    if args.target not in TARGETS:
        from biasprobe.errors import unknown_name

        raise unknown_name("llc target", args.target, TARGETS)
    from biasprobe.priors import parse_sets
    from biasprobe.slt import toys

    if args.model == "list":
        print(toys.describe_toys())
        return 0
    fields = parse_sets(args.sets)
    toys.resolve(args.model, fields)  # unknown model or key: fail before any work
    seed = _number(args.seed, "--seed", int, 0)
    chains = _number(args.chains, "--chains", int)
    draws = _number(args.draws, "--draws", int)
    burn_in = _number(args.burn_in, "--burn-in", int)
    max_draws = _number(args.max_draws, "--max-draws", int)
    threads = _number(args.threads, "--threads", int, 1)
    step, gamma, beta = _positive(args.step, "--step"), _positive(args.gamma, "--gamma"), _positive(args.beta, "--beta")
    for what, value in (("--chains", chains), ("--draws", draws)):
        if value < 1:
            raise UserError(f"{what} must be >= 1, got {value}")
    if burn_in is not None and burn_in < 0:
        raise UserError(f"--burn-in must be >= 0, got {burn_in}")
    if (step is None) != (gamma is None):
        raise UserError("give both --step and --gamma, or neither (then both are chosen automatically)")
    out_path = Path(args.output) if args.output else None
    for path in (out_path, Path(args.trace) if args.trace else None, Path(args.plot) if args.plot else None):
        if path is not None and not path.parent.exists():
            raise UserError(f"output directory {str(path.parent)!r} does not exist")
    if args.plot and Path(args.plot).suffix.lower() not in (".png", ".pdf"):
        raise UserError(f"--plot {args.plot!r}: use a .png or .pdf file name")

    import warnings

    from biasprobe.slt.sgld import SGLDConfig, sample_llc
    from biasprobe.slt.tuning import estimate

    t0 = time.perf_counter()
    toy = toys.make_toy(args.model, seed=seed, **fields)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warnings are printed below, once, in words
        if step is None:
            res = estimate(toy.potential, toy.w_star, chains=chains, draws=draws, burn_in=burn_in, beta=beta,
                           seed=seed, threads=threads, warn=False, max_draws=max_draws)
        else:
            cfg = SGLDConfig(step=step, gamma=gamma, chains=chains, draws=draws,
                             burn_in=burn_in if burn_in is not None else max(100, draws // 4), beta=beta, seed=seed)
            res = sample_llc(toy.potential, toy.w_star, cfg, threads=threads, warn=False)
    wall = time.perf_counter() - t0
    th = toy.theory
    rel = (res.llc - th.llc) / th.llc if th.llc else math.nan
    notes = list(res.warnings) + list(res.extra.get("auto", {}).get("notes", []))
    cfg = res.config
    print(f"{toy.label()}: λ̂ = {res.llc:.4g} ± {res.llc_se:.2g}   theory λ = {th.llc:.4g} ({th.branch})   "
          f"error {rel:+.1%}")
    print(f"  {'automatic' if step is None else 'given'}: ε = {cfg.step:.3g}, γ = {cfg.gamma:.3g}, "
          f"nβ = {res.nbeta:.4g} (n = {res.n}), {cfg.chains} chains × {cfg.draws} draws after {cfg.burn_in} burn-in; "
          f"acceptance {float(res.acceptance.mean()):.3f}, virial {float(res.virial.mean()):.3f}; {wall:.1f} s")
    for note in notes:
        print(f"  warning: {note}", file=sys.stderr)
    if out_path is not None:
        from biasprobe import provenance

        summary = res.summary()
        doc = {"argv": sys.argv[1:], "model": args.model, "parameters": {k: list(v) if isinstance(v, tuple) else v
                                                                          for k, v in toy.params.items()},
               "seed": seed, "llc": summary["llc"], "llc_se": summary["llc_se"],
               "theory": {"llc": th.llc, "branch": th.branch, "multiplicity": th.multiplicity},
               "rel_error": rel, "hyperparameters": {**summary["hyperparameters"], "beta": res.beta, "nbeta": res.nbeta,
                                                     "automatic": step is None},
               "diagnostics": {k: summary[k] for k in ("chain_llc", "acceptance", "virial", "localisation",
                                                        "diverged_chains", "loss_star")},
               "auto_sweep": res.extra.get("auto"), "warnings": notes, "dim": toy.dim, "n": res.n,
               "wall_time_s": round(wall, 3), **provenance.environment()}
        from biasprobe.tableio import write_json_atomic

        write_json_atomic(out_path, json.loads(json.dumps(doc, default=_json)), indent=2)
        print(f"wrote {out_path}", file=sys.stderr)
    if args.trace:
        res.trace_frame().to_csv(args.trace, index=False)
    if args.plot:
        fig = res.plot_trace()
        fig.savefig(args.plot, metadata={"Software": "biasprobe"} if args.plot.endswith(".png") else
                    {"Creator": "biasprobe", "CreationDate": None, "ModDate": None, "Producer": None})
    return 0


def _json(value):
    import numpy as np

    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)
