"""Reading results back in a notebook: the committed tables (`load_results`) or the cached compute output (`load_tables`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from biasprobe.errors import UserError
from biasprobe.pipeline import cache
from biasprobe.pipeline.paths import cache_dir, results_dir_for
from biasprobe.pipeline.spec import Experiment, get_experiment


@dataclass(frozen=True)
class Results:
    """One experiment's rendered output: its tables (from the CSVs), provenance and figure files."""

    name: str
    directory: Path
    provenance: dict
    tables: dict = field(repr=False)
    figures: dict = field(repr=False)

    def __getitem__(self, table: str):
        if table not in self.tables:
            raise UserError(f"{self.name} has no table {table!r}; tables: {', '.join(self.tables) or '(none)'}")
        return self.tables[table]


def load_results(name: str, results_dir: Path | str | None = None, scale: str = "default") -> Results:
    """The tables and provenance an experiment's run wrote (default: the committed results/ of the checkout).

    Works on a fresh clone (results/ is committed); raises a UserError naming the command to run when the
    experiment has no results there.
    """
    import pandas as pd

    folder = results_dir_for(scale, results_dir) / name
    prov_path = folder / "provenance.json"
    try:
        prov = json.loads(prov_path.read_text())
        artifacts = prov["artifacts"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"no readable results for {name!r} in {folder} ({type(err).__name__}); "
                        f"run `biasprobe run {name}" + (f" --scale {scale}" if scale != "default" else "") + "`") \
            from None
    tables, figures = {}, {}
    for art in artifacts:
        if art.get("kind") == "table":
            tables[art["name"]] = pd.read_csv(folder / f"{art['name']}.csv")
        elif art.get("kind") == "figure":
            figures[art["name"]] = folder / f"{art['name']}.png"
    return Results(name, folder, prov, tables, figures)


def load_tables(exp: Experiment | str, scale: str = "default", seed: int | None = None,
                cache_root: Path | str | None = None) -> dict:
    """The cached compute output (the tidy data behind the figures) of an experiment at a scale.

    Raises a UserError naming the command to run when the cache does not hold it (a fresh clone
    has no cache: `load_results` reads the committed tables instead).
    """
    exp = get_experiment(exp) if isinstance(exp, str) else exp
    config = exp.config(scale)
    seed = exp.seed if seed is None else int(seed)
    key = cache.cache_key(exp, config, seed)
    root = Path(cache_root) if cache_root is not None else cache_dir()
    tables = cache.load(cache.entry_path(exp.name, key, root), key)
    if tables is None:
        flags = (f" --scale {scale}" if scale != "default" else "") + (f" --seed {seed}" if seed != exp.seed else "")
        raise UserError(f"the cache in {root} holds no output of {exp.name!r} at scale {scale!r} computed by the "
                        f"current code; run `biasprobe run {exp.name}{flags}` first (or use "
                        f"load_results({exp.name!r}) for the committed tables)")
    return tables
