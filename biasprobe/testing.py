"""Public checks for measures, priors and experiments (as scikit-learn's check_estimator): a plug-in's CI calls them.

    from biasprobe.testing import check_measure, check_prior, check_experiment

    def test_my_measure():
        check_measure("alternations")

Each check raises ``AssertionError`` naming what failed; the project's own common tests
run them over every registered measure, prior and experiment.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np

# Domains each family is checked on (small, so every check runs in well under a second).
MEASURE_DOMAINS = {"boolean": ["bool:5", "pm1:4", "bool:1"], "grid": ["grid:2:8", "grid:1:9"],
                   "cloud": ["gauss:2:40:1"]}
SLOW_MEASURE_DOMAINS = {"boolean": ["bool:3", "pm1:4"], "grid": ["grid:2:4", "grid:1:5"], "cloud": ["gauss:2:10:1"]}
PRIOR_DOMAINS = {"boolean": ["bool:3", "pm1:4"], "grid": ["grid:2:5"], "cloud": ["gauss:2:20"]}
# Transformations defined through lattice digits: no meaning on a point cloud.
LATTICE_ONLY = ("permute_inputs", "flip_inputs")
# A column that holds a run time makes a regenerated table differ although its numbers did not change.
TIMING_COLUMN = re.compile(r"(^|_)(seconds|secs|elapsed|wall|walltime|wall_time|compute_s|render_s|time_s)($|_)")


# ---- measures ---------------------------------------------------------------------------------

def measure_domains(name: str, family: str):
    from biasprobe.domains import parse_domain
    from biasprobe.measures import get_measure

    specs = (SLOW_MEASURE_DOMAINS if get_measure(name).slow else MEASURE_DOMAINS)[family]
    return [parse_domain(s) for s in specs]


def sample_tables(domain, rng: np.random.Generator, rows: int) -> np.ndarray:
    """A mix of random and structured canonical tables: uniform, biased, constant, linear-threshold-like."""
    n = domain.n_points
    if domain.is_boolean:
        parts = [rng.integers(0, 2, (rows // 2, n)), (rng.random((rows - rows // 2 - 2, n)) < 0.2),
                 np.zeros((1, n)), (domain.points @ rng.standard_normal(domain.dim) > 0)[None, :]]
        return np.concatenate(parts).astype(np.uint8)
    x = domain.points
    parts = [rng.standard_normal((rows - 3, n)), (x @ rng.standard_normal(domain.dim))[None, :],
             np.sin(3 * x @ rng.standard_normal(domain.dim))[None, :], np.full((1, n), 0.7)]
    return np.concatenate(parts)


def _reindex(domain, digits: np.ndarray) -> np.ndarray:
    base = domain.size ** np.arange(domain.dim - 1, -1, -1)
    return digits @ base


def transform(kind: str, tables: np.ndarray, domain, rng: np.random.Generator):
    """(tables', domain') under which a measure invariant to `kind` must give the same values."""
    if kind == "complement":
        return (1 - tables if domain.is_boolean else -tables), domain
    if kind == "reverse":
        return tables[:, ::-1], domain
    if kind == "shuffle":
        return tables[:, rng.permutation(domain.n_points)], domain
    if kind == "enumeration":
        order = "perm" if domain.kind == "gauss" or rng.random() < 0.5 else "gray"
        return tables, domain.with_order(order, order_seed=int(rng.integers(1, 1000)))
    digits = domain.digits
    if kind == "permute_inputs":
        perm = rng.permutation(domain.dim)
        if domain.dim > 1:
            while np.array_equal(perm, np.arange(domain.dim)):
                perm = rng.permutation(domain.dim)
        return tables[:, _reindex(domain, digits[:, perm])], domain
    if kind == "flip_inputs":
        axes = rng.random(domain.dim) < 0.5
        axes[rng.integers(domain.dim)] = True
        flipped = np.where(axes[None, :], domain.size - 1 - digits, digits)
        return tables[:, _reindex(domain, flipped)], domain
    raise AssertionError(f"no test transformation for {kind!r}")


def check_measure_basic(name: str, family: str, seed: int = 0) -> None:
    """Declared bounds, float64 (B,) output, determinism; chunking and worker count do not change values."""
    from biasprobe.measures import compute, get_measure

    m = get_measure(name)
    rows = 6 if m.slow else 40
    for domain in measure_domains(name, family):
        rng = np.random.default_rng(seed)
        tables = sample_tables(domain, rng, rows)
        out = compute(name, tables, domain)[name]
        assert out.dtype == np.float64 and out.shape == (len(tables),), (name, str(domain))
        assert np.isfinite(out).all(), (name, str(domain), out)
        lo, hi = m.bound_values(domain)
        slack = 1e-9 * max(1.0, abs(lo) if np.isfinite(lo) else 1.0, abs(hi) if np.isfinite(hi) else 1.0)
        assert (out >= lo - slack).all() and (out <= hi + slack).all(), \
            f"{name} leaves its declared bounds [{lo}, {hi}] on {domain}: {out}"
        again = compute([name], tables.copy(), domain)[name]
        np.testing.assert_array_equal(out, again, err_msg=f"{name} is not deterministic on {domain}")
        halves = np.concatenate([compute(name, tables[:3], domain)[name], compute(name, tables[3:], domain)[name]])
        np.testing.assert_array_equal(out, halves, err_msg=f"{name} depends on the batch on {domain}")
        single = compute(name, tables, domain, workers=1)[name]
        np.testing.assert_array_equal(out, single, err_msg=f"{name} depends on the worker count on {domain}")


def check_measure_invariance(name: str, family: str, kind: str, seed: int = 0) -> None:
    """The measure gives the same values after a transformation it declares invariance under."""
    from biasprobe.measures import compute, get_measure

    m = get_measure(name)
    rows = 6 if m.slow else 40
    for domain in measure_domains(name, family):
        if kind in LATTICE_ONLY and domain.kind == "gauss":
            continue
        rng = np.random.default_rng(seed)
        tables = sample_tables(domain, rng, rows)
        base = compute(name, tables, domain)[name]
        for repeat in range(3):
            t2, d2 = transform(kind, tables, domain, rng)
            np.testing.assert_allclose(compute(name, t2, d2)[name], base, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} not invariant under {kind} on {domain} ({repeat})")


def check_measure(name: str) -> None:
    """Every check a measure must pass: metadata, bounds, dtype, determinism, and each declared invariance."""
    from biasprobe.measures import INVARIANCES, READS, get_measure

    m = get_measure(name)
    assert m.domains, f"measure {name} declares no domain family"
    assert set(m.invariant_under) <= set(INVARIANCES), f"measure {name}: unknown invariance"
    assert m.reads in READS, f"measure {name}: reads={m.reads!r}"
    assert m.description, f"measure {name} needs a docstring or description (shown by `biasprobe list measures`)"
    for family in m.domains:
        check_measure_basic(name, family)
        for kind in m.invariant_under:
            if not (family == "cloud" and kind in LATTICE_ONLY):
                check_measure_invariance(name, family, kind)


# ---- priors -----------------------------------------------------------------------------------

def check_prior(name: str, **fields) -> None:
    """A prior's contract: frozen fields, JSON-ready params, declared domains enforced, shape, dtype,
    determinism, a different seed differs, the prefix property, counts add up (on each declared family)."""
    import dataclasses

    from biasprobe.domains import parse_domain
    from biasprobe.errors import UserError
    from biasprobe.priors import get_prior, make_prior
    from biasprobe.sampling import sample_counts, sample_outputs

    cls = get_prior(name)
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, f"prior {name} is not a frozen dataclass"
    prior = make_prior(name, **fields)
    params = prior.params()
    assert json.loads(json.dumps(params)) == params, f"prior {name}: params() is not JSON-ready"
    assert prior.describe().strip().startswith(name), f"prior {name}: describe() must start with its name"
    assert prior.domains and set(prior.domains) <= set(PRIOR_DOMAINS), f"prior {name}: domains {prior.domains}"
    for family, specs in PRIOR_DOMAINS.items():
        for spec in specs:
            domain = parse_domain(spec)
            if family not in prior.domains:
                try:
                    sample_outputs(prior, domain, samples=2, seed=1)
                except UserError:
                    continue
                raise AssertionError(f"prior {name} does not declare {family} domains but sampled {spec}")
            y = sample_outputs(prior, domain, samples=50, seed=1)
            assert y.shape == (50, domain.n_points) and y.dtype == np.float32, (name, spec, y.shape, y.dtype)
            same = sample_outputs(prior, domain, samples=50, seed=1)
            assert np.array_equal(same, y, equal_nan=True), f"prior {name} is not deterministic on {spec}"
            prefix = sample_outputs(prior, domain, samples=7, seed=1)
            assert np.array_equal(prefix, y[:7], equal_nan=True), \
                f"prior {name} on {spec}: a shorter run is not a prefix of a longer one"
            other = sample_outputs(prior, domain, samples=50, seed=2)
            assert not np.array_equal(other, y, equal_nan=True), f"prior {name} ignores the seed on {spec}"
            c = sample_counts(prior, domain, samples=50, seed=1)
            assert c.counts.sum() + c.nonfinite == 50 and c.words.dtype == np.uint64, (name, spec)
            assert c.nonfinite == int((~np.isfinite(y)).any(axis=1).sum()), (name, spec)


# ---- experiments ------------------------------------------------------------------------------

def check_experiment(name: str, workdir: Path | str | None = None) -> None:
    """Run an experiment at the quick scale into a temporary folder (its own cache) and check what it wrote:
    every artifact with a caption in the README, non-empty tables without run-time columns, the provenance,
    a second run served from the cache with byte-identical tables."""
    import pandas as pd

    from biasprobe.pipeline import get_experiment, run_experiment, write_readme
    from biasprobe.pipeline.readme import escape

    exp = get_experiment(name)
    with tempfile.TemporaryDirectory(prefix=f"check-{name}-", dir=workdir) as tmp:
        tmp = Path(tmp)
        first = run_experiment(exp, "quick", tmp / "a", cache_root=tmp / "cache", log=lambda *_: None)
        assert not first.cache_hit, f"{name}: an empty cache cannot hit"
        res = tmp / "a" / name
        prov = json.loads((res / "provenance.json").read_text())
        assert prov["experiment"] == name and prov["scale"] == "quick" and prov["config"] == exp.config("quick")
        assert prov["versions"].get("biasprobe") and prov["artifacts"], f"{name}: provenance incomplete"
        readme = write_readme(tmp / "a").read_text()
        assert f"## {name}" in readme
        for art in prov["artifacts"]:
            assert art["caption"].endswith("."), f"{name}/{art['name']}: a caption is one sentence ending in '.'"
            assert escape(art["caption"]) in readme, f"{name}/{art['name']}: caption missing from the README"
            exts = ("csv", "md", "tex") if art["kind"] == "table" else ("png", "pdf")
            for e in exts:
                assert (res / f"{art['name']}.{e}").stat().st_size > 0, f"{name}/{art['name']}.{e} is empty"
            if art["kind"] == "table":
                df = pd.read_csv(res / f"{art['name']}.csv")
                assert len(df) == art["rows"] > 0, f"{name}/{art['name']} has no rows"
                timing = [c for c in df.columns if TIMING_COLUMN.search(str(c).lower())]
                assert not timing, f"{name}/{art['name']} carries run times {timing}: they belong in provenance"
                if art["n"]:
                    assert (df[art["n"]] > 0).all(), f"{name}/{art['name']}: sample sizes must be positive"
        second = run_experiment(exp, "quick", tmp / "b", cache_root=tmp / "cache", log=lambda *_: None)
        assert second.cache_hit, f"{name}: a second run with the same code and config must hit the cache"
        for f in sorted(res.iterdir()):
            if f.suffix in (".csv", ".md", ".tex"):
                assert f.read_bytes() == (tmp / "b" / name / f.name).read_bytes(), \
                    f"{name}/{f.name} differs when re-rendered from the same cached numbers"


TABLE_SUFFIXES = (".csv", ".md", ".tex")


def check_committed_tables(name: str, results_dir: Path | str | None = None, cache_root: Path | str | None = None,
                           workdir: Path | str | None = None) -> bool:
    """Re-render an experiment's cached default-scale output and compare its tables with the committed ones, byte for byte.

    Uses the compute output the cache holds for the *current* code and default configuration (never
    computes: returns False, nothing checked, when there is none, as on a fresh clone). Renders into a
    temporary folder and asserts that it writes exactly the committed folder's CSV, Markdown and LaTeX
    files with identical bytes, so the citable tables are reproduced by the code that claims them.
    Returns True when the comparison ran and passed.
    """
    from biasprobe.pipeline import cache, get_experiment, run_experiment
    from biasprobe.pipeline.paths import cache_dir, committed_results_dir

    exp = get_experiment(name)
    root = Path(cache_root) if cache_root is not None else cache_dir()
    key = cache.cache_key(exp, exp.config("default"), exp.seed)
    if not cache.is_complete(cache.entry_path(exp.name, key, root), key):
        return False
    committed = (Path(results_dir) if results_dir is not None else committed_results_dir()) / name
    with tempfile.TemporaryDirectory(prefix=f"rerender-{name}-", dir=workdir) as tmp:
        rec = run_experiment(exp, "default", Path(tmp), cache_root=root, readme=False, log=lambda *_: None)
        assert rec.cache_hit, f"{name}: the cached entry was not used"
        fresh = {f.name: f for f in (Path(tmp) / name).iterdir() if f.suffix in TABLE_SUFFIXES}
        kept = {f.name: f for f in committed.iterdir() if f.suffix in TABLE_SUFFIXES} if committed.is_dir() else {}
        assert set(fresh) == set(kept), (f"{name}: the committed tables {sorted(kept)} are not the ones the code "
                                         f"writes {sorted(fresh)}; regenerate results/{name}")
        for fname in sorted(fresh):
            assert fresh[fname].read_bytes() == kept[fname].read_bytes(), \
                f"{name}/{fname} differs from the committed file when re-rendered from the cache; regenerate it"
    return True
