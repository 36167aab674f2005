"""biasprobe: exact, seeded samplers of random functions, complexity measures and double descent."""

__version__ = "0.1.0"
