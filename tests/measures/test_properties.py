"""Hypothesis property tests on random tables of many lengths, odd grid sizes included: identities between measures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from biasprobe.domains import parse_domain
from biasprobe.measures import compute, measure_table
from biasprobe.measures.boolean import degrees, walsh
from measure_helpers import ks_phrases


@st.composite
def boolean_tables(draw):
    n = draw(st.integers(1, 7))
    rows = draw(st.integers(1, 4))
    p = draw(st.sampled_from([0.5, 0.1, 0.9]))
    seed = draw(st.integers(0, 2**32 - 1))
    t = (np.random.default_rng(seed).random((rows, 1 << n)) < p).astype(np.uint8)
    return parse_domain(f"bool:{n}"), t


@st.composite
def grid_tables(draw):
    d = draw(st.integers(1, 2))
    m = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    y = np.random.default_rng(seed).standard_normal((3, m**d))
    return parse_domain(f"grid:{d}:{m}"), y


@settings(max_examples=60, deadline=None)
@given(boolean_tables())
def test_sensitivity_is_total_influence_over_n(case):
    """Average sensitivity = sum_S |S| f_hat(S)^2 / n (total influence), an identity between two code paths."""
    domain, t = case
    coeffs = walsh(t, domain) / t.shape[1]
    influence = (coeffs**2 * degrees(domain.dim)[None, :]).sum(axis=1)
    out = compute(["sensitivity", "csr", "gc", "fourier_l1"], t, domain)
    np.testing.assert_allclose(out["sensitivity"], influence / domain.dim, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose((coeffs**2).sum(axis=1), 1.0)  # Parseval
    assert (out["csr"] >= out["sensitivity"] - 1e-12).all()  # a critical input has >= 1 of its n bits critical
    assert (out["gc"] >= out["sensitivity"] - 1e-12).all()  # C_1 is the sensitivity
    assert (out["fourier_l1"] >= 1 - 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(boolean_tables())
def test_complement_and_counts(case):
    domain, t = case
    a = compute(["ones", "entropy", "lz_phrases"], t, domain)
    b = compute(["ones", "entropy", "lz_phrases"], 1 - t, domain)
    np.testing.assert_array_equal(a["ones"] + b["ones"], t.shape[1])
    np.testing.assert_allclose(a["entropy"], b["entropy"], atol=1e-15)
    assert a["lz_phrases"].tolist() == [ks_phrases(r.tolist()) for r in t]


@settings(max_examples=60, deadline=None)
@given(grid_tables())
def test_grid_measures_on_any_size(case):
    domain, y = case
    out = compute(["sign_changes", "total_variation", "mean_frequency", "lz", "ones"], y, domain)
    m, d = domain.size, domain.dim
    assert ((out["sign_changes"] >= 0) & (out["sign_changes"] <= d * m ** (d - 1) * (m - 1))).all()
    assert ((out["mean_frequency"] >= 0) & (out["mean_frequency"] <= 1 + 1e-12)).all()
    np.testing.assert_array_equal(out["ones"], (y > 0).sum(axis=1))
    scaled = compute(["total_variation", "sign_changes"], -2.5 * y, domain)
    np.testing.assert_allclose(scaled["total_variation"], 2.5 * out["total_variation"], rtol=1e-12)
    b = (y > 0).astype(int)
    log_n = np.log2(m**d)
    expected = [log_n if r.sum() in (0, len(r)) else log_n * (ks_phrases(list(r)) + ks_phrases(list(r[::-1]))) / 2
                for r in b]
    np.testing.assert_allclose(out["lz"], expected, rtol=1e-12, atol=1e-12)


def test_empty_inputs():
    domain = parse_domain("bool:3")
    out = compute(["lz", "boolean", "sensitivity"], np.zeros((0, 8), np.uint8), domain)
    assert all(v.shape == (0,) for v in out.values())
    frame = measure_table(pd.DataFrame({"function": pd.Series([], dtype=str)}), ["lz", "boolean"], domain)
    assert list(frame.columns) == ["function", "lz", "boolean", "boolean_measured"] and len(frame) == 0
