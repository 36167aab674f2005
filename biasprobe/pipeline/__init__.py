"""The results pipeline: experiment specs and their registry, the compute cache, the runner, the README, the readers.

Modules: ``spec`` (Experiment, the registry, discovery), ``paths`` (where things live),
``fingerprint`` (what cached numbers depend on), ``cache`` (atomic, verified entries),
``runner`` (run an experiment), ``readme`` (results/README.md), ``loading``
(``load_results`` for committed tables, ``load_tables`` for the cache).
"""

from biasprobe.pipeline.cache import cache_key
from biasprobe.pipeline.loading import Results, load_results, load_tables
from biasprobe.pipeline.paths import cache_dir, experiments_dir, results_dir_for
from biasprobe.pipeline.readme import write_readme
from biasprobe.pipeline.runner import RunRecord, run, run_experiment
from biasprobe.pipeline.spec import (
    EXPERIMENTS,
    SCALES,
    Experiment,
    describe_experiments,
    discover,
    get_experiment,
    register_experiment,
)

__all__ = ["EXPERIMENTS", "SCALES", "Experiment", "Results", "RunRecord", "cache_dir", "cache_key",
           "describe_experiments", "discover", "experiments_dir", "get_experiment", "load_results", "load_tables",
           "register_experiment", "results_dir_for", "run", "run_experiment", "write_readme"]
