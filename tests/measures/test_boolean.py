"""Oracles for the Boolean measures: hand-worked values on constants, single points, dictators, parity, majority."""

from __future__ import annotations

from itertools import combinations
from math import comb, log2

import numpy as np
import pytest
import scipy.stats

from biasprobe.domains import parse_domain
from biasprobe.measures import compute
from biasprobe.measures.boolean import walsh
from measure_helpers import coords, dictator, majority, parity, single_point, table

N7 = 128
BOOL7 = parse_domain("bool:7")
STRUCTURE = ["ones", "entropy", "gc", "csr", "sensitivity", "fourier_l1", "fourier_degree", "spectral_entropy"]


def measure(t, names=STRUCTURE + ["lz", "lz_phrases"], domain=BOOL7):
    return {k: v[0] for k, v in compute(names, t, domain).items()}


def H(*p):
    return -sum(x * log2(x) for x in p if x > 0)


def test_constants():
    for value in (0, 1):
        out = measure(np.full((1, N7), value, dtype=np.uint8))
        assert out == {"ones": 128.0 * value, "entropy": 0.0, "gc": 0.0, "csr": 0.0, "sensitivity": 0.0,
                       "fourier_l1": 1.0, "fourier_degree": 0.0, "spectral_entropy": 0.0, "lz": 7.0,
                       "lz_phrases": 2.0}


@pytest.mark.parametrize("index", [0, 127, 37])
def test_single_point(index):
    """f = 1 on one input only. With g = 1 - 2f: g_hat(empty) = 1 - 2/N, every other g_hat(S) = +-2/N."""
    out = measure(single_point(7, index))
    n = 7
    assert out["ones"] == 1
    assert out["entropy"] == pytest.approx(H(1 / N7, 127 / N7), abs=1e-15)
    assert out["sensitivity"] == pytest.approx(2 * n / (n * N7))  # the n edges at the point, both directions
    assert out["csr"] == pytest.approx((n + 1) / N7)  # the point and its n neighbours
    assert out["gc"] == pytest.approx(2 / N7 + 2 / N7)  # C_1 = 2n/(nN), C_2 = 2 C(n,2) / (N C(n,2))
    assert out["fourier_l1"] == pytest.approx(1 - 2 / N7 + (N7 - 1) * 2 / N7)
    assert out["fourier_degree"] == 7
    weights = [(1 - 2 / N7) ** 2] + [comb(n, k) * 4 / N7**2 for k in range(1, n + 1)]
    assert sum(weights) == pytest.approx(1)
    assert out["spectral_entropy"] == pytest.approx(H(*weights), abs=1e-12)
    if index in (0, 127):  # 1 0^127 and 0^127 1: N_w 3/2 and 2/3, K_LZ 17.5 (docs/definitions.md §2 table)
        assert out["lz"] == 17.5


@pytest.mark.parametrize("j", range(7))
def test_dictators(j):
    out = measure(dictator(7, j))
    n = 7
    assert out["ones"] == 64 and out["entropy"] == 1.0
    assert out["sensitivity"] == pytest.approx(1 / n)  # only flips of x_j change the output
    assert out["csr"] == 1.0
    assert out["gc"] == pytest.approx(1 / n + (n - 1) / comb(n, 2))  # C_2: pairs {j, k}, n-1 of C(n,2)
    assert out["fourier_l1"] == 1.0 and out["fourier_degree"] == 1 and out["spectral_entropy"] == 0.0
    if j in (0, 6):  # x_1 = 0^64 1^64, x_7 = (01)^64: both 21.0 in the table
        assert out["lz"] == 21.0


def test_parity():
    out = measure(parity(7))
    assert out == {"ones": 64.0, "entropy": 1.0, "gc": 1.0, "csr": 1.0, "sensitivity": 1.0, "fourier_l1": 1.0,
                   "fourier_degree": 7.0, "spectral_entropy": 0.0, "lz": 91.0, "lz_phrases": 13.0}


def test_majority_of_7():
    """Inputs of weight 3 and 4 are the critical ones; (n+1) C(n,3) sensitive edge-ends in all."""
    out = measure(majority(7))
    assert out["ones"] == 64 and out["entropy"] == 1.0
    assert out["sensitivity"] == pytest.approx(8 * 35 / (7 * 128))
    assert out["csr"] == pytest.approx(70 / 128)
    # C_2: weight 2 and 5 inputs have C(5,2) = 10 changing pairs, weight 3 and 4 have C(4,2) = 6:
    # (21*10 + 35*6 + 35*6 + 21*10) / (128 * 21) ordered pairs.
    assert out["gc"] == pytest.approx(0.3125 + 840 / (128 * 21))
    # Level-1 coefficients C(6,3)/2^6 each (the known Maj_7 spectrum); L1 checked against the direct sum below.
    assert out["fourier_degree"] == 7
    assert out["lz"] == 70.0


