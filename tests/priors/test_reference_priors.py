"""Oracles for the reference priors (tree, dnf, cnf, circuit, knn): closed forms, hand-worked laws and brute-force enumeration.

Every statistical check uses a fixed seed and a chi-square test at p > 1e-3 after
pooling bins expected below 5, and first asserts the exact support (a function the
law gives probability 0 must never appear).
"""

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from biasprobe.cli import main
from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import make_prior
from biasprobe.priors import _stream as st
from biasprobe.sampling import sample_counts, sample_outputs


def _hex(bits) -> str:
    """Canonical hex name (docs/definitions.md §1) of a 0/1 sequence."""
    return format(int("".join(str(int(b)) for b in bits), 2), f"0{(len(bits) + 3) // 4}x")


def _law(outcomes) -> dict:
    """Exact pmf over hex names from an iterable of equally likely truth tables."""
    c = Counter(_hex(t) for t in outcomes)
    total = sum(c.values())
    return {k: Fraction(v, total) for k, v in c.items()}


def _check_law(prior, spec, pmf, samples, seed=0):
    c = sample_counts(prior, parse_domain(spec), samples, seed)
    observed = dict(zip(c.hex(), c.counts.tolist()))
    assert set(observed) <= set(pmf), sorted(set(observed) - set(pmf))[:5]
    keys = sorted(pmf)
    obs = np.array([observed.get(k, 0) for k in keys], float)
    exp = np.array([float(pmf[k]) for k in keys]) * samples
    small = exp < 5
    if small.any():
        obs = np.append(obs[~small], obs[small].sum())
        exp = np.append(exp[~small], exp[small].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-3


def _points(n):
    return [tuple((x >> (n - 1 - j)) & 1 for j in range(n)) for x in range(1 << n)]


# ---- the per-draw stream --------------------------------------------------------------------

def test_xoroshiro_matches_reference_implementation():
    mask = (1 << 64) - 1

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & mask

    s0, s1 = 0x0123456789ABCDEF, 0xFEDCBA9876543210
    want = []
    for _ in range(20):  # Blackman & Vigna's xoroshiro128** reference, transcribed in pure Python
        want.append((rotl((s0 * 5) & mask, 7) * 9) & mask)
        s1 ^= s0
        s0, s1 = rotl(s0, 24) ^ s1 ^ ((s1 << 16) & mask), rotl(s1, 37)
    got = st.stream_words(np.uint64(0x0123456789ABCDEF), np.uint64(0xFEDCBA9876543210), 20)
    assert got.tolist() == want
    assert st.stream_words(np.uint64(0), np.uint64(0), 3).tolist() == st.stream_words(np.uint64(1), np.uint64(0), 3).tolist()


@pytest.mark.parametrize("k", [1, 2, 6, 7, 1000])
def test_bounded_is_uniform(k):
    x = st.stream_bounded(np.uint64(12345), np.uint64(678), 70_000, k)
    assert x.min() >= 0 and x.max() < k
    if k > 1:
        counts = np.bincount(x, minlength=k)
        assert stats.chisquare(counts).pvalue > 1e-3


def test_keys_have_the_prefix_property():
    a = st.draw_keys(np.random.default_rng(5), 50)
    b = st.draw_keys(np.random.default_rng(5), 7)
    assert a.shape == (50, 2) and a.dtype == np.uint64 and np.array_equal(a[:7], b)


# ---- tree -----------------------------------------------------------------------------------

def test_full_depth_fair_tree_is_the_counting_measure_on_functions():
    pmf = {format(v, "02x"): Fraction(1, 256) for v in range(256)}
    _check_law(make_prior("tree", depth=3), "bool:3", pmf, 60_000)
    _check_law(make_prior("tree", depth=3), "pm1:3", pmf, 30_000, seed=1)


def test_full_depth_fair_tree_has_binomial_ones():
    n, samples = 6, 40_000
    y = sample_outputs(make_prior("tree", depth=n), parse_domain(f"bool:{n}"), samples, seed=2)
    t = (y > 0).sum(axis=1)
    obs = np.bincount(t, minlength=65)
    exp = samples * stats.binom.pmf(np.arange(65), 64, 0.5)
    keep = exp >= 5
    obs, exp = np.append(obs[keep], obs[~keep].sum()), np.append(exp[keep], exp[~keep].sum())
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3


def test_depth_one_tree_law():
    # one test of a uniform variable j, leaves 1 w.p. p: constants (1-p)^2 and p^2,
    # dictator x_j and anti-dictator each p(1-p)/n
    n, p = 3, 0.3
    pmf = {"00": Fraction(49, 100), "ff": Fraction(9, 100)}
    for j in range(n):
        x = [pt[j] for pt in _points(n)]
        pmf[_hex(x)] = Fraction(21, 300)
        pmf[_hex([1 - b for b in x])] = Fraction(21, 300)
    _check_law(make_prior("tree", depth=1, p=p), "bool:3", pmf, 40_000)


def test_depth_two_tree_matches_enumeration():
    # root tests any of 3 variables, each child any of the 2 others, 4 fair leaves: 3*2*2*16 equal outcomes
    n = 3
    outcomes = []
    for root in range(n):
        rest = [v for v in range(n) if v != root]
        for left, right in itertools.product(rest, rest):
            for leaves in itertools.product((0, 1), repeat=4):
                table = []
                for pt in _points(n):
                    child = left if pt[root] == 0 else right
                    table.append(leaves[2 * pt[root] + pt[child]])
                outcomes.append(table)
    _check_law(make_prior("tree", depth=2), "bool:3", _law(outcomes), 60_000)


def test_grid_tree_splits_uniformly_within_the_cell():
    # grid:1:4 has points -1, -1/3, 1/3, 1; one threshold uniform on [-1, 1] puts 1, 2 or 3 points on the
    # left, each w.p. 1/3; fair leaves
    outcomes = []
    for k in (1, 2, 3):
        for a, b in itertools.product((0, 1), repeat=2):
            outcomes.append([a] * k + [b] * (4 - k))
    _check_law(make_prior("tree", depth=1), "grid:1:4", _law(outcomes), 30_000)


def test_tree_depth_two_on_a_line_never_splits_an_empty_cell():
    # deep trees on 1-D grids: every leaf cell is an interval, so the function has at most 2^depth - 1 changes
    y = sample_outputs(make_prior("tree", depth=2), parse_domain("grid:1:50"), 2000, seed=4) > 0
    assert ((y[:, 1:] != y[:, :-1]).sum(axis=1) <= 3).all()


# ---- dnf / cnf ------------------------------------------------------------------------------

@pytest.mark.parametrize("w", range(1, 7))
def test_one_term_dnf_has_exactly_two_to_the_n_minus_w_ones(w):
    d = parse_domain("bool:6")
    y = sample_outputs(make_prior("dnf", terms=1, literals=w, p_positive=0.3), d, 2000, seed=w) > 0
    assert (y.sum(axis=1) == 2 ** (6 - w)).all()
    y = sample_outputs(make_prior("cnf", terms=1, literals=w), d, 2000, seed=w) > 0
    assert (y.sum(axis=1) == 64 - 2 ** (6 - w)).all()


def test_cnf_is_the_complement_of_the_dnf_on_flipped_inputs():
    # the same stream draws the same variables and signs; De Morgan: CNF(x) = NOT DNF(NOT x)
    for spec in ("bool:5", "pm1:4"):
        d = parse_domain(spec)
        a = sample_outputs(make_prior("dnf", terms=4, literals=2, p_positive=0.7), d, 500, seed=3)
        b = sample_outputs(make_prior("cnf", terms=4, literals=2, p_positive=0.7), d, 500, seed=3)
        assert np.array_equal(b, -a[:, ::-1])


def test_two_single_literal_terms_hand_worked():
    # each term is one of x1, !x1, x2, !x2 uniformly: the same literal twice (4/16), a literal and its
    # negation (4/16, constant 1), two literals of different variables (8/16, an OR of two literals)
    x1, x2 = [0, 0, 1, 1], [0, 1, 0, 1]
    lits = [x1, x2, [1 - b for b in x1], [1 - b for b in x2]]
    outcomes = [[a | b for a, b in zip(s, t)] for s, t in itertools.product(lits, lits)]
    pmf = _law(outcomes)
    assert pmf["f"] == Fraction(1, 4) and len(pmf) == 9
    _check_law(make_prior("dnf", terms=2, literals=1), "bool:2", pmf, 30_000)


def test_all_positive_full_width_term_is_the_and():
    c = sample_counts(make_prior("dnf", terms=3, literals=3, p_positive=1.0), parse_domain("bool:3"), 100, 0)
    assert c.hex() == ["01"]


# ---- circuit --------------------------------------------------------------------------------

def test_one_gate_circuit_hand_worked():
    # n = 2: the only pair of distinct wires is (x1, x2); AND = 0001, OR = 0111, XOR = 0110
    _check_law(make_prior("circuit", depth=1, gates="and,or,xor"), "bool:2",
               {"1": Fraction(1, 3), "7": Fraction(1, 3), "6": Fraction(1, 3)}, 30_000)
    _check_law(make_prior("circuit", depth=1, gates="and,and,or"), "bool:2",
               {"1": Fraction(2, 3), "7": Fraction(1, 3)}, 30_000, seed=1)


def test_two_layer_xor_circuit_hand_worked():
    # n = 3, width 2, XOR only: both hidden gates read the same pair w.p. 1/3 (output 0); otherwise the
    # pairs share one variable and the output is the XOR of the other two, each of 3 pairs w.p. 2/9
    pts = _points(3)
    pmf = {"00": Fraction(1, 3)}
    for i, j in itertools.combinations(range(3), 2):
        pmf[_hex([p[i] ^ p[j] for p in pts])] = Fraction(2, 9)
    _check_law(make_prior("circuit", depth=2, width=2, gates="xor"), "bool:3", pmf, 30_000)


def _circuit_law(n, depth, width, gates):
    """Exact law by enumerating every wiring and gate choice (all equally likely)."""
    ops = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "nand": lambda a, b: 1 - (a & b),
           "nor": lambda a, b: 1 - (a | b), "xor": lambda a, b: a ^ b, "xnor": lambda a, b: 1 - (a ^ b)}
    pts = _points(n)
    layers = [[[p[j] for p in pts] for j in range(n)]]
    tables = [layers[0]]
    sizes = [width] * (depth - 1) + [1]
    for size in sizes:
        new = []
        for prev in tables:
            choices = [(a, b, g) for a in range(len(prev)) for b in range(len(prev)) if a != b for g in gates]
            for combo in itertools.product(choices, repeat=size):
                new.append([[ops[g](u, v) for u, v in zip(prev[a], prev[b])] for a, b, g in combo])
        tables = new
    return _law(t[0] for t in tables)


