"""Every registered experiment at quick scale (one test each, its own cache), and the perceptron/counting oracles."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from biasprobe import pipeline as ex
from biasprobe.testing import check_experiment

MINE = ["entropy-bias", "probability-vs-complexity", "measure-agreement", "order-to-chaos",
        "enumeration-and-encoding", "continuous-inputs"]


@pytest.mark.parametrize("name", sorted(ex.discover()))
def test_experiment_contract(name, tmp_path):
    """Each experiment alone: one failure does not hide the others, and a new one is tested by name."""
    check_experiment(name, workdir=tmp_path)


def test_every_experiment_is_found():
    assert set(MINE) <= set(ex.discover()) and len(ex.discover()) >= 11


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    root = tmp_path_factory.mktemp("quick")
    records = ex.run(["entropy-bias"], scale="quick", results_dir=root / "results", cache_root=root / "cache",
                     log=lambda *_: None)
    return root, records


def _ones(root, label, domain="bool:7"):
    tables = ex.load_tables("entropy-bias", scale="quick", cache_root=root / "cache")
    h = tables["ones"].query("prior == @label and domain == @domain").sort_values("ones")
    return h["count"].to_numpy()


def test_perceptron_without_bias_matches_uniform_law(quick):
    root, _ = quick
    c = _ones(root, "perceptron, no bias")
    n = c.sum()
    assert c[128] == 0  # the origin maps to 0, so the all-ones function is impossible
    # exact law: P(T = t) = 1/128 for t < 128 (Mingard et al. 2019)
    assert stats.chisquare(c[:128], np.full(128, n / 128)).pvalue > 1e-3
    covered = [stats.binomtest(int(k), int(n)).proportion_ci(0.95, method="wilson") for k in c[:128]]
    inside = np.mean([ci.low <= 1 / 128 <= ci.high for ci in covered])
    assert inside >= 0.88  # 95% bands; expected coverage 0.95, sd about 0.02 over 128 bins
    # on pm1:7 a bias-free perceptron is odd, so T = 64 always
    c = _ones(root, "perceptron, no bias", "pm1:7")
    assert c[64] == c.sum()


def test_counting_row_matches_binomial(quick):
    root, _ = quick
    c = _ones(root, "counting")
    n = c.sum()
    expected = n * stats.binom.pmf(np.arange(129), 128, 0.5)
    # pool the tails so every bin expects at least 5
    keep = expected >= 5
    obs = np.append(c[keep], c[~keep].sum())
    exp_ = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(obs, exp_ * obs.sum() / exp_.sum()).pvalue > 1e-3
    summary = pd.read_csv(root / "results" / "entropy-bias" / "summary.csv")
    row = summary.query("prior == 'counting' and domain == 'bool:7'").iloc[0]
    h = lambda p: 0.0 if p in (0, 1) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))  # noqa: E731
    exact_entropy = sum(math.comb(128, t) / 2**128 * h(t / 128) for t in range(129))
    assert row["mean_entropy_lo"] <= exact_entropy <= row["mean_entropy_hi"]
    assert row["p_constant"] == 0 and row["n"] == n
    # plug-in KL of an exact binomial sample is only its small-sample bias: about (bins - 1) / (2 n ln 2)
    assert row["kl_bits"] < 5 * 20 / (2 * n * math.log(2))
