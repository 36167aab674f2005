"""reference-priors on a small configuration: priors equal to the counting measure show no structure at matched entropy."""

import numpy as np
import pytest

from biasprobe import pipeline as ex


@pytest.fixture(scope="module")
def small():
    exp = ex.get_experiment("reference-priors")
    config = exp.config("quick")
    config.update(encodings=["bool:5"], samples=3000, reference_per_t=40)
    config["priors"] = [
        {"label": "tree depth 5", "group": "tree", "prior": "tree", "params": {"depth": 5}},  # = counting
        {"label": "tree depth 2", "group": "tree", "prior": "tree", "params": {"depth": 2}},
        {"label": "knn k=1", "group": "knn", "prior": "knn", "params": {"k": 1}},  # constants only
        {"label": "gp rbf l=1", "group": "gp", "prior": "gp", "optional": True,
         "params": {"kernel": "rbf", "length_scale": 1.0}},
        {"label": "counting", "group": "counting", "prior": "counting"},
    ]
    return exp, config, exp.compute(config, 0)


def test_counting_and_full_depth_tree_match_their_controls(small):
    _, _, tables = small
    st = tables["stats"]
    for prior in ("counting", "tree depth 5"):
        rows = st[(st["prior"] == prior) & (st["measure"] != "ones") & (st["measure"] != "entropy")]
        assert len(rows) == 9 and (rows["z"].abs() < 4).all(), rows[["measure", "delta", "z"]]
    # a depth-2 tree depends on at most 3 variables: far simpler than random functions with as many ones
    sens = st[(st["prior"] == "tree depth 2") & (st["measure"] == "sensitivity")].iloc[0]
    assert sens["z"] < -10


def test_constants_only_prior(small):
    exp, config, tables = small
    mod = __import__("sys").modules["biasprobe_experiment_reference_priors"]
    head = mod.summary(tables, "bool:5").set_index("prior")
    assert head.loc["knn k=1", "p_constant"] == 1.0 and np.isnan(head.loc["knn k=1", "lz_d"])
    # depth-2 tree with fair leaves is constant iff its 4 leaves agree: 1/8
    n = head.loc["tree depth 2", "n"]
    assert abs(head.loc["tree depth 2", "p_constant"] - 1 / 8) < 5 * np.sqrt(1 / 8 * 7 / 8 / n)


def test_divergences_and_skips(small):
    _, _, tables = small
    div = tables["divergence"].set_index(["prior_a", "prior_b"])
    assert div.loc[("tree depth 5", "counting"), "js_ones"] < 0.01
    assert np.isnan(div.loc[("tree depth 5", "counting"), "js_functions"])  # 2^32 functions: not covered
    assert div.loc[("tree depth 2", "knn k=1"), "js_ones"] > 0.1


def test_render_writes_captioned_artifacts(small, tmp_path):
    from biasprobe.results import Output

    exp, config, tables = small
    out = Output(tmp_path, experiment=exp.name)
    exp.render(tables, config, out)
    names = {a["name"] for a in out.artifacts}
    assert {"summary", "measures", "matched_bands", "divergence", "rank_frequency_bool", "simplest_bool",
            "matched_bool", "matched_by_band_bool"} <= names
    assert all(a["caption"].endswith(".") for a in out.artifacts)
