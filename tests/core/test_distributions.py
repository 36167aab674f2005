"""Zipf slope, Good-Turing coverage and Jensen-Shannon divergence against closed forms and scipy."""

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from biasprobe import distributions as ds


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_zipf_slope_recovers_a_power_law(power):
    counts = np.round(1e7 / np.arange(1, 3000) ** power)
    assert ds.zipf_slope(counts, min_count=10) == pytest.approx(-power, abs=0.01)
    assert np.isnan(ds.zipf_slope([5, 3, 1], min_count=10))
    assert np.isnan(ds.zipf_slope([9000, 8000, 50, 20, 10], min_count=5))  # too few ranks to mean anything
    assert ds.zipf_slope([9000, 8000, 50, 20, 10], min_count=5, min_ranks=3) < -2


def test_missing_mass_hand_worked():
    assert ds.missing_mass([5, 1, 1, 3]) == pytest.approx(2 / 10)


def test_js_matches_scipy_and_its_bounds():
    rng = np.random.default_rng(0)
    p, q = rng.random(20), rng.random(20)
    assert ds.js_bits(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-10)
    assert ds.js_bits([1, 0], [0, 1]) == pytest.approx(1.0)
    assert ds.js_bits(p, p) == 0.0


def test_function_divergence_aligns_packed_words():
    a_words = np.array([[0, 1], [0, 2], [5, 5]], np.uint64)
    b_words = np.array([[5, 5], [0, 1], [9, 9]], np.uint64)
    out = ds.function_divergence(a_words, [2, 1, 1], b_words, [1, 2, 1])
    # on the support (0,1), (0,2), (5,5), (9,9): a = (1/2, 1/4, 1/4, 0), b = (1/2, 0, 1/4, 1/4)
    assert out["js_bits"] == pytest.approx(ds.js_bits([2, 1, 1, 0], [2, 0, 1, 1]))
    assert out["overlap_a"] == pytest.approx(0.75) and out["overlap_b"] == pytest.approx(0.75)
    assert out["missing_a"] == pytest.approx(0.5) and out["missing_b"] == pytest.approx(0.5)