@pytest.mark.parametrize("n,depth,width,gates", [(3, 2, 2, ("and", "or")), (3, 3, 2, ("nand", "xor")),
                                                 (2, 4, 2, ("nor", "xnor"))])
def test_circuit_matches_enumeration(n, depth, width, gates):
    pmf = _circuit_law(n, depth, width, gates)
    _check_law(make_prior("circuit", depth=depth, width=width, gates=",".join(gates)), f"bool:{n}", pmf, 40_000)


# ---- knn ------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["bool:5", "pm1:4", "grid:2:5", "gauss:2:20"])
def test_one_anchor_gives_only_constants(spec):
    d = parse_domain(spec)
    y = sample_outputs(make_prior("knn", k=1), d, 500, seed=0)
    assert (y == y[:, :1]).all()
    assert 150 < (y[:, 0] > 0).sum() < 350


def test_every_point_an_anchor_is_the_counting_measure():
    pmf = {format(v, "02x"): Fraction(1, 256) for v in range(256)}
    _check_law(make_prior("knn", k=8), "bool:3", pmf, 60_000)


def _knn_law(points, k, dist):
    """Exact law: every ordered k-tuple of distinct anchors and labelling, ties to the first-drawn anchor."""
    outcomes = []
    for anchors in itertools.permutations(range(len(points)), k):
        for labels in itertools.product((0, 1), repeat=k):
            table = []
            for x in points:
                d = [dist(x, points[a]) for a in anchors]
                table.append(labels[d.index(min(d))])  # index() returns the first minimum
            outcomes.append(table)
    return _law(outcomes)


