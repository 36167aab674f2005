"""Conventions are labelled by what they are (docs/definitions.md §1), never by attribution."""

import inspect
import re
from pathlib import Path

from biasprobe import pipeline as ex


def test_weight_conventions_are_named_by_their_laws():
    mod = inspect.getmodule(ex.get_experiment("probability-vs-complexity").compute)
    notes = mod.CONVENTION_NOTE
    assert notes["a"] == "(a) W ~ N(0, 1/fan_in), b ~ N(0, 1)"
    assert notes["c"] == "(c) W ~ N(0, 2/fan_in), b ~ N(0, 2)"
    assert "uniform" in notes["b"] and "2/fan_in" in notes["b"]
    for text in notes.values():
        assert not re.search(r"valle|p[eé]rez|mingard|author|sampler", text, re.I), text


def test_no_experiment_attributes_a_convention_to_a_sampler_of_the_authors():
    for exp in ex.discover().values():
        source = Path(exp.source_file).read_text()
        assert not re.search(r"Valle-P[eé]rez sampler", source), exp.name
