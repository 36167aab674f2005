"""Show the registered priors, domains, measures and experiments with their parameters and defaults."""

from __future__ import annotations

import importlib

HELP = "list priors, domains, measures and experiments"

# section -> (module, function returning the text); imported only when shown
SECTIONS = {
    "priors": ("biasprobe.priors", "describe_priors"),
    "domains": ("biasprobe.domains", "describe_domains"),
    "measures": ("biasprobe.measures", "describe_measures"),
    "experiments": ("biasprobe.pipeline", "describe_experiments"),
}


def add_arguments(parser):
    parser.add_argument("what", nargs="?", default="all", choices=[*SECTIONS, "all"],
                        help="which registry to show (default: all)")


def run(args) -> int:
    names = list(SECTIONS) if args.what == "all" else [args.what]
    for name in names:
        module, func = SECTIONS[name]
        text = getattr(importlib.import_module(module), func)()
        print(f"{name}:\n{text}\n" if len(names) > 1 else text)
    return 0
