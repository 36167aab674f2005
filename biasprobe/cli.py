"""The `biasprobe` command line: a thin dispatcher to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys

from biasprobe.errors import UserError

# Each module defines HELP, add_arguments(parser) and run(args) -> int. Modules import
# heavy dependencies (torch, numba) inside run(), so `biasprobe --help` stays instant.
COMMANDS = {
    "sample": "biasprobe.commands.sample",
    "measure": "biasprobe.commands.measure",
    "posterior": "biasprobe.commands.posterior",
    "train": "biasprobe.commands.train",
    "run": "biasprobe.commands.run",
    "list": "biasprobe.commands.listing",
    "llc": "biasprobe.commands.llc",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit code 2 (no usage dump)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="biasprobe", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=mod.HELP, description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except UserError as err:
        print(f"biasprobe {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        import signal

        # a second Ctrl-C while the process winds down must not turn the exit into a traceback; a caller that
        # passed argv (a test, a notebook) keeps running, so it gets its handler back
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(f"biasprobe {args.command}: interrupted; no partial output was written", file=sys.stderr)
        if argv is not None:
            signal.signal(signal.SIGINT, previous)
        return 130
    except BrokenPipeError:
        # `biasprobe list | head -1`: the reader went away; stop quietly as other Unix tools do
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _one_line(err) -> str:
    return " ".join(str(err).split())
