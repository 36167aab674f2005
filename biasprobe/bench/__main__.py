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


def _write(out: Path, report: dict) -> None:
    from biasprobe.tableio import atomic_file, write_json_atomic

    ordered = {name: report[name] for name in SECTIONS if name in report}
    parts = [importlib.import_module(f"biasprobe.bench.{name}").markdown(r)
             + f"\n\n*Measured {r.get('measured_at', '(time not recorded)')}, {r.get('section_seconds', '?')} s.*"
             for name, r in ordered.items()]
    write_json_atomic(out / "bench.json", ordered, indent=2)
    with atomic_file(out / "README.md") as fh:
        fh.write("# make bench\n\n" + "\n\n".join(parts) + "\n")


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
    # --only re-measures some sections and keeps the others' figures (each section says when it was measured);
    # the report is rewritten after every section, so a failing or interrupted section loses no finished one.
    report = {}
    if args.only is not None and (out / "bench.json").exists():
        try:
            report = {k: v for k, v in json.loads((out / "bench.json").read_text()).items() if k in SECTIONS}
        except (OSError, ValueError):
            report = {}
    for name in chosen:
        module = importlib.import_module(f"biasprobe.bench.{name}")
        t0 = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        result = module.run(out, quick=args.quick)
        result["section_seconds"] = round(time.perf_counter() - t0, 1)
        result["load_average_after"] = round(os.getloadavg()[0], 2)
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        report[name] = result
        _write(out, report)
    print(f"wrote {out / 'bench.json'} and {out / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
