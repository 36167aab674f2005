"""The automatic procedure against closed forms: a few fast oracle cases in `make test`, the whole table in `make test-all`."""

import pytest

from biasprobe.slt.calibration import CASES, calibrate, run_case


@pytest.mark.parametrize("name,params,seed", [
    ("regular", {"d": 3}, 0),
    ("monomial", {"k": (2,)}, 1),
    ("rrr", {"M": 3, "H": 2, "N": 3, "r": 1}, 2),  # main case, M+H+N+r odd: 28/8
])
def test_automatic_estimate_within_15_percent(name, params, seed):
    row = run_case(name, params, seed, draws=1000, chains=8)
    # 15% is the table's median target; with fixed seeds these cases sit well inside it (a regression
    # of the sampler or the tuner moves them out)
    assert abs(row["rel_error"]) < 0.15, row
    assert row["acceptance"] > 0.9


@pytest.mark.slow
def test_calibration_table_meets_its_targets():
    table = calibrate(CASES, seed=0, workers=2, draws=2000, max_draws=8000)
    err = table["rel_error"].abs()
    assert len(table) >= 20 and set(table["model"]) == {"regular", "monomial", "rrr", "dln"}
    assert {"main-odd", "main-even", "M+H<N+r", "N+H<M+r", "M+N<H+r"} <= set(table["branch"])
    assert err.median() <= 0.15, table
    assert err.max() <= 0.30, table
