"""K_LZ and the Kaspar-Schuster phrase count: the unit table of docs/definitions.md §2, antropy, a transcribed reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biasprobe.domains import parse_domain
from biasprobe.measures import compute
from measure_helpers import bits, ks_phrases, majority, parity

BOOL7 = parse_domain("bool:7")

# docs/definitions.md §2, value for value: (truth table, N_w forward, N_w reverse, K_LZ)
UNIT_TABLE = [
    ("0" * 128, None, None, 7.0),
    ("1" * 128, None, None, 7.0),
    ("0" * 127 + "1", 2, 3, 17.5),
    ("0" * 64 + "1" * 64, 3, 3, 21.0),
    ("01" * 64, 3, 3, 21.0),
    ("0001" * 32, 3, 4, 24.5),
    ("1001" * 32, 4, 4, 28.0),
    ("10011010" * 16, 6, 6, 42.0),
]


@pytest.mark.parametrize("text, fwd, rev, expected", UNIT_TABLE)
def test_unit_table(text, fwd, rev, expected):
    t = bits(text)
    out = compute(["lz", "lz_phrases"], t, BOOL7)
    assert out["lz"][0] == expected
    if fwd is not None:
        assert out["lz_phrases"][0] == fwd
        assert compute("lz_phrases", t[:, ::-1], BOOL7)["lz_phrases"][0] == rev


def test_majority_and_parity_of_7():
    out = compute(["lz", "lz_phrases"], np.concatenate([majority(7), parity(7)]), BOOL7)
    assert out["lz"].tolist() == [70.0, 91.0]
    assert out["lz_phrases"].tolist() == [10.0, 13.0]


def test_random_128_bit_values_are_multiples_of_3_5_and_n_w_at_least_2():
    rng = np.random.default_rng(7)
    t = np.concatenate([(rng.random((500, 128)) < p).astype(np.uint8) for p in (0.5, 0.03, 0.97)])
    t = t[(t.sum(axis=1) > 0) & (t.sum(axis=1) < 128)]
    out = compute(["lz", "lz_phrases"], t, BOOL7)
    assert np.all(out["lz"] % 3.5 == 0)
    assert out["lz_phrases"].min() >= 2
    assert compute("lz_phrases", t[:, ::-1], BOOL7)["lz_phrases"].min() >= 2


@pytest.mark.slow  # importing antropy JIT-compiles its kernels (~10 s)
def test_against_antropy_both_directions():
    antropy = pytest.importorskip("antropy")
    rng = np.random.default_rng(3)
    t = (rng.random((300, 128)) < 0.5).astype(np.uint8)
    t[:100] = (rng.random((100, 128)) < 0.1)
    out = compute("lz", t, BOOL7)["lz"]
    ref = [7 * (antropy.lziv_complexity(r) + antropy.lziv_complexity(r[::-1])) / 2 for r in t]
    assert out.tolist() == ref


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=1, max_size=300))
def test_phrase_counts_match_transcribed_reference_any_length(values):
    """Any length, odd ones included (grids give them): both directions and the K_LZ formula."""
    from biasprobe.measures._lz import phrase_counts

    row = np.array([values], dtype=np.uint8)
    ones, fwd, rev = phrase_counts(row)[0]
    assert ones == sum(values)
    assert fwd == ks_phrases(values)
    assert rev == ks_phrases(values[::-1])
    if len(values) >= 2 and 0 < sum(values) < len(values):
        assert fwd >= 2 and rev >= 2


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.data())
def test_klz_formula_on_grids_of_odd_and_even_size(m, data):
    """lz on a grid is K_LZ of the thresholded raster scan, with the constant special case."""
    domain = parse_domain(f"grid:2:{m}")
    n = m * m
    values = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n)))[None, :]
    b = (values[0] > 0).astype(int).tolist()
    if sum(b) in (0, n):
        expected = np.log2(n)
    else:
        expected = np.log2(n) * (ks_phrases(b) + ks_phrases(b[::-1])) / 2
    assert compute("lz", values, domain)["lz"][0] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_lz_depends_on_enumeration_while_sensitivity_does_not():
    rng = np.random.default_rng(11)
    t = np.concatenate([majority(7), (rng.random((20, 128)) < 0.5).astype(np.uint8)])
    base = compute(["lz", "sensitivity", "gc", "csr", "fourier_l1"], t, BOOL7)
    for spec in ("bool:7@gray", "bool:7@perm:3"):
        other = compute(["lz", "sensitivity", "gc", "csr", "fourier_l1"], t, parse_domain(spec))
        assert not np.array_equal(other["lz"], base["lz"])
        for name in ("sensitivity", "gc", "csr", "fourier_l1"):
            np.testing.assert_array_equal(other[name], base[name])


def test_gray_order_reads_the_gray_sequence():
    """On bool:2@gray the string read is f(00) f(01) f(11) f(10); x_1 XOR x_2 = 0110 reads 0101... as 0 1 0 1."""
    domain = parse_domain("bool:2@gray")
    xor = np.array([[0, 1, 1, 0]], dtype=np.uint8)
    assert compute("lz_phrases", xor, domain)["lz_phrases"][0] == ks_phrases([0, 1, 0, 1])
