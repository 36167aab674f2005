"""The shipped published histograms (Mingard et al. 2025) and the statistics that compare samples with them."""

import math

import numpy as np
import pytest
from scipy import stats

from biasprobe.errors import UserError
from biasprobe.published import (MINGARD2025_SIGMA_W, ks_critical, ks_distance, mingard2025_lz, summarize)


@pytest.mark.parametrize("sigma_w, mean, p7", [(1.0, 60.41, 0.1864), (8.0, 144.95, 0.0), (None, 148.83, 0.0)])
def test_shipped_histograms_have_the_quoted_summaries(sigma_w, mean, p7):
    # docs/definitions.md §4 quotes these from the 10^8-draw files; a wrong or truncated copy moves them.
    h = mingard2025_lz(sigma_w)
    assert list(h.columns) == ["lz", "fraction", "count"] and h["lz"].is_monotonic_increasing
    n = h["count"].sum()
    assert n in (10**8, 10**8 + 4)
    assert np.allclose(h["fraction"], h["count"] / n, atol=1e-8)
    s = summarize(h["lz"], h["count"])
    assert s["mean"] == pytest.approx(mean, abs=0.005)
    assert s["p_constant"] == pytest.approx(p7, abs=5e-5)
    # every K_LZ value on 7 inputs is a multiple of log2(128)/2 = 3.5
    assert np.allclose(h["lz"] / 3.5, np.round(h["lz"] / 3.5))


def test_every_shipped_sigma_w_loads_and_others_are_user_errors():
    means = [summarize(*mingard2025_lz(s)[["lz", "count"]].T.to_numpy())["mean"] for s in MINGARD2025_SIGMA_W]
    assert means == sorted(means)  # the published means grow with sigma_w: 60.4, 107.8, 127.3, 142.5, 144.9
    with pytest.raises(UserError, match="sigma_w=3"):
        mingard2025_lz(3.0)


def test_ks_distance_hand_worked_and_against_scipy():
    # F1 = (.5, 1), F2 = (.25, 1) on {7, 10.5}: distance 0.25; identical distributions: 0.
    assert ks_distance([7, 10.5], [2, 2], [7, 10.5], [1, 3]) == pytest.approx(0.25)
    assert ks_distance([1, 2, 3], [5, 1, 1], [3, 1, 2], [1, 5, 1]) == 0.0
    # disjoint supports: distance 1
    assert ks_distance([1], [3], [2], [7]) == 1.0
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 20, 500), rng.integers(3, 25, 700)
    ka, wa = np.unique(a, return_counts=True)
    kb, wb = np.unique(b, return_counts=True)
    assert ks_distance(ka, wa, kb, wb) == pytest.approx(stats.ks_2samp(a, b).statistic)


def test_ks_critical_matches_the_kolmogorov_quantile():
    # one-sample: sqrt(n) D -> Kolmogorov distribution, 95% quantile 1.3581
    assert ks_critical(10_000) * math.sqrt(10_000) == pytest.approx(stats.kstwobign.ppf(0.95), rel=1e-3)
    assert ks_critical(100, m=100) == pytest.approx(ks_critical(50))


def test_summarize_mean_se_and_constant_share():
    s = summarize([7, 14, 21], [2, 1, 1])
    assert s["n"] == 4 and s["mean"] == pytest.approx(12.25) and s["p_constant"] == 0.5
    assert s["se"] == pytest.approx(np.std([7, 7, 14, 21], ddof=1) / 2)
