"""Complexity measures: the registry API and the built-in measures (imported here so they register)."""

from biasprobe.measures.registry import (
    FAMILIES,
    INVARIANCES,
    MEASURES,
    READS,
    Measure,
    compute,
    describe_measures,
    get_measure,
    list_measures,
    register_measure,
)
from biasprobe.measures.table import measure_table

from biasprobe.measures import boolean, circuit, compression, continuous  # noqa: E402,F401  (registration)

__all__ = ["FAMILIES", "INVARIANCES", "MEASURES", "READS", "Measure", "compute", "describe_measures", "get_measure", "list_measures",
           "measure_table", "register_measure"]
