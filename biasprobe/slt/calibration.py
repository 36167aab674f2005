"""The calibration table: λ̂ by `auto_config` + SGLD against the closed form on a fixed list of oracle cases.

`CASES` spans every model and every branch of the reduced-rank regression formula (main case with
M + H + N + r odd and even, r = 0 and r > 0, and the three boundary cases), deep linear networks of
depth 2–4 with r = 0 and r > 0, monomials with a unique largest exponent (multiplicity 1: with m
tied largest exponents every finite-n estimate is low by about (m − 1)/ln(nβ), a property of the
target, not of the sampler) and regular models.
"""

from __future__ import annotations

import time

CASES: list[tuple[str, dict]] = [
    ("regular", {"d": 1}),
    ("regular", {"d": 6}),
    ("regular", {"d": 20}),
    ("monomial", {"k": (1,)}),
    ("monomial", {"k": (2,)}),
    ("monomial", {"k": (3,)}),
    ("monomial", {"k": (2, 1)}),
    ("monomial", {"k": (3, 1, 1)}),
    ("rrr", {"M": 5, "H": 3, "N": 5, "r": 0}),   # main, odd
    ("rrr", {"M": 4, "H": 4, "N": 4, "r": 0}),   # main, even
    ("rrr", {"M": 5, "H": 3, "N": 5, "r": 1}),   # main, even, r > 0
    ("rrr", {"M": 5, "H": 3, "N": 5, "r": 2}),   # main, odd, r > 0
    ("rrr", {"M": 4, "H": 2, "N": 3, "r": 1}),   # main, even, M ≠ N
    ("rrr", {"M": 6, "H": 1, "N": 6, "r": 0}),   # main, odd, rank-one factorisation
    ("rrr", {"M": 3, "H": 2, "N": 8, "r": 1}),   # M + H < N + r
    ("rrr", {"M": 8, "H": 2, "N": 3, "r": 1}),   # N + H < M + r
    ("rrr", {"M": 2, "H": 5, "N": 2, "r": 0}),   # M + N < H + r
    ("dln", {"widths": (2, 3, 3, 2), "r": 0}),
    ("dln", {"widths": (3, 3, 3, 3), "r": 2}),
    ("dln", {"widths": (4, 2, 2, 4), "r": 1}),
    ("dln", {"widths": (3, 4, 3, 4), "r": 1}),
    ("dln", {"widths": (2, 3, 4, 3, 2), "r": 1}),
]


def case_label(name: str, params: dict) -> str:
    parts = [f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in params.items()]
    return f"{name}({' '.join(parts)})"


def run_case(name: str, params: dict, seed: int, *, n: int = 100_000, chains: int = 8, draws: int = 2000,
             max_draws: int | None = None, threads: int | None = 1, **tuning) -> dict:
    """One row of the table: theory, λ̂, SE, relative error, the chosen ε and γ, diagnostics and seconds."""
    from biasprobe.slt.toys import make_toy
    from biasprobe.slt.tuning import estimate

    t0 = time.perf_counter()
    toy = make_toy(name, seed=seed, n=n, **params)
    c0 = time.process_time()
    res = estimate(toy.potential, toy.w_star, chains=chains, draws=draws, max_draws=max_draws, seed=seed,
                   threads=threads, warn=False, **tuning)
    th = toy.theory.llc
    return {"model": name, "case": case_label(name, params), "branch": toy.theory.branch, "d": toy.dim,
            "n": n, "theory": th, "llc": res.llc, "llc_se": res.llc_se,
            "rel_error": (res.llc - th) / th, "step": res.config.step, "gamma": res.config.gamma,
            "chains": chains, "draws": res.config.draws, "acceptance": float(res.acceptance.mean()),
            "virial": float(res.virial.mean()), "warnings": len(res.warnings) + len(res.extra["auto"]["notes"]),
            "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}


def _task(args):
    name, params, seed, kwargs = args
    return run_case(name, params, seed, **kwargs)


def calibrate(cases=None, seed: int = 0, workers: int = 1, **kwargs):
    """The calibration table as a DataFrame, one row per case, cases spread over `workers` processes."""
    import pandas as pd

    from biasprobe.doubledescent.mlp import map_tasks

    cases = CASES if cases is None else cases
    tasks = [{"args": (name, dict(params), seed + i, kwargs)} for i, (name, params) in enumerate(cases)]
    rows = map_tasks(_task, tasks, workers)
    return pd.DataFrame(rows)
