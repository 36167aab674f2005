"""Orchestration helpers the experiment files share: prior specs, per-label seeds, sampling into tidy rows."""

from __future__ import annotations

import zlib

import numpy as np


def child_seed(seed: int, *labels) -> int:
    """An independent 63-bit seed for one sweep point, keyed by its labels (not its position in a list).

    Keying by label means adding or reordering sweep points never changes the
    draws of the others (numpy SeedSequence entropy mixing).
    """
    keys = [int(seed)] + [zlib.crc32(str(lab).encode()) for lab in labels]
    return int(np.random.SeedSequence(keys).generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)


def build_prior(spec: dict):
    """A prior from a config entry {"prior": name, "params": {...}}."""
    from biasprobe.priors import make_prior

    return make_prior(spec["prior"], **spec.get("params", {}))


def convention(prior) -> str:
    """The parameter convention in words, e.g. 'W ~ N(0, 1^2/fan_in), b ~ N(0, 1^2)'; every result names one."""
    name = getattr(prior, "name", "")
    if name == "counting":
        return "uniform over all functions"
    if name == "polynomial" and getattr(prior, "family", "") == "ptf":
        return f"sign of sum_S c_S x^S, deg <= {prior.degree}, c_S ~ N(0, 1)"
    sw = getattr(prior, "sigma_w", None)
    sb = getattr(prior, "sigma_b", None)
    if sw is None:
        return ""
    # "U(var ...)": uniform with mean 0 and that variance (the same variance as the gaussian convention)
    law = (lambda v: f"U(var {v})") if getattr(prior, "weights", "gaussian") == "uniform" else (lambda v: f"N(0, {v})")
    w = f"W ~ {law(f'{sw:.3g}^2/fan_in')}"
    if not getattr(prior, "bias", True) or sb == 0:
        return f"{w}, no bias"
    scaling = getattr(prior, "bias_scaling", "fixed")
    if scaling == "sigma_w_fan_out":
        return f"{w}, b ~ {law(f'({sb:.3g}*{sw:.3g}/fan_out)^2')}"
    bdiv = "/fan_in" if scaling == "fan_in" else ""
    return f"{w}, b ~ {law(f'{sb:.3g}^2{bdiv}')}"


# The named parameter conventions of docs/definitions.md §1, labelled by their laws (never by attribution).
CONVENTION_LABELS = {
    "a": "(a) W ~ N(0, 1/fan_in), b ~ N(0, 1)",
    "b": "(b) W, b ~ uniform, var 2/fan_in",
    "c": "(c) W ~ N(0, 2/fan_in), b ~ N(0, 2)",
}


def sample_functions(spec: dict, domain, samples: int, seed: int):
    """Sample a prior's functions exactly: (canonical bits (D, N) uint8, counts (D,) int64, nonfinite, prior)."""
    from biasprobe.sampling import sample_counts

    prior = build_prior(spec)
    c = sample_counts(prior, domain, int(samples), int(seed))
    return np.asarray(c.bits(), dtype=np.uint8), np.asarray(c.counts, dtype=np.int64), int(c.nonfinite), prior


def expand(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per-draw values from per-distinct-function values and multiplicities."""
    return np.repeat(np.asarray(values), np.asarray(counts, dtype=np.int64))


def sample(spec: dict, domain, samples: int, seed: int):
    """(Counts, prior): the exact counts, kept packed (16 bytes per distinct 7-input function, not 128)."""
    from biasprobe.sampling import sample_counts

    prior = build_prior(spec)
    return sample_counts(prior, domain, int(samples), int(seed)), prior


def ones(counts) -> np.ndarray:
    """T, the number of ones of each distinct function, by popcount of the packed words (padding bits are 0)."""
    return np.bitwise_count(np.asarray(counts.words)).sum(axis=1, dtype=np.int64)


def measure_counts(names, counts, domain, chunk: int = 1 << 18) -> dict[str, np.ndarray]:
    """Measures of every distinct function, unpacking chunk rows at a time so paper-scale runs fit in memory."""
    from biasprobe.measures import compute
    from biasprobe.tables import unpack

    names = [names] if isinstance(names, str) else list(names)
    parts = {n: [] for n in names}
    for start in range(0, counts.distinct, chunk):
        bits = unpack(counts.words[start:start + chunk], domain.n_points)
        for n, v in compute(names, bits, domain).items():
            parts[n].append(v)
    return {n: (np.concatenate(v) if v else np.empty(0)) for n, v in parts.items()}