def test_knn_on_the_cube_matches_brute_force_hamming():
    # the BFS kernel against brute-force distances, ties included (bool:3 has many)
    pmf = _knn_law(_points(3), 3, lambda x, a: sum(u != v for u, v in zip(x, a)))
    _check_law(make_prior("knn", k=3), "bool:3", pmf, 80_000)
    _check_law(make_prior("knn", k=3), "pm1:3", pmf, 40_000, seed=1)


def test_knn_on_a_grid_matches_brute_force_euclidean():
    pts = [(i, j) for i in range(3) for j in range(3)]
    pmf = _knn_law(pts, 2, lambda x, a: (x[0] - a[0]) ** 2 + (x[1] - a[1]) ** 2)
    _check_law(make_prior("knn", k=2), "grid:2:3", pmf, 40_000)


# ---- sampling engine and errors -------------------------------------------------------------

@pytest.mark.parametrize("name", ["tree", "dnf", "circuit", "knn"])
def test_counts_do_not_depend_on_workers_or_batch(name):
    d = parse_domain("bool:5")
    prior = make_prior(name)
    a = sample_counts(prior, d, 10_000, seed=9, workers=1)
    b = sample_counts(prior, d, 10_000, seed=9, workers=2, batch_size=333)
    assert np.array_equal(a.words, b.words) and np.array_equal(a.counts, b.counts)


