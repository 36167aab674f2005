"""Run the bench sections (each a hot path against its naive baseline and this machine's ceilings) and write results/bench/."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

# Each section is a module of biasprobe.bench with run(out_dir, quick) -> dict and markdown(dict) -> str.
SECTIONS = ("sampler", "measures", "priors", "learning", "gp", "llc", "shards")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m biasprobe.bench", description=__doc__)
    parser.add_argument("--out", default="results/bench", help="output directory (default results/bench)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and samples (a smoke run)")
    parser.add_argument("--only", default=None, help=f"comma-separated sections (default all: {', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    chosen = SECTIONS if args.only is None else tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.exit(2, f"unknown bench section(s) {', '.join(unknown)}; valid: {', '.join(SECTIONS)}\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report, markdown = {}, []
    for name in chosen:
        module = importlib.import_module(f"biasprobe.bench.{name}")
        t0 = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        report[name] = module.run(out, quick=args.quick)
        report[name]["section_seconds"] = round(time.perf_counter() - t0, 1)
        report[name]["load_average_after"] = round(os.getloadavg()[0], 2)
        markdown.append(module.markdown(report[name]))
    (out / "bench.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out / "README.md").write_text("# make bench\n\n" + "\n\n".join(markdown) + "\n")
    print(f"wrote {out / 'bench.json'} and {out / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
