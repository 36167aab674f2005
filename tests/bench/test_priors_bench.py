"""Smoke test of the reference-priors bench section (speed itself is measured by `make bench`, not here)."""

from biasprobe.bench import priors as bench


def test_prior_rates_runs_and_reports():
    rows = bench.prior_rates(samples=3000, repeats=1, workers=1, settings=bench.SETTINGS[:2])
    assert [r["setting"] for r in rows] == ["tree depth 3", "tree depth 7"]
    assert all(r["draws_per_s"] > 0 and r["samples"] == 3000 for r in rows)
    text = bench.markdown({"domain": "bool:7", "target_per_s": 1e5, "load_average_at_start": 1.0, "rows": rows})
    assert "tree depth 7" in text and text.count("\n|") >= 3 and "vs counting" in text


def test_every_new_prior_is_benched():
    assert {"tree", "dnf", "cnf", "circuit", "knn"} <= {s[1] for s in bench.SETTINGS}