@pytest.mark.parametrize("name,fields,fragment", [
    ("tree", {"depth": 0}, "depth=0"),
    ("tree", {"depth": "-2"}, "depth=-2"),
    ("tree", {"p": "1.5"}, "p=1.5"),
    ("tree", {"p": "-0.1"}, "p=-0.1"),
    ("dnf", {"terms": 0}, "terms=0"),
    ("cnf", {"literals": "-1"}, "literals=-1"),
    ("dnf", {"p_positive": 2}, "p_positive=2"),
    ("circuit", {"depth": 0}, "depth=0"),
    ("circuit", {"width": 1}, "width=1"),
    ("circuit", {"gates": "and,nandd"}, "did you mean: nand"),
    ("circuit", {"gates": " , "}, "names no gate"),
    ("knn", {"k": 0}, "k=0"),
    ("knn", {"p": "2"}, "p=2"),
])
def test_bad_parameters_are_one_line_user_errors(name, fields, fragment):
    with pytest.raises(UserError) as err:
        make_prior(name, **fields)
    assert fragment in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name,fields,spec,fragment", [
    ("tree", {"depth": 8}, "bool:7", "depth=8 exceeds the 7 variables"),
    ("dnf", {"literals": 4}, "pm1:3", "literals=4 exceeds the 3 variables"),
    ("cnf", {}, "grid:2:5", "does not apply to grid"),
    ("circuit", {}, "bool:1", "n >= 2"),
    ("knn", {"k": 129}, "bool:7", "k=129 anchors exceed the 128 points"),
    ("knn", {"k": 26}, "grid:2:5", "k must be 1..25"),
])
def test_impossible_sizes_for_the_domain(name, fields, spec, fragment):
    with pytest.raises(UserError) as err:
        sample_counts(make_prior(name, **fields), parse_domain(spec), 10, 0)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_cli_reports_a_bad_depth_in_one_line(capsys):
    rc = main(["sample", "tree", "--domain", "bool:3", "--set", "depth=4", "--samples", "10", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "depth=4 exceeds" in err and err.count("\n") == 1


def test_cli_samples_a_tree(tmp_path):
    out = tmp_path / "t.csv"
    assert main(["sample", "tree", "--domain", "bool:7", "--set", "depth=3", "--samples", "2e4", "-o", str(out),
                 "--no-progress"]) == 0
    import pandas as pd

    frame = pd.read_csv(out, dtype={"function": str})
    assert frame["count"].sum() == 20_000
    # every leaf of a complete tree with distinct variables on each path is reached by some input,
    # so the function is constant iff all 8 fair leaves agree: P = 2 / 2^8
    const = frame.loc[frame["function"].isin(["0" * 32, "f" * 32]), "count"].sum()
    sd = math.sqrt(20_000 * (1 / 128) * (127 / 128))
    assert abs(const - 20_000 / 128) < 5 * sd


# ---- two kernels per prior agree draw for draw ------------------------------------------------

def test_packed_and_walking_tree_kernels_agree():
    from biasprobe.priors import trees
    from biasprobe.priors._stream import draw_keys
    from biasprobe.priors.packed import variable_masks

    for n, depth, p in ((5, 5, 0.5), (6, 3, 0.3), (3, 1, 0.5)):
        keys = draw_keys(np.random.default_rng(n), 300)
        a = np.empty((300, 1 << n), np.float32)
        b = np.empty_like(a)
        trees._tree_cube_packed(keys, variable_masks(n), depth, p, a)
        trees._tree_cube_walk(keys, n, depth, p, b)
        assert np.array_equal(a, b)


def test_brute_force_and_breadth_first_knn_agree():
    from biasprobe.priors import knn
    from biasprobe.priors._stream import draw_keys
    from biasprobe.priors.packed import popcounts

    d = parse_domain("bool:6")
    for k, p in ((2, 0.5), (5, 0.5), (17, 0.3), (64, 0.5)):
        keys = draw_keys(np.random.default_rng(k), 300)
        a = np.empty((300, 64), np.float32)
        b = np.empty_like(a)
        knn._knn_cube_brute(keys, popcounts(64), k, p, a)
        knn._knn_cube(keys, np.ascontiguousarray(d.neighbours, dtype=np.int64), k, p, b)
        assert np.array_equal(a, b)


def test_popcount_table():
    from biasprobe.priors.packed import popcounts

    assert popcounts(16).tolist() == [bin(x).count("1") for x in range(16)]
