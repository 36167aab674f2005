"""Closed-form learning coefficients against hand-worked values, every RRR branch, and DLN → RRR for one hidden layer."""

import itertools

import pytest

from biasprobe.errors import UserError
from biasprobe.slt import theory


@pytest.mark.parametrize("M,H,N,r,value,branch", [
    # main case, M+H+N+r even: [2(H+r)(M+N) − (M−N)² − (H+r)² + 0]/8 = [2·2·4 − 0 − 4]/8
    (2, 2, 2, 0, 1.5, "main-even"),
    # main case, odd: s = 1: [2·3·10 − 0 − 9 + 1]/8 = 52/8 (the CLI's example)
    (5, 3, 5, 0, 6.5, "main-odd"),
    # main, r > 0, M ≠ N: [2·3·7 − 1 − 9 + 0]/8 = 32/8
    (4, 2, 3, 1, 4.0, "main-even"),
    # H = r is a regular model: rank-2 5×5 matrices have dimension 2(5+5−2) = 16, λ = 8
    (5, 2, 5, 2, 8.0, "main-even"),
    # M + H < N + r: (HM − Hr + Nr)/2; with r = 0 a product of vectors a (1×2), b (6×1): λ = min(2, 6)/2
    (2, 1, 6, 0, 1.0, "M+H<N+r"),
    (3, 2, 8, 1, 6.0, "M+H<N+r"),  # (6 − 2 + 8)/2
    # N + H < M + r: (HN − Hr + Mr)/2
    (6, 1, 2, 0, 1.0, "N+H<M+r"),
    (8, 2, 3, 1, 6.0, "N+H<M+r"),
    # M + N < H + r: MN/2 (scalar output b·a in R^3: a smooth hypersurface, λ = 1/2)
    (1, 3, 1, 0, 0.5, "M+N<H+r"),
    (2, 5, 2, 0, 2.0, "M+N<H+r"),
])
def test_rrr_hand_worked(M, H, N, r, value, branch):
    t = theory.rrr(M, H, N, r)
    assert t.llc == value and t.branch == branch


def test_dln_reduces_to_rrr_for_one_hidden_layer():
    checked = 0
    for M, H, N in itertools.product(range(1, 8), repeat=3):
        for r in range(min(M, H, N) + 1):
            assert theory.dln((M, H, N), r).llc == pytest.approx(theory.rrr(M, H, N, r).llc, abs=1e-12), (M, H, N, r)
            checked += 1
    assert checked > 700


@pytest.mark.parametrize("widths,r,value", [
    ((2, 2, 2, 2), 0, 1.5),   # Δ = (2,2,2,2): ℓ = 3, S = 8, a = 2: 2/12 − (3·2/4)(8/3)² + ½·6·4 = 3/2
    ((3, 3, 3), 3, 4.5),      # full rank: every 3×3 matrix, regular with 9 parameters of the product
    ((3, 3, 3, 3), 3, 4.5),
    ((4, 3), 2, 6.0),         # no hidden layer: a plain linear map, regular, d/2 = 12/2
    ((4, 2, 2, 4), 1, 4.0),   # Δ = (3,1,1,3): ℓ = 1, Σ = the two bottlenecks: (−1 + 8)/2 + ½·1
    ((3, 4, 3, 4), 1, 5.0),
])
def test_dln_hand_worked(widths, r, value):
    assert theory.dln(widths, r).llc == pytest.approx(value, abs=1e-12)


def test_dln_bounded_in_depth():
    # Aoyagi (2024): the coefficient stays bounded as layers are added
    values = [theory.dln((3,) * k, 0).llc for k in range(2, 12)]
    assert max(values) <= 9 / 2 and values[0] == 4.5


def test_monomial_and_regular():
    assert theory.monomial((2, 1)) == theory.Theory(0.25, "monomial", 1)
    assert theory.monomial((2, 2)).multiplicity == 2
    assert theory.monomial((3, 1, 1)).llc == pytest.approx(1 / 6)
    assert theory.regular(7).llc == 3.5


@pytest.mark.parametrize("call", [
    lambda: theory.rrr(2, 2, 2, 3), lambda: theory.rrr(0, 2, 2, 0), lambda: theory.regular(0),
    lambda: theory.monomial(()), lambda: theory.monomial((2, 0)), lambda: theory.dln((3,), 0),
    lambda: theory.dln((3, 2, 3), 3), lambda: theory.rrr(2.5, 2, 2, 0),
])
def test_bad_input_is_user_error(call):
    with pytest.raises(UserError):
        call()
