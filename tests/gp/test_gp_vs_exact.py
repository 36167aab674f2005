"""gp-vs-exact at a tiny scale: ladder bands, exact counts against a recount, EP against the exact probit, bounds."""

import sys

import numpy as np
import pytest

from biasprobe import pipeline as ex
from biasprobe import tables
from biasprobe.domains import parse_domain
from biasprobe.sweep import child_seed


@pytest.fixture(scope="module")
def run():
    exp = ex.get_experiment("gp-vs-exact")
    module = sys.modules["biasprobe_experiment_gp_vs_exact"]
    config = module._config(samples=4000, per_band=1, splits=1, ghk=400, ladder_samples=1000, coins=20)
    config["ms"] = [8, 16]
    return module, config, exp.compute(config, seed=5)


def test_ladder_spans_the_bands(run):
    module, config, out = run
    lad = out["ladder"]
    assert lad["function"].iloc[0] == "0" * 32 and lad["lz"].iloc[0] == 7.0
    for rec in lad.to_dict("records"):
        lo, hi = (float(v) for v in rec["band"].strip("[)").split(","))
        assert lo <= rec["lz"] < hi
    assert lad["band"].nunique() >= 6 and lad["function"].is_unique


def test_exact_counts_match_a_recount(run):
    module, config, out = run
    from biasprobe.sampling import sample_counts

    counts = sample_counts(module.network_prior(config), parse_domain("bool:7"), config["samples"],
                           child_seed(5, "exact"))
    bits = counts.bits()
    for rec in out["problems"].to_dict("records"):
        target = tables.hex_to_bits([rec["function"]], 128)[0]
        train = tables.hex_to_bits([rec["train"]], 128)[0].astype(bool)
        assert train.sum() == rec["m"]
        agree = (bits[:, train] == target[train]).all(axis=1)
        assert int(counts.counts[agree].sum()) == rec["accepted"]


def test_estimates_are_consistent(run):
    module, config, out = run
    df = module.with_bounds(out["problems"], config)
    assert df["ep_converged"].all() and df["ep_scaled_converged"].all()
    # EP approximates the exact probit likelihood (orthant of K + I) closely on these problems
    assert np.abs(df["d_ep_vs_probit"]).max() < 0.15
    # where the exact value is well measured, the GP orthant and the exact intervals overlap, widened by a
    # finite-width allowance of 0.15 nats (the NNGP is the infinite-width limit of the width-40 network)
    well = df[df["accepted"] >= 100]
    assert len(well) >= 4
    assert ((well["ln_p_gp_lo"] <= well["ln_p_exact_hi"] + 0.15)
            & (well["ln_p_exact_lo"] <= well["ln_p_gp_hi"] + 0.15)).all()
    ok = df["accepted"] > 0
    assert (df["bound_exact_lo"][ok] <= df["bound_exact"][ok]).all()
    assert (df["bound_exact"][ok] <= df["bound_exact_hi"][ok]).all()
    for stem in ("exact", "gp", "ep"):
        b = df[f"bound_{stem}"].dropna()
        assert ((b > 0) & (b <= 1)).all()
