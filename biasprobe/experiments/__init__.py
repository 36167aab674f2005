"""The experiment registry and runner: discovery, scale presets, the compute cache and provenance.

The contract (for everyone writing an ``experiments/NAME.py``)
---------------------------------------------------------------
One file per figure or table, holding configuration and orchestration only::

    from biasprobe.experiments import Experiment

    def compute(config: dict, seed: int) -> dict[str, pandas.DataFrame]: ...   # slow; cached
    def render(tables, config, out) -> None: ...                               # fast; always re-run

    EXPERIMENT = Experiment(
        name="dd-linear", title="one line for `biasprobe list experiments`",
        scales={"quick": {...}, "default": {...}, "paper": {...}},   # plain JSON-able dicts
        compute=compute, render=render, seed=0)

* ``scales[scale]`` is the resolved configuration passed to ``compute`` and
  ``render``; it must be JSON-serialisable (it is hashed and written to
  ``provenance.json``). A scale a file does not define falls back to
  ``default``.
* ``compute`` must draw all randomness from ``seed`` (no global RNG) and return
  tidy DataFrames with string column names and parquet-able dtypes. Its output
  is cached under ``.cache/experiments/NAME-KEY/`` (parquet, no pickle), keyed
  by a hash of (name, resolved config, seed, package version, and a fingerprint
  of the library code that computes: every ``biasprobe/`` source except the
  results writer, the CLI, the bench and this runner). So a change to a sampler
  or measure that moves numbers recomputes; a change to the compute function in
  the experiment file itself still needs ``--force``, because that file also
  holds ``render`` and restyling must not re-sample.
* ``render`` writes every artifact through ``out`` (a
  :class:`biasprobe.results.Output`): ``out.table(...)`` and ``out.figure(...)``
  each with a one-sentence caption. It runs on every invocation, so restyling a
  figure never re-samples.
* ``sample_counts`` (optional) maps the config to ``{label: int}`` for the
  provenance; by default every integer config entry whose key contains
  "samples" is recorded.

* ``out.table(..., inline=False)`` marks a long table that the README links
  to instead of reproducing.

The runner (``biasprobe run NAME|all [--scale S] [--results-dir D] [--force]
[--seed N]``) writes ``results/NAME/`` and ``results/NAME/provenance.json``,
then regenerates ``results/README.md`` from every experiment's recorded
artifacts and captions. An experiment whose artifacts carry the current
*render key* (compute key + the experiment file + the rendering code) and whose
compute output is still cached is skipped outright, so a second ``make all``
takes about a second; ``--force`` recomputes and re-renders.
``load_tables(NAME, scale)`` returns the cached DataFrames (for notebooks). Discovery reads
``experiments/*.py`` next to the package (override with the environment
variable ``BIASPROBE_EXPERIMENTS``); the cache lives in ``.cache/`` next to it
(override with ``BIASPROBE_CACHE``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from biasprobe import __version__
from biasprobe.errors import UserError, unknown_name

SCALES = ("quick", "default", "paper")
ROOT = Path(__file__).resolve().parents[2]
CACHE_FORMAT = 1  # bump when the on-disk cache layout changes


@dataclass(frozen=True)
class Experiment:
    """One figure or table: its configurations per scale, a cached compute step and a render step."""

    name: str
    title: str
    scales: Mapping[str, dict]
    compute: Callable
    render: Callable
    seed: int = 0
    sample_counts: Callable | None = None
    source: str = field(default="", compare=False)

    def config(self, scale: str) -> dict:
        """The resolved configuration for a scale (a deep copy, safe to mutate)."""
        if scale not in SCALES:
            raise UserError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
        chosen = self.scales.get(scale, self.scales.get("default"))
        if chosen is None:
            raise UserError(f"experiment {self.name!r} defines no {scale!r} or 'default' scale")
        return json.loads(json.dumps(chosen))


# ---- discovery ------------------------------------------------------------------------------

def experiments_dir() -> Path:
    return Path(os.environ.get("BIASPROBE_EXPERIMENTS", ROOT / "experiments"))


def cache_dir() -> Path:
    return Path(os.environ.get("BIASPROBE_CACHE", ROOT / ".cache"))


def default_results_dir() -> Path:
    return ROOT / "results"


def discover(directory: Path | str | None = None) -> dict[str, Experiment]:
    """Import every ``*.py`` in the experiments folder and collect its ``EXPERIMENT``, sorted by name."""
    directory = Path(directory) if directory is not None else experiments_dir()
    found: dict[str, Experiment] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        modname = f"biasprobe_experiment_{path.stem.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module  # dataclasses and pickling-free introspection want it registered
        spec.loader.exec_module(module)
        exp = getattr(module, "EXPERIMENT", None)
        if not isinstance(exp, Experiment):
            continue
        if exp.name in found:
            raise ValueError(f"experiment name {exp.name!r} defined twice ({path} and {found[exp.name].source})")
        object.__setattr__(exp, "source", str(path))
        found[exp.name] = exp
    return dict(sorted(found.items()))


def get_experiment(name: str, directory: Path | str | None = None) -> Experiment:
    registry = discover(directory)
    if name not in registry:
        raise unknown_name("experiment", name, registry)
    return registry[name]


def describe_experiments() -> str:
    """One line per experiment, for `biasprobe list experiments`."""
    registry = discover()
    if not registry:
        return f"  (none found in {experiments_dir()})"
    width = max(map(len, registry))
    return "\n".join(f"  {name:<{width}}  {exp.title}" for name, exp in registry.items())


# ---- cache ----------------------------------------------------------------------------------

# Library code that cannot change what compute returns: presentation, CLI, bench and this runner.
_NOT_COMPUTE = ("results.py", "commands", "bench", "experiments/__init__.py", "__main__.py", "cli.py")


@functools.cache
def code_fingerprint(compute_only: bool = True) -> str:
    """Hash of the package's sources (only those that can move numbers when compute_only).

    The package version alone would let an edited sampler or measure silently reuse stale
    numbers from the cache.
    """
    package = Path(__file__).resolve().parents[1]
    rels = sorted(p.relative_to(package) for p in package.rglob("*.py"))
    if compute_only:
        rels = [r for r in rels if not r.as_posix().startswith(_NOT_COMPUTE)]
    h = hashlib.sha256()
    for rel in rels:
        h.update(rel.as_posix().encode())
        h.update((package / rel).read_bytes())
    return h.hexdigest()[:20]


def cache_key(exp: Experiment, config: dict, seed: int) -> str:
    """Hash of everything that determines compute's output (the scale name itself is not part of it)."""
    blob = json.dumps({"name": exp.name, "config": config, "seed": seed, "version": __version__,
                       "code": code_fingerprint(), "format": CACHE_FORMAT},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _cache_path(exp: Experiment, key: str, root: Path) -> Path:
    return root / "experiments" / f"{exp.name}-{key}"


def load_cached(path: Path) -> dict | None:
    import pandas as pd

    manifest = path / "manifest.json"
    if not manifest.is_file():
        return None
    names = json.loads(manifest.read_text())["tables"]
    try:
        return {name: pd.read_parquet(path / f"{name}.parquet") for name in names}
    except (OSError, ValueError):  # a truncated or foreign file: recompute rather than fail
        return None


def store_cached(path: Path, tables: dict, compute_s: float | None = None) -> None:
    """Write atomically (temp dir, then rename) so an interrupted run never leaves a half cache."""
    import pandas as pd

    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"compute must return DataFrames; table {name!r} is {type(df).__name__}")
        df.to_parquet(tmp / f"{name}.parquet", index=False)
    (tmp / "manifest.json").write_text(json.dumps({"tables": list(tables), "compute_s": compute_s}, indent=1))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def load_tables(exp: Experiment | str, scale: str = "default", seed: int | None = None,
                cache_root: Path | str | None = None) -> dict | None:
    """The cached compute output of an experiment at a scale (None if it has not been computed): for notebooks."""
    exp = get_experiment(exp) if isinstance(exp, str) else exp
    config = exp.config(scale)
    key = cache_key(exp, config, exp.seed if seed is None else int(seed))
    return load_cached(_cache_path(exp, key, Path(cache_root) if cache_root is not None else cache_dir()))


