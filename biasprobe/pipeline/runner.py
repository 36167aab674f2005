"""Running experiments: compute (or load from the cache), render into RESULTS/NAME/, write provenance and the README.

An experiment is skipped outright when its folder carries the current *render key*
(compute key + the experiment's whole file + the presentation code + plotting package
versions) and the cache still holds its compute output: a second ``make all`` takes
about a second, while a fresh clone (committed results, empty cache) recomputes, so the
committed numbers are always reproducible from the code that claims them.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from biasprobe import provenance
from biasprobe.pipeline import cache, fingerprint
from biasprobe.pipeline.paths import cache_dir, results_dir_for
from biasprobe.pipeline.readme import write_readme
from biasprobe.pipeline.spec import Experiment, discover
from biasprobe.tableio import write_json_atomic


@dataclass(frozen=True)
class RunRecord:
    name: str
    cache_hit: bool
    compute_s: float
    render_s: float
    directory: Path


def render_key(exp: Experiment, key: str) -> str:
    """Hash of what the artifacts depend on: the compute key, the experiment's file and the presentation code."""
    parts = [key, fingerprint.library_fingerprint(compute_only=False)]
    if exp.source_file and Path(exp.source_file).is_file():
        parts.append(fingerprint.file_fingerprint(exp.source_file))
    versions = provenance.package_versions()
    parts.append(json.dumps({k: versions.get(k) for k in ("matplotlib", "seaborn", "numpy", "pandas")}))
    return cache.key_of({"render": parts})


def _up_to_date(outdir: Path, rkey: str) -> bool:
    try:
        prov = json.loads((outdir / "provenance.json").read_text())
        if prov.get("render_key") != rkey:
            return False
        for art in prov["artifacts"]:
            exts = ("csv", "md", "tex") if art["kind"] == "table" else ("png", "pdf")
            if not all((outdir / f"{art['name']}.{e}").is_file() for e in exts):
                return False
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return False  # damaged or missing: re-render
    return True


def _sample_counts(exp: Experiment, config: dict) -> dict:
    if exp.sample_counts is not None:
        return {str(k): int(v) for k, v in exp.sample_counts(config).items()}
    return {k: v for k, v in config.items() if "samples" in k and isinstance(v, int)}


def run_experiment(exp: Experiment, scale: str = "default", results_dir: Path | str | None = None,
                   force: bool = False, seed: int | None = None, cache_root: Path | str | None = None,
                   readme: bool = True, log=print) -> RunRecord:
    """Compute (or load from cache), render into results_dir/NAME/, write provenance (and the README)."""
    from biasprobe.results import Output, plot_style

    config = exp.config(scale)
    seed = exp.seed if seed is None else _check_seed(seed)
    results_dir = results_dir_for(scale, results_dir)
    root = Path(cache_root) if cache_root is not None else cache_dir()
    cache.clean_stale_temporaries(root)
    parts = cache.key_parts(exp, config, seed)
    key = cache.key_of(parts)
    rkey = render_key(exp, key)
    cpath = cache.entry_path(exp.name, key, root)
    outdir = results_dir / exp.name
    if not force and cache.is_complete(cpath, key) and _up_to_date(outdir, rkey):
        log(f"[{exp.name}] up to date -> {outdir}")
        if readme:
            write_readme(results_dir)
        return RunRecord(exp.name, True, 0.0, 0.0, outdir)

    t0 = time.perf_counter()
    tables = None if force else cache.load(cpath, key)
    hit = tables is not None
    if not hit:
        log(f"[{exp.name}] computing ({scale} scale, seed {seed}) ...")
        tables = exp.compute(config, seed)
        cache.store(cpath, tables, key, parts, compute_s=time.perf_counter() - t0)
        tables = cache.load(cpath, key)  # render always sees exactly what a later cache hit will see
    compute_s = time.perf_counter() - t0
    original_s = cache.compute_seconds(cpath)

    t1 = time.perf_counter()
    staging = outdir.with_name(f".{exp.name}.rendering")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with plot_style():
            out = Output(staging, experiment=exp.name)
            exp.render(tables, config, out)
        render_s = time.perf_counter() - t1
        env = provenance.environment()
        record = {
            "experiment": exp.name,
            "title": exp.title,
            "scale": scale,
            "seed": seed,
            "config": config,
            "sample_counts": _sample_counts(exp, config),
            "table_rows": {name: int(len(df)) for name, df in tables.items()},
            "cache": {"hit": hit, "key": key},
            "render_key": rkey,
            # compute: the seconds the (possibly earlier, cached) computation took; load: this run's cache read
            "wall_time_s": {"compute": round(original_s if original_s is not None else compute_s, 3),
                            "load": round(compute_s, 3) if hit else 0.0, "render": round(render_s, 3)},
            **env,
            "notes": out.notes,
            "artifacts": out.artifacts,
        }
        write_json_atomic(staging / "provenance.json", record, indent=2)
        # swap in the new folder: stale artifacts of an older render never linger beside new ones
        old = outdir.with_name(f".{exp.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if outdir.exists():
            outdir.rename(old)
        staging.rename(outdir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if readme:
        write_readme(results_dir)
    log(f"[{exp.name}] {'cache hit' if hit else 'computed'} in {compute_s:.1f} s, rendered in {render_s:.1f} s"
        f" -> {outdir}")
    return RunRecord(exp.name, hit, compute_s, render_s, outdir)


def _check_seed(seed) -> int:
    from biasprobe.errors import UserError

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise UserError(f"seed must be an integer in 0..2^63-1, got {seed!r}")
    return seed


def run(names: list[str] | str, scale: str = "default", results_dir=None, force=False, seed=None,
        directory=None, cache_root=None, log=print) -> list[RunRecord]:
    """Run experiments by name ('all' for every one); regenerate the README once at the end."""
    registry = discover(directory)
    names = [names] if isinstance(names, str) else list(names)
    if "all" in names:
        names = list(registry)
    from biasprobe.pipeline.spec import EXPERIMENTS

    for name in names:
        if name not in registry:
            raise EXPERIMENTS.unknown(name, extra=["all"])
    out_dir = results_dir_for(scale, results_dir)
    records = [run_experiment(registry[n], scale, out_dir, force, seed, cache_root, readme=False, log=log)
               for n in names]
    write_readme(out_dir)
    return records