def test_majority_of_3_fourier():
    """Maj_3 = (x1 + x2 + x3 - x1 x2 x3)/2 in +-1 form: four coefficients of magnitude 1/2."""
    out = measure(majority(3), domain=parse_domain("bool:3"))
    assert out["fourier_l1"] == 2.0
    assert out["fourier_degree"] == 3
    assert out["spectral_entropy"] == pytest.approx(H(0.75, 0.25))
    assert out["sensitivity"] == pytest.approx(12 / 24)  # the 6 inputs of weight 1 or 2 have 2 critical bits each
    assert out["csr"] == 0.75


def direct_walsh(t: np.ndarray, n: int) -> dict[tuple[int, ...], float]:
    """f_hat(S) = 2^-n sum_x g(x) (-1)^(sum_{j in S} x_j), g = 1 - 2f: the O(4^n) definition."""
    x = coords(n)
    g = 1.0 - 2.0 * t[0]
    out = {}
    for size in range(n + 1):
        for S in combinations(range(n), size):
            chi = (-1.0) ** x[:, list(S)].sum(axis=1) if S else np.ones(1 << n)
            out[S] = float((g * chi).sum()) / (1 << n)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_walsh_against_the_direct_sum(n):
    rng = np.random.default_rng(n)
    domain = parse_domain(f"bool:{n}")
    for _ in range(5):
        t = rng.integers(0, 2, (1, 1 << n)).astype(np.uint8)
        fast = walsh(t, domain)[0] / (1 << n)
        direct = direct_walsh(t, n)
        for S, value in direct.items():
            s = sum(1 << (n - 1 - j) for j in S)  # bit n-1-j of the index <-> x_(j+1)
            assert fast[s] == pytest.approx(value, abs=1e-12)
        out = measure(t, ["fourier_l1", "fourier_degree", "spectral_entropy"], domain)
        assert out["fourier_l1"] == pytest.approx(sum(abs(v) for v in direct.values()))
        assert out["fourier_degree"] == max((len(S) for S, v in direct.items() if abs(v) > 1e-12), default=0)
        w = [sum(v * v for S, v in direct.items() if len(S) == k) for k in range(n + 1)]
        assert out["spectral_entropy"] == pytest.approx(H(*w), abs=1e-12)


def test_majority_of_7_l1_against_the_direct_sum():
    direct = direct_walsh(majority(7), 7)
    assert measure(majority(7), ["fourier_l1"])["fourier_l1"] == pytest.approx(sum(abs(v) for v in direct.values()))
    assert direct[(0,)] == pytest.approx(20 / 64)  # C(6,3)/2^6: g and chi_{1} are both +1 when x_1 = 0 mostly


def test_entropy_against_scipy():
    rng = np.random.default_rng(5)
    t = np.concatenate([(rng.random((50, 64)) < p).astype(np.uint8) for p in (0.5, 0.1, 0.01)])
    out = compute("entropy", t, parse_domain("bool:6"))["entropy"]
    p = t.sum(axis=1) / 64
    ref = [scipy.stats.entropy([q, 1 - q], base=2) for q in p]
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-15)


def test_random_functions_are_near_the_stated_means():
    """docs/definitions.md §2: random f has sensitivity ~ 0.5, csr ~ 1 - 2^-n, gc ~ 1 (means over 2000 draws, n = 7)."""
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, (2000, 128)).astype(np.uint8)
    out = compute(["sensitivity", "csr", "gc"], t, BOOL7)
    assert abs(out["sensitivity"].mean() - 0.5) < 0.005  # SE ~ 0.0005
    assert abs(out["gc"].mean() - 1.0) < 0.01
    # P(no differing neighbour) = 2 * 2^-8 per input: csr mean 1 - 2^-7 exactly in expectation
    assert abs(out["csr"].mean() - (1 - 2**-7)) < 0.002


def test_n_equal_1():
    domain = parse_domain("bool:1")
    t = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.uint8)
    out = compute(["gc", "sensitivity", "csr", "lz", "fourier_degree"], t, domain)
    assert out["gc"].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert out["sensitivity"].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert out["lz"].tolist() == [1.0, 2.0, 2.0, 1.0]  # log2 2 = 1; "01": N_w = 2 each way
    assert out["fourier_degree"].tolist() == [0.0, 1.0, 1.0, 0.0]


class TestCircuit:
    """`boolean`: gates of the smaller minimised SOP / POS; NOT on inputs free."""

    def values(self, t, n):
        return compute("boolean", t, parse_domain(f"bool:{n}"))["boolean"]

    def test_hand_values(self):
        assert self.values(np.zeros((1, 128), np.uint8), 7)[0] == 0
        assert self.values(np.ones((1, 128), np.uint8), 7)[0] == 0
        assert self.values(dictator(7, 2), 7)[0] == 0  # a single literal
        assert self.values(single_point(7, 5), 7)[0] == 6  # one AND of 7 literals (or its POS dual, an OR of 7)
        assert self.values(majority(3), 3)[0] == 5  # x1x2 + x1x3 + x2x3: 3 ANDs + 2 ORs
        assert self.values(majority(7), 7)[0] == 35 * 3 + 34  # C(7,4) terms of 4 literals
        assert self.values(parity(4), 4)[0] == 8 * 3 + 7  # 2^(n-1) minterms of n literals, POS the same
        x = coords(3)
        a_or_b = ((x[:, 0] | x[:, 1]) & 1)[None, :].astype(np.uint8)
        assert self.values(a_or_b, 3)[0] == 1

    def test_parity_of_7(self):
        assert self.values(parity(7), 7)[0] == 7 * 64 - 1


