"""Run every bench section and write results/bench/bench.json and results/bench/README.md."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m biasprobe.bench", description=__doc__)
    parser.add_argument("--out", default="results/bench", help="output directory (default results/bench)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and samples (a smoke run)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from biasprobe.bench import sampler

    report = {"sampler": sampler.run(out, quick=args.quick)}
    markdown = [sampler.markdown(report["sampler"])]
    try:
        measures = importlib.import_module("biasprobe.bench.measures")
    except ImportError:
        measures = None
    if measures is not None:
        report["measures"] = measures.run(out)
        if hasattr(measures, "markdown"):
            markdown.append(measures.markdown(report["measures"]))
    from biasprobe.bench import llc

    report["llc"] = llc.run(out, quick=args.quick)
    markdown.append(llc.markdown(report["llc"]))
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "README.md").write_text("# make bench\n\n" + "\n\n".join(markdown) + "\n")
    print(f"wrote {out / 'bench.json'} and {out / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
