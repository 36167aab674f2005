"""`make bench` reference-priors section: draws per second of each non-network prior on bool:7, exact counting included."""

from __future__ import annotations

import os
import statistics

TARGET_PER_S = 100_000
DOMAIN = "bool:7"
# (label, prior, fields): the defaults and the settings the reference-priors experiment uses at their costliest
SETTINGS = [
    ("tree depth 3", "tree", {"depth": 3}),
    ("tree depth 7", "tree", {"depth": 7}),
    ("tree depth 7, p=0.3", "tree", {"depth": 7, "p": 0.3}),
    ("dnf 3x3", "dnf", {"terms": 3, "literals": 3}),
    ("dnf 8x4", "dnf", {"terms": 8, "literals": 4}),
    ("cnf 3x3", "cnf", {"terms": 3, "literals": 3}),
    ("circuit depth 4 width 16", "circuit", {"depth": 4, "width": 16}),
    ("circuit depth 8 width 16", "circuit", {"depth": 8, "width": 16}),
    ("knn k=4", "knn", {"k": 4}),
    ("knn k=64", "knn", {"k": 64}),
    ("counting (reference)", "counting", {}),
]


def prior_rates(samples: int = 400_000, repeats: int = 3, workers: int | None = None,
                settings=SETTINGS) -> list[dict]:
    """Median draws/s over `repeats` runs of `sample_counts` (drawing, thresholding, packing, exact counting).

    One warm-up run per prior first, so numba compilation is not timed.
    """
    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior
    from biasprobe.runtime import cores as default_workers
    from biasprobe.sampling import sample_counts

    domain = parse_domain(DOMAIN)
    workers = default_workers() if workers is None else workers
    rows = []
    for label, name, fields in settings:
        prior = make_prior(name, **fields)
        sample_counts(prior, domain, 8192, seed=0, workers=workers)
        rates, distinct = [], 0
        for r in range(repeats):
            c = sample_counts(prior, domain, samples, seed=r + 1, workers=workers)
            rates.append(samples / c.wall_time)
            distinct = c.distinct
        rows.append({"setting": label, "prior": name, "fields": fields, "draws_per_s": statistics.median(rates),
                     "runs": rates, "samples": samples, "distinct_last_run": distinct, "workers": workers})
    return rows


def run(out_dir=None, quick: bool = False) -> dict:
    rows = prior_rates(samples=100_000 if quick else 400_000, repeats=2 if quick else 3)
    return {"domain": DOMAIN, "target_per_s": TARGET_PER_S, "load_average_at_start": os.getloadavg()[0],
            "rows": rows}


def markdown(r: dict) -> str:
    lines = [f"## Reference priors on {r['domain']}: draws/s through sample_counts (exact counting included)", "",
             "| prior | draws/s (median) | vs counting | distinct in last run | meets 10^5/s |",
             "|---|---:|---:|---:|:---:|"]
    # the counting measure measured in the same run: a ratio that a busy machine distorts less than a rate
    ref = next((row["draws_per_s"] for row in r["rows"] if row["prior"] == "counting"), None)
    for row in r["rows"]:
        ok = "yes" if row["draws_per_s"] >= r["target_per_s"] else "NO"
        ratio = f"{row['draws_per_s'] / ref:.2f}" if ref else "-"
        lines.append(f"| {row['setting']} | {row['draws_per_s']:,.0f} | {ratio} | {row['distinct_last_run']:,} | "
                     f"{ok} |")
    lines += ["", f"{r['rows'][0]['samples']:,} draws per run, {r['rows'][0]['workers']} worker(s); load average at "
              f"start {r['load_average_at_start']:.2f} (a shared machine: medians of repeats)."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run(quick=True)))
