"""The experiment spec and its registry: the files in experiments/ plus plug-ins from the `biasprobe.experiments` group.

The contract, for everyone writing an experiment
-------------------------------------------------
One module per figure or table, holding configuration and orchestration only::

    from biasprobe.pipeline import Experiment

    def compute(config: dict, seed: int) -> dict[str, pandas.DataFrame]: ...   # slow; cached
    def render(tables, config, out) -> None: ...                               # fast; always re-run

    EXPERIMENT = Experiment(
        name="dd-linear", title="one line for `biasprobe list experiments`",
        scales={"quick": {...}, "default": {...}, "paper": {...}},   # plain JSON-able dicts
        compute=compute, render=render, seed=0)

* ``scales[scale]`` is the resolved configuration passed to ``compute`` and ``render``;
  it must be JSON-serialisable (it is hashed and written to ``provenance.json``). A
  scale a file does not define falls back to ``default``.
* ``compute`` draws all randomness from ``seed`` (no global RNG) and returns tidy
  DataFrames with string column names and parquet-able dtypes. Its output is cached,
  keyed by the code that computes (see ``biasprobe.pipeline.fingerprint``): editing
  ``compute`` or a helper it calls recomputes; editing ``render`` only re-renders.
  Tables hold numbers, not run times: timings go to the provenance.
* ``render`` writes every artifact through ``out`` (``biasprobe.results.Output``):
  ``out.table(...)`` and ``out.figure(...)``, each with a one-sentence caption.
* ``sample_counts`` (optional) maps the config to ``{label: int}`` for the provenance.

Built-in experiments are the files ``experiments/*.py`` of the checkout
(``BIASPROBE_EXPERIMENTS`` overrides the folder); an installed package adds one with an
entry point in the group ``biasprobe.experiments`` naming a module that defines
``EXPERIMENT`` (or the ``Experiment`` object itself).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from biasprobe.errors import UserError
from biasprobe.pipeline.paths import experiments_dir
from biasprobe.registry import Registry

SCALES = ("quick", "default", "paper")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")  # names become folder names: no separators, no markup


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

    def __post_init__(self):
        if not isinstance(self.name, str) or not NAME.match(self.name):
            raise ValueError(f"experiment name {self.name!r}: lower-case letters, digits, '.', '_' and '-' only")

    def config(self, scale: str) -> dict:
        """The resolved configuration for a scale (a deep copy, safe to mutate)."""
        if scale not in SCALES:
            raise UserError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
        chosen = self.scales.get(scale, self.scales.get("default"))
        if chosen is None:
            raise UserError(f"experiment {self.name!r} defines no {scale!r} or 'default' scale")
        return json.loads(json.dumps(chosen))

    @property
    def source_file(self) -> str:
        return self.source or inspect.getsourcefile(self.compute) or ""


def _adapt(name: str, obj):
    exp = getattr(obj, "EXPERIMENT", obj)
    if not isinstance(exp, Experiment):
        raise TypeError(f"entry point {name!r} must name an Experiment or a module defining EXPERIMENT")
    if exp.name != name:
        raise TypeError(f"entry point {name!r} names experiment {exp.name!r}; the two names must agree")
    return _with_source(exp)


def _with_source(exp: Experiment) -> Experiment:
    if not exp.source:
        object.__setattr__(exp, "source", inspect.getsourcefile(exp.compute) or "")
    return exp


EXPERIMENTS: Registry[Experiment] = Registry("experiment", "biasprobe.experiments", adapt=_adapt)
_scanned: set[Path] = set()


def register_experiment(exp: Experiment) -> Experiment:
    """Register an Experiment (a module of a plug-in may call this instead of naming EXPERIMENT in its entry point)."""
    EXPERIMENTS.add(exp.name, _with_source(exp), same=lambda a, b: a.source_file == b.source_file)
    return exp


def scan(directory: Path | str | None = None) -> None:
    """Import every ``*.py`` of an experiments folder (once) and register its ``EXPERIMENT``."""
    directory = Path(directory) if directory is not None else experiments_dir()
    key = directory.resolve()
    if key in _scanned:
        return
    _scanned.add(key)
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        modname = f"biasprobe_experiment_{path.stem.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module  # dataclasses and inspect want it registered
        spec.loader.exec_module(module)
        exp = getattr(module, "EXPERIMENT", None)
        if not isinstance(exp, Experiment):
            continue
        object.__setattr__(exp, "source", str(path))
        EXPERIMENTS.add(exp.name, exp, same=lambda a, b: Path(a.source).resolve() == Path(b.source).resolve())


def rescan() -> None:
    """Forget which folders were scanned (tests that point BIASPROBE_EXPERIMENTS elsewhere)."""
    _scanned.clear()
    for name in list(EXPERIMENTS.builtin()):
        EXPERIMENTS.remove(name)


def discover(directory: Path | str | None = None) -> dict[str, Experiment]:
    """Every experiment (the folder's and the plug-ins'), sorted by name."""
    scan(directory)
    return dict(EXPERIMENTS.items())


def get_experiment(name: str, directory: Path | str | None = None) -> Experiment:
    scan(directory)
    return EXPERIMENTS.get(name)


def describe_experiments() -> str:
    """One line per experiment, for `biasprobe list experiments`."""
    registry = discover()
    if not registry:
        return f"  (none found in {experiments_dir()})"
    width = max(map(len, registry))
    return "\n".join(f"  {name:<{width}}  {exp.title}" for name, exp in registry.items())
