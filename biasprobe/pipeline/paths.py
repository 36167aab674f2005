"""Where experiments, the compute cache and results live (each overridable by an environment variable or argument)."""

from __future__ import annotations

import os
from pathlib import Path

from biasprobe.provenance import ROOT

DEFAULT_SCALE = "default"


def experiments_dir() -> Path:
    """The folder of built-in experiment files (`BIASPROBE_EXPERIMENTS` overrides)."""
    return Path(os.environ.get("BIASPROBE_EXPERIMENTS", ROOT / "experiments"))


def cache_dir() -> Path:
    """The compute cache (`BIASPROBE_CACHE` overrides); git-ignored."""
    return Path(os.environ.get("BIASPROBE_CACHE", ROOT / ".cache"))


def committed_results_dir() -> Path:
    """results/ in the checkout: the citable default-scale output, committed to git."""
    return Path(os.environ.get("BIASPROBE_RESULTS", ROOT / "results"))


def results_dir_for(scale: str, results_dir: Path | str | None = None) -> Path:
    """Where a run writes: the given folder; else results/ at the default scale, .cache/results-SCALE otherwise.

    So `biasprobe run NAME --scale quick` can never overwrite the committed tables.
    """
    if results_dir is not None:
        return Path(results_dir)
    if scale == DEFAULT_SCALE:
        return committed_results_dir()
    return cache_dir() / f"results-{scale}"
