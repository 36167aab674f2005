"""Run experiments: compute (or load from the cache), render into results/NAME/, write provenance and results/README.md."""

from __future__ import annotations

HELP = "run an experiment (or all) and write its figures, tables and provenance"


def add_arguments(parser):
    parser.add_argument("names", nargs="+", metavar="NAME", help="experiment name(s), or 'all'")
    parser.add_argument("--scale", default="default", choices=("quick", "default", "paper"),
                        help="sample sizes: quick (seconds), default (what `make all` runs), paper (hours)")
    parser.add_argument("--results-dir", default=None, help="where results/NAME/ go (default: results/ in the repo)")
    parser.add_argument("--force", action="store_true", help="recompute even when the cache has this configuration")
    parser.add_argument("--seed", type=int, default=None, help="override the experiment's root seed")


def run(args) -> int:
    from biasprobe import experiments

    records = experiments.run(args.names, scale=args.scale, results_dir=args.results_dir, force=args.force,
                              seed=args.seed)
    total = sum(r.compute_s + r.render_s for r in records)
    hits = sum(r.cache_hit for r in records)
    print(f"{len(records)} experiment(s) in {total:.1f} s ({hits} from cache)")
    return 0
