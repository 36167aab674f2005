"""Placeholder until the run subcommand lands (being built in parallel)."""

from biasprobe.errors import UserError

HELP = "(not built yet)"


def add_arguments(parser):
    parser.add_argument("rest", nargs="*")


def run(args):
    raise UserError("the run subcommand is not built yet")
