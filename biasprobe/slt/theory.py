"""Closed-form learning coefficients (real log canonical thresholds) of the oracle models of docs/definitions.md §9.

Each function returns a :class:`Theory`: the learning coefficient λ, its
multiplicity m where known (the order of the largest pole; m > 1 adds a
(m−1)/log(nβ) finite-sample correction to every estimate), and the name of the
branch of the formula that applies, so tests and tables can say which case
they exercise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from biasprobe.errors import UserError


@dataclass(frozen=True)
class Theory:
    """A learning coefficient with the branch of its formula (and the multiplicity where it is known)."""

    llc: float
    branch: str
    multiplicity: int | None = None


def _whole(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or int(value) < minimum:
        raise UserError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def regular(d: int) -> Theory:
    """A regular model with d parameters (positive-definite Fisher information): λ = d/2, m = 1."""
    d = _whole("d", d, 1)
    return Theory(d / 2, "regular", 1)


def monomial(exponents) -> Theory:
    """y = x·∏ w_i^{k_i} + noise at the true w = 0: K(w) ∝ ∏ w_i^{2k_i}, so λ = 1/(2 max k_i).

    The multiplicity is the number of exponents equal to the maximum (each
    such coordinate contributes a pole at the same place).
    """
    ks = [_whole("monomial exponent", k, 1) for k in exponents]
    if not ks:
        raise UserError("a monomial needs at least one exponent, e.g. k=2,1")
    top = max(ks)
    return Theory(1 / (2 * top), "monomial", ks.count(top))


def rrr(M: int, H: int, N: int, r: int) -> Theory:
    """Reduced-rank regression y = B A x (A: H×M, B: N×H), true rank r (Aoyagi & Watanabe 2005, Main Theorem).

    Four exclusive cases (two strict inequalities cannot hold at once since r ≤ H):
    if N + r ≤ M + H, M + r ≤ N + H and H + r ≤ M + N:
        λ = [2(H + r)(M + N) − (M − N)² − (H + r)² + s] / 8, s = 1 if M + H + N + r is odd, else 0;
    if M + H < N + r: λ = (HM − Hr + Nr)/2;
    if N + H < M + r: λ = (HN − Hr + Mr)/2;
    if M + N < H + r: λ = MN/2.
    """
    M, H, N = (_whole(k, v, 1) for k, v in (("M", M), ("H", H), ("N", N)))
    r = _whole("r", r, 0)
    if r > min(M, H, N):
        raise UserError(f"true rank r={r} cannot exceed min(M, H, N) = {min(M, H, N)}")
    if M + H < N + r:
        return Theory((H * M - H * r + N * r) / 2, "M+H<N+r")
    if N + H < M + r:
        return Theory((H * N - H * r + M * r) / 2, "N+H<M+r")
    if M + N < H + r:
        return Theory(M * N / 2, "M+N<H+r")
    s = (M + H + N + r) % 2
    value = (2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2 + s) / 8
    return Theory(value, "main-odd" if s else "main-even")


def dln(widths, r: int) -> Theory:
    """Deep linear network x ↦ W_L ⋯ W_1 x with layer widths H_1 (input), …, H_{L+1} (output), true rank r.

    Aoyagi (2024, Neural Networks 173:106132, Theorem 1; restated by Furman & Lau 2024, arXiv:2402.03698).
    With Δ_j = H_j − r there is a unique set Σ of ℓ + 1 layers such that
        max_{j∈Σ} Δ_j < min_{k∉Σ} Δ_k,   Σ_{j∈Σ} Δ_j ≥ ℓ · max_{j∈Σ} Δ_j,   Σ_{j∈Σ} Δ_j < ℓ · min_{k∉Σ} Δ_k
    (conditions on a missing complement are void), and with S = Σ_{j∈Σ} Δ_j and a = S − (⌈S/ℓ⌉ − 1)ℓ,
        λ = [−r² + r(H_1 + H_{L+1})]/2 + a(ℓ − a)/(4ℓ) − ℓ(ℓ − 1)/4 · (S/ℓ)² + ½ Σ_{i<j∈Σ} Δ_i Δ_j.
    The first condition makes Σ the ℓ + 1 smallest Δ_j (ties never split), so it is found by
    scanning prefixes of the sorted Δ. For one hidden layer this is the reduced-rank regression
    formula (`rrr`); the tests check that on every small case. ℓ = 0 never qualifies (it would
    need Δ < 0), so ℓ ≥ 1.
    """
    hs = [_whole("layer width", h, 1) for h in widths]
    if len(hs) < 2:
        raise UserError(f"a deep linear network needs at least 2 layer widths (input, output), got {widths!r}")
    r = _whole("r", r, 0)
    if r > min(hs):
        raise UserError(f"true rank r={r} cannot exceed the narrowest layer ({min(hs)})")
    delta = sorted(h - r for h in hs)
    base = Fraction(-r * r + r * (hs[0] + hs[-1]), 2)  # exact arithmetic: the formula is rational
    for size in range(2, len(delta) + 1):
        ell = size - 1
        inside, outside = delta[:size], delta[size:]
        total, top = sum(inside), inside[-1]
        low = outside[0] if outside else math.inf
        if top < low and total >= ell * top and total < ell * low:
            a = total - (-(-total // ell) - 1) * ell
            pairs = sum(inside[i] * inside[j] for i in range(size) for j in range(i + 1, size))
            value = (base + Fraction(a * (ell - a), 4 * ell) - Fraction(ell * (ell - 1), 4) * Fraction(total, ell) ** 2
                     + Fraction(pairs, 2))
            return Theory(float(value), f"dln-l{ell}")
    raise AssertionError(f"no bottleneck set for widths {hs}, r={r}: Aoyagi's theorem says one exists")  # a bug


THEORY = {"regular": regular, "monomial": monomial, "rrr": rrr, "dln": dln}
