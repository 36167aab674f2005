"""Run experiments: compute (or load from the cache), render into a results folder, write provenance and its README.

At the default scale the folder is the committed results/; any other scale writes into
.cache/results-SCALE unless --results-dir says otherwise, so a quick run never touches
the citable tables.
"""

from __future__ import annotations

from pathlib import Path

from biasprobe.errors import UserError

HELP = "run an experiment (or all) and write its figures, tables and provenance"


def add_arguments(parser):
    parser.add_argument("names", nargs="+", metavar="NAME", help="experiment name(s), or 'all'")
    parser.add_argument("--scale", default="default", choices=("quick", "default", "paper"),
                        help="sample sizes: quick (seconds), default (what `make all` runs), paper (hours)")
    parser.add_argument("--results-dir", default=None,
                        help="where NAME/ folders go (default: results/ at the default scale, "
                             ".cache/results-SCALE otherwise)")
    parser.add_argument("--force", action="store_true", help="recompute even when the cache has this configuration")
    parser.add_argument("--seed", default=None, help="override the experiment's root seed (0..2^63-1)")


def run(args) -> int:
    from biasprobe import pipeline
    from biasprobe.commands.sample import parse_count

    seed = None if args.seed is None else parse_count(args.seed, "--seed", minimum=0, maximum=2**63 - 1)
    if args.results_dir is not None:
        target = Path(args.results_dir)
        if target.exists() and not target.is_dir():
            raise UserError(f"--results-dir {str(target)!r} is a file, not a folder")
    records = pipeline.run(args.names, scale=args.scale, results_dir=args.results_dir, force=args.force, seed=seed)
    total = sum(r.compute_s + r.render_s for r in records)
    hits = sum(r.cache_hit for r in records)
    where = records[0].directory.parent if records else "-"
    print(f"{len(records)} experiment(s) in {total:.1f} s ({hits} from cache) -> {where}")
    return 0
