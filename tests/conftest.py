"""Test-wide settings: hypothesis runs a fixed, derandomised set of examples, so CI sees the same cases every run."""

from hypothesis import settings

settings.register_profile("biasprobe", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("biasprobe")
