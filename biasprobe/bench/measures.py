"""`make bench` measures section: K_LZ on distinct 128-bit functions against antropy, other measures, start-up."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_KLZ_PER_S = 500_000
TARGET_VS_ANTROPY = 3.0


def _median_rate(func, items: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return items / statistics.median(times)


def _distinct_functions(count: int, seed: int) -> np.ndarray:
    """Distinct uniformly random 128-bit truth tables, as (count, 128) uint8."""
    rng = np.random.default_rng(seed)
    tables = np.unique(rng.integers(0, 2, (count, 128), dtype=np.uint8), axis=0)
    return tables[rng.permutation(len(tables))]


def _startup_seconds(repeats: int) -> float:
    """Wall time of `biasprobe measure lz,entropy,csr` on a 100-function table, in a fresh process."""
    from biasprobe.tables import bits_to_hex

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "counts.csv"
        names = bits_to_hex(_distinct_functions(100, 1))
        src.write_text("function,count\n" + "".join(f"{h},1\n" for h in names))
        cmd = [sys.executable, "-m", "biasprobe", "measure", "lz,entropy,csr", "--in", str(src), "--domain", "bool:7",
               "-o", str(Path(tmp) / "m.csv")]
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(out_dir: Path | None = None, quick: bool = False) -> dict:
    """Measure, print a short section and return the figures (out_dir is accepted for the bench driver)."""
    import numba

    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute

    repeats = 3 if quick else 5
    bool7 = parse_domain("bool:7")
    tables = _distinct_functions(100_000 if quick else 400_000, 0)
    compute(["lz", "lz_phrases"], tables[:10], bool7)  # load the cached kernels before timing
    cores = numba.config.NUMBA_NUM_THREADS
    klz_all = _median_rate(lambda: compute("lz", tables, bool7), len(tables), repeats)
    klz_one = _median_rate(lambda: compute("lz", tables, bool7, workers=1), len(tables), repeats)

    start = time.perf_counter()
    from antropy import lziv_complexity  # JIT-compiles on import

    antropy_import = time.perf_counter() - start
    subset = tables[: 10_000 if quick else 40_000]
    lziv_complexity(subset[0])
    antropy_rate = _median_rate(lambda: [lziv_complexity(r) for r in subset], len(subset), max(1, repeats - 2))
    ours = compute("lz_phrases", subset, bool7)["lz_phrases"]
    agree = float(np.mean(ours == np.array([lziv_complexity(r) for r in subset])))

    other = {}
    part = tables[:50_000]
    for name in ("entropy", "sensitivity", "csr", "gc", "fourier_l1", "spectral_entropy", "zlib"):
        other[name] = _median_rate(lambda name=name: compute(name, part, bool7), len(part), 3)
    few = tables[:600]
    other["boolean (1 process)"] = _median_rate(lambda: compute("boolean", few, bool7, workers=1), len(few), 1)
    other["boolean (all cores)"] = _median_rate(lambda: compute("boolean", few, bool7), len(few), 1)
    grid = parse_domain("grid:2:64")
    images = np.random.default_rng(2).standard_normal((500, grid.n_points))
    for name in ("mean_frequency", "lz", "total_variation"):
        other[f"{name}@grid:2:64"] = _median_rate(lambda name=name: compute(name, images, grid), len(images), 3)
    startup = _startup_seconds(3)

    figures = {
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine skews the 2-core figure
        "distinct_functions": int(len(tables)),
        "cores": int(cores),
        "klz_per_s_all_cores": round(klz_all),
        "klz_per_s_one_core": round(klz_one),
        "parallel_speedup": round(klz_all / klz_one, 2),
        "antropy_lziv_per_s_one_direction": round(antropy_rate),
        "antropy_import_s": round(antropy_import, 2),
        "klz_vs_antropy": round(klz_all / antropy_rate, 1),
        "phrase_count_agreement_with_antropy": agree,
        "other_measures_per_s": {k: round(v, 1) for k, v in other.items()},
        "measure_cli_startup_s": round(startup, 2),
        "meets_klz_target": bool(klz_all >= TARGET_KLZ_PER_S and klz_all >= TARGET_VS_ANTROPY * antropy_rate),
    }
    print(markdown(figures))
    return figures


def markdown(f: dict) -> str:
    lines = [
        "## Measures",
        "",
        f"K_LZ (both directions) on {f['distinct_functions']:,} distinct random 128-bit functions, medians of repeats "
        f"(1-min load average {f['load_average_1min']} on {f['cores']} cores):",
        "",
        "| what | functions/s |",
        "|---|---:|",
        f"| K_LZ, {f['cores']} cores | {f['klz_per_s_all_cores']:,} |",
        f"| K_LZ, 1 core | {f['klz_per_s_one_core']:,} |",
        f"| antropy `lziv_complexity`, one direction, 1 core | {f['antropy_lziv_per_s_one_direction']:,} |",
        "",
        f"K_LZ / antropy: **{f['klz_vs_antropy']}x** (target >= {TARGET_VS_ANTROPY:g}x); "
        f"K_LZ >= {TARGET_KLZ_PER_S:,}/s: {'yes' if f['klz_per_s_all_cores'] >= TARGET_KLZ_PER_S else 'NO'}; "
        f"{f['cores']}-core speed-up {f['parallel_speedup']}x; phrase counts equal to antropy's on "
        f"{100 * f['phrase_count_agreement_with_antropy']:.1f}% of strings.",
        "",
        "Other measures (functions/s, all cores unless noted): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in f["other_measures_per_s"].items()) + ".",
        "",
        f"`biasprobe measure lz,entropy,csr` on a 100-function table, fresh process: {f['measure_cli_startup_s']} s.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    paths = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(paths[0]) if paths else Path("results/bench")
    result = run(out, quick="--quick" in sys.argv)
    out.mkdir(parents=True, exist_ok=True)
    (out / "measures.json").write_text(json.dumps(result, indent=2) + "\n")
    sys.exit(0)