def _cached_compute_seconds(path: Path) -> float | None:
    try:
        return json.loads((path / "manifest.json").read_text()).get("compute_s")
    except (OSError, ValueError):
        return None


# ---- provenance -----------------------------------------------------------------------------

def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": sys.version.split()[0], "biasprobe": __version__}
    for pkg in ("numpy", "pandas", "scipy", "torch", "matplotlib", "seaborn", "numba", "pyarrow", "scikit-learn"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        # results/ is what a run writes, so it cannot make the code that produced it dirty
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (sha + ("-dirty" if dirty else "")) if sha else None


def _sample_counts(exp: Experiment, config: dict) -> dict:
    if exp.sample_counts is not None:
        return {str(k): int(v) for k, v in exp.sample_counts(config).items()}
    return {k: v for k, v in config.items() if "samples" in k and isinstance(v, int)}


# ---- running --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunRecord:
    name: str
    cache_hit: bool
    compute_s: float
    render_s: float
    directory: Path


def render_key(exp: Experiment, key: str) -> str:
    """Hash of what the artifacts depend on: the compute key, the experiment file and the rendering code."""
    # The whole package, not a list of rendering modules: a helper that render imports
    # (e.g. doubledescent/plotting.py) must re-render when it changes.
    h = hashlib.sha256(key.encode())
    h.update(code_fingerprint(compute_only=False).encode())
    if exp.source and Path(exp.source).is_file():
        h.update(Path(exp.source).read_bytes())
    versions = package_versions()
    h.update(json.dumps({k: versions.get(k) for k in ("matplotlib", "seaborn", "numpy", "pandas")}).encode())
    return h.hexdigest()[:20]


def _up_to_date(outdir: Path, rkey: str) -> bool:
    prov_path = outdir / "provenance.json"
    if not prov_path.is_file():
        return False
    try:
        prov = json.loads(prov_path.read_text())
    except ValueError:
        return False
    if prov.get("render_key") != rkey:
        return False
    for art in prov.get("artifacts", []):
        exts = ("csv", "md", "tex") if art["kind"] == "table" else ("png", "pdf")
        if not all((outdir / f"{art['name']}.{e}").is_file() for e in exts):
            return False
    return True


def run_experiment(exp: Experiment, scale: str = "default", results_dir: Path | str | None = None,
                   force: bool = False, seed: int | None = None, cache_root: Path | str | None = None,
                   readme: bool = True, log=print) -> RunRecord:
    """Compute (or load from cache), render into results_dir/NAME/, write provenance and the README.

    When results_dir/NAME/ already holds the artifacts of this configuration, seed and rendering code
    (same render key) and the cache still holds its compute output, nothing is done at all: a second
    `make all` takes about a second, while a fresh clone recomputes everything.
    """
    from biasprobe.results import Output

    config = exp.config(scale)
    seed = exp.seed if seed is None else int(seed)
    results_dir = Path(results_dir) if results_dir is not None else default_results_dir()
    key = cache_key(exp, config, seed)
    rkey = render_key(exp, key)
    cpath = _cache_path(exp, key, Path(cache_root) if cache_root is not None else cache_dir())
    outdir = results_dir / exp.name
    # Up to date only while the compute cache also holds this configuration: a fresh clone (committed
    # results, no .cache) or `make clean-cache` recomputes, so the committed numbers are always reproducible.
    if not force and (cpath / "manifest.json").is_file() and _up_to_date(outdir, rkey):
        log(f"[{exp.name}] up to date -> {outdir}")
        if readme:
            write_readme(results_dir)
        return RunRecord(exp.name, True, 0.0, 0.0, outdir)

    t0 = time.perf_counter()
    tables = None if force else load_cached(cpath)
    hit = tables is not None
    if not hit:
        log(f"[{exp.name}] computing ({scale} scale, seed {seed}) ...")
        tables = exp.compute(config, seed)
        store_cached(cpath, tables, compute_s=time.perf_counter() - t0)
        tables = load_cached(cpath)  # render always sees exactly what a later cache hit will see
    compute_s = time.perf_counter() - t0
    original_s = _cached_compute_seconds(cpath)

    t1 = time.perf_counter()
    shutil.rmtree(outdir, ignore_errors=True)  # stale artifacts from an older render must not linger
    out = Output(outdir, experiment=exp.name)
    exp.render(tables, config, out)
    render_s = time.perf_counter() - t1

    provenance = {
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
        "git_commit": git_commit(),
        "versions": package_versions(),
        "artifacts": out.artifacts,
    }
    (outdir / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    if readme:
        write_readme(results_dir)
    log(f"[{exp.name}] {'cache hit' if hit else 'computed'} in {compute_s:.1f} s, rendered in {render_s:.1f} s"
        f" -> {outdir}")
    return RunRecord(exp.name, hit, compute_s, render_s, outdir)


def run(names: list[str] | str, scale: str = "default", results_dir=None, force=False, seed=None,
        directory=None, cache_root=None, log=print) -> list[RunRecord]:
    """Run experiments by name ('all' for every discovered one); regenerate the README once at the end."""
    registry = discover(directory)
    names = [names] if isinstance(names, str) else list(names)
    if "all" in names:
        names = list(registry)
    for name in names:
        if name not in registry:
            raise unknown_name("experiment", name, [*registry, "all"])
    records = [run_experiment(registry[n], scale, results_dir, force, seed, cache_root, readme=False, log=log)
               for n in names]
    write_readme(Path(results_dir) if results_dir is not None else default_results_dir())
    return records


# ---- the generated README -------------------------------------------------------------------

def write_readme(results_dir: Path | str) -> Path:
    """Regenerate results_dir/README.md from every results_dir/*/provenance.json (figures embedded, tables inlined)."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# Results", "",
             "Generated by `biasprobe run` (do not edit by hand). Each section is one experiment; "
             "its `provenance.json` records the configuration, seed, sample counts, versions and wall time.", ""]
    provs = [(path, json.loads(path.read_text())) for path in sorted(results_dir.glob("*/provenance.json"))]
    lines += ["Contents:", ""] + [f"- [{p['experiment']}](#{p['experiment']}): {p['title']}" for _, p in provs] + [""]
    for prov_path, prov in provs:
        name = prov["experiment"]
        lines += [f"## {name}", "", f"{prov['title']} (scale `{prov['scale']}`, seed {prov['seed']}, "
                  f"code `{(prov.get('git_commit') or 'unknown')[:12]}`).", ""]
        for art in prov["artifacts"]:
            if art["kind"] == "figure":
                lines += [f"![{name}/{art['name']}]({name}/{art['name']}.png)", "",
                          f"*Figure `{name}/{art['name']}`.* {art['caption']} "
                          f"([PDF]({name}/{art['name']}.pdf))", ""]
            else:
                links = (f"([CSV]({name}/{art['name']}.csv), [Markdown]({name}/{art['name']}.md), "
                         f"[LaTeX]({name}/{art['name']}.tex))")
                lines += [f"*Table `{name}/{art['name']}`.* {art['caption']} {links}", ""]
                if art.get("inline", True):
                    lines += [(prov_path.parent / f"{art['name']}.md").read_text().strip(), ""]
                else:
                    lines += [f"({art['rows']} rows; linked, not inlined.)", ""]
    path = results_dir / "README.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path
