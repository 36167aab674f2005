"""Peak calls with standard errors: hand-worked margins, the k-SE rule, exact curves, and the median's SE."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from biasprobe.doubledescent.summary import median_se, peak_row, peak_rule, peak_table


def test_margins_are_differences_over_the_se_of_a_difference():
    x = [1, 2, 3, 4, 5]
    y = [0.30, 0.20, 0.38, 0.25, 0.31]
    se = [0.01, 0.03, 0.04, 0.03, 0.01]
    r = peak_row(x, y, window=(2, 4), se=se)
    assert (r["peak_at"], r["left_min_at"], r["right_min_at"]) == (3, 2, 4)
    assert r["left_z"] == pytest.approx(0.18 / 0.05) and r["right_z"] == pytest.approx(0.13 / 0.05)
    assert r["peak_se"] == 0.04 and r["left_min_se"] == 0.03 and r["k_se"] == 2.0
    assert r["is_peak"]  # 3.6 and 2.6 SE
    assert not peak_row(x, y, window=(2, 4), se=se, k_se=3.0)["is_peak"]  # the right side clears only 2.6


def test_the_issue_example_is_not_a_peak():
    """0.380 against 0.312 with per-point SEs of 0.04 (3 seeds, sd 0.07): 1.2 SE of the difference, not 2."""
    r = peak_row([1, 2, 3], [0.312, 0.380, 0.300], se=[0.04, 0.04, 0.04])
    assert r["left_z"] == pytest.approx(0.068 / math.hypot(0.04, 0.04))
    assert not r["is_peak"]


def test_exact_curves_and_degenerate_cases():
    r = peak_row([1, 2, 3], [1.0, 2.0, 1.5])  # a formula: no SE, higher than both sides is enough
    assert r["is_peak"] and math.isnan(r["left_z"]) and math.isnan(r["k_se"])
    r = peak_row([1, 2, 3], [1.0, 2.0, 1.5], se=[0.0, 0.0, 0.0])  # zero SE: an exact difference
    assert r["left_z"] == math.inf and r["is_peak"]
    r = peak_row([1, 2, 3], [1.0, 1.0, 0.5], window=(2, 2), se=[0.0, 0.0, 0.0])
    assert not r["is_peak"]  # equal to its left neighbour: no bump
    assert not peak_row([1, 2, 3], [3.0, 2.0, 1.0], window=(2, 3), se=[0.1, 0.1, 0.1])["is_peak"]  # monotone
    r = peak_row([1, 2], [np.nan, np.nan], se=[0.1, 0.1])
    assert math.isnan(r["peak"]) and not r["is_peak"]


def test_the_rule_has_the_promised_false_alarm_rate_on_flat_noise():
    """A flat curve plus unit-SE noise, 7 points, peak searched among the middle 3: how often is it called a peak?

    One fixed pair would clear 2 SE of the difference with probability 2.3%; here the peak is the largest of 3
    and each minimum the smallest of its side, so the rate is higher: measured 5.0% over 2000 curves. Checked:
    its 99% upper limit stays under 8%, and a bump 4 SE of a difference (plus 2 for the selection) above the
    noise is called at least 90% of the time.
    """
    rng = np.random.default_rng(0)
    x = np.arange(7)
    se = np.full(7, 1.0)
    flat = [peak_row(x, rng.normal(0, 1, 7), window=(2, 4), se=se)["is_peak"] for _ in range(2000)]
    rate = np.mean(flat)
    assert stats.binomtest(int(np.sum(flat)), len(flat)).proportion_ci(0.99).high < 0.08
    bump = np.zeros(7)
    bump[3] = 4 * math.sqrt(2) + 2  # four SE of a difference above the noise, plus the selection slack
    real = [peak_row(x, bump + rng.normal(0, 1, 7), window=(2, 4), se=se)["is_peak"] for _ in range(500)]
    assert np.mean(real) > 0.9 and rate < np.mean(real)


def test_peak_table_passes_the_se_column_and_says_the_rule():
    curves = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "x": [1, 2, 3] * 2, "y": [1, 3, 1, 1, 1.1, 1],
                           "y_se": [0.1] * 6})
    t = peak_table(curves, "g", "x", "y", se="y_se").set_index("g")
    assert bool(t.loc["a", "is_peak"]) and not bool(t.loc["b", "is_peak"])
    assert "2 standard errors" in peak_rule() and "3 standard errors" in peak_rule(3)


def test_median_se_matches_the_normal_theory_value_for_gaussian_samples():
    """For N(0, 1) samples of size n the median's SE is sqrt(pi / 2) / sqrt(n) ~ 1.2533 / sqrt(n)."""
    rng = np.random.default_rng(1)
    n = 400
    values = [median_se(rng.standard_normal(n)) for _ in range(200)]
    assert np.mean(values) == pytest.approx(math.sqrt(math.pi / 2) / math.sqrt(n), rel=0.1)
    assert math.isnan(median_se([1.0]))
