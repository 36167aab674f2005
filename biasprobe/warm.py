"""Compile and cache every numba kernel once (`make install` runs this), so a user's first command starts at once.

numba caches compiled code beside the sources (`__pycache__`, for this CPU); without this
step the first `biasprobe sample` or `measure` of a fresh install spends 15-45 s compiling.
"""

from __future__ import annotations

import sys
import time


def warm() -> float:
    import numpy as np

    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute
    from biasprobe.priors import make_prior
    from biasprobe.sampling import sample_counts

    t0 = time.perf_counter()
    for spec in ("bool:7", "grid:2:4"):
        sample_counts(make_prior("mlp"), parse_domain(spec), samples=2, seed=0, workers=1)
    compute(["lz"], np.zeros((2, 128), np.uint8), parse_domain("bool:7"), workers=1)
    return time.perf_counter() - t0


if __name__ == "__main__":
    seconds = warm()
    print(f"biasprobe: numba kernels compiled and cached in {seconds:.1f} s", file=sys.stderr)