def test_lz_phrases_of_the_hand_cases():
    """Forward parses: 1|0|000... = 3; 0|00..01 = 2; x_1 = 0|0..01|1..1 = 3; x_7 = 0|1|0101... = 3."""
    cases = [single_point(7, 0), single_point(7, 127), dictator(7, 0), dictator(7, 6), majority(7)]
    out = compute("lz_phrases", np.concatenate(cases), BOOL7)["lz_phrases"]
    assert out.tolist() == [3, 2, 3, 3, 10]


@pytest.mark.parametrize("name", ["zlib", "bz2", "lzma"])
def test_compressors_read_the_table_msb_first_in_enumeration_order(name):
    """Sizes equal the compressor's output on bytes packed by hand: input 8k+i is bit 7-i of byte k."""
    import bz2
    import lzma
    import zlib

    from biasprobe.measures.compression import LZMA_FILTERS

    compress = {"zlib": lambda b: zlib.compress(b, 9), "bz2": lambda b: bz2.compress(b, 9),
                "lzma": lambda b: lzma.compress(b, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS)}[name]
    hand = [bytes(16), b"\xff" * 16, bytes(8) + b"\xff" * 8, b"\x55" * 16,
            bytes(0x69 if bin(k).count("1") % 2 == 0 else 0x96 for k in range(16)), b"\x80" + bytes(15)]
    tables = np.concatenate([np.zeros((1, 128), np.uint8), np.ones((1, 128), np.uint8), dictator(7, 0),
                             dictator(7, 6), parity(7), single_point(7, 0)])
    out = compute(name, tables, BOOL7)[name]
    assert out.tolist() == [len(compress(b)) for b in hand]
    assert out[4] > out[0]  # a constant compresses better than parity
    # f(i) = parity of i >> 2, read in Gray order (input k ^ (k >> 1) at step k), is bit 2 of k: 00001111...
    f = table([bin(i >> 2).count("1") % 2 for i in range(128)])
    assert np.packbits(f[0, [k ^ (k >> 1) for k in range(128)]]).tobytes() == b"\x0f" * 16
    gray = compute(name, f, parse_domain("bool:7@gray"))[name][0]
    lex = compute(name, f, BOOL7)[name][0]
    assert gray == len(compress(b"\x0f" * 16)) != lex


def exact_min_literals(f: tuple[int, ...], n: int) -> int:
    """Fewest literals in any sum of products of f, by exhaustive search over all 3^n cubes (tiny n only)."""
    from functools import lru_cache
    from itertools import product

    ones = [i for i in range(1 << n) if f[i]]
    if len(ones) in (0, 1 << n):
        return 0
    position = {m: k for k, m in enumerate(ones)}
    implicants = []
    for spec in product((0, 1, None), repeat=n):
        points = [i for i in range(1 << n) if all(s is None or (i >> (n - 1 - j)) & 1 == s for j, s in enumerate(spec))]
        if all(f[i] for i in points):
            implicants.append((sum(s is not None for s in spec), sum(1 << position[i] for i in points)))
    full = (1 << len(ones)) - 1

    @lru_cache(maxsize=None)
    def cover(done: int) -> int:
        if done == full:
            return 0
        first = next(k for k in range(len(ones)) if not done >> k & 1)
        return min(cost + cover(done | mask) for cost, mask in implicants if mask >> first & 1)

    return cover(0)


def exact_ops(f, n):
    """An SOP with L literals has L - 1 two-input gates (sum of (literals - 1) ANDs, terms - 1 ORs)."""
    best = min(exact_min_literals(f, n), exact_min_literals(tuple(1 - x for x in f), n))
    return max(best - 1, 0)


def test_circuit_is_exactly_minimal_on_every_3_input_function():
    from itertools import product

    functions = list(product((0, 1), repeat=8))
    out = compute("boolean", np.array(functions, dtype=np.uint8), parse_domain("bool:3"), workers=1)["boolean"]
    assert out.tolist() == [exact_ops(f, 3) for f in functions]


@pytest.mark.slow
def test_circuit_is_exactly_minimal_on_random_4_input_functions():
    rng = np.random.default_rng(0)
    functions = [tuple(int(v) for v in rng.integers(0, 2, 16)) for _ in range(200)]
    out = compute("boolean", np.array(functions, dtype=np.uint8), parse_domain("bool:4"), workers=1)["boolean"]
    assert out.tolist() == [exact_ops(f, 4) for f in functions]
