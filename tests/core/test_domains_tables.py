"""Oracle tests for domains (points, Gray and permuted orders) and truth-table encoding (docs/definitions.md §1)."""

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.tables import bits_to_hex, from_hex, hex_to_bits, pack, to_hex, unpack


def test_hex_of_x1_and_x7_match_references():
    d = parse_domain("bool:7")
    x1 = d.points[:, 0].astype(np.uint8)[None, :]
    x7 = d.points[:, 6].astype(np.uint8)[None, :]
    assert bits_to_hex(x1) == ["0000000000000000ffffffffffffffff"]
    assert bits_to_hex(x7) == ["5" * 32]


def test_lexicographic_points_and_pm1_mapping():
    d = parse_domain("bool:3")
    # input i has x_j = bit (n-1-j) of i: row 6 = 110
    assert d.points[6].tolist() == [1.0, 1.0, 0.0]
    assert parse_domain("pm1:3").points[6].tolist() == [1.0, 1.0, -1.0]


@pytest.mark.parametrize("n", [1, 3, 5, 8, 63, 64, 65, 127, 128, 130, 200])
def test_pack_round_trip_and_hex_matches_python_int(n):
    rng = np.random.default_rng(n)
    bits = rng.integers(0, 2, size=(6, n)).astype(np.uint8)
    words = pack(bits)
    assert words.shape == (6, (n + 63) // 64)
    assert np.array_equal(unpack(words, n), bits)
    names = to_hex(words, n)
    for row, name in zip(bits, names):
        # independent oracle: the bit string read as a big-endian number
        assert name == format(int("".join(map(str, row)), 2), f"0{(n + 3) // 4}x")
    assert np.array_equal(hex_to_bits(names, n), bits)
    assert np.array_equal(from_hex(names, n), words)


def test_packed_words_sort_like_the_numbers():
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, size=(50, 130)).astype(np.uint8)
    words = pack(bits)
    order = np.lexsort([words[:, j] for j in range(words.shape[1] - 1, -1, -1)])
    values = [int("".join(map(str, r)), 2) for r in bits]
    assert [values[i] for i in order] == sorted(values)


@pytest.mark.parametrize("n", [1, 2, 7, 128, 130])
def test_hex_to_bits_reads_every_spelling_like_python_int(n):
    """The vectorised path (exact-width names) and the checked path (0x, upper case, bytes) agree with int(., 16)."""
    rng = np.random.default_rng(n)
    values = [int(rng.integers(0, 2**min(n, 62))) << max(0, n - 62) for _ in range(8)]
    expect = np.array([[(v >> (n - 1 - i)) & 1 for i in range(n)] for v in values], dtype=np.uint8)
    exact = [format(v, f"0{(n + 3) // 4}x") for v in values]
    for spelling in (exact, [x.encode() for x in exact], np.array(exact).astype("S"),
                     ["0x" + x.upper() for x in exact], [f" {x}\t" for x in exact]):
        assert np.array_equal(hex_to_bits(spelling, n), expect)
    with pytest.raises(UserError):
        hex_to_bits(["f" * ((n + 3) // 4 + 1)], n)  # one digit too many


@pytest.mark.parametrize("bad", ["ff", "-0", "+ff", "0x0xff", "ff_ff", "fｆ", "٣f", "", " ", "0x", "g0"])
def test_names_that_are_not_exactly_a_table_are_refused(bad):
    """Short names are not zero-padded, signs, doubled prefixes, underscores and non-ASCII digits are not hex."""
    n = 32 if bad == "ff" else 8  # "ff" is a whole table on 8 inputs, a short one on 32
    with pytest.raises(UserError, match="is not a truth table|more than"):
        hex_to_bits([bad], n)
    with pytest.raises(UserError):
        from_hex([bad], n)


def test_from_hex_rejects_bad_names():
    with pytest.raises(UserError):
        from_hex(["xyz"], 8)
    with pytest.raises(UserError):
        from_hex(["1ff"], 8)  # 9 bits


@pytest.mark.parametrize("spec", ["bool:5@gray", "pm1:4@gray"])
def test_gray_order_changes_one_coordinate_per_step(spec):
    d = parse_domain(spec)
    idx = d.order_index
    assert sorted(idx.tolist()) == list(range(d.n_points))
    pts = d.points[idx]
    steps = (pts[1:] != pts[:-1]).sum(axis=1)
    assert (steps == 1).all()
    assert idx[0] == 0


def test_grid_gray_order_moves_one_step_on_one_axis():
    d = parse_domain("grid:2:5@gray")
    dig = d.digits[d.order_index]
    diff = np.abs(dig[1:] - dig[:-1])
    assert ((diff.sum(axis=1) == 1) & (diff.max(axis=1) == 1)).all()
    assert sorted(d.order_index.tolist()) == list(range(25))


def test_perm_order_is_a_seeded_permutation():
    a = parse_domain("bool:6@perm:3").order_index
    b = parse_domain("bool:6@perm:3").order_index
    c = parse_domain("bool:6@perm:4").order_index
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sorted(a.tolist()) == list(range(64))


def test_enumerate_reads_tables_in_order():
    d = parse_domain("bool:2@gray")
    tables = np.array([[0, 1, 2, 3]])
    # Gray sequence 00, 01, 11, 10 -> canonical 0, 1, 3, 2
    assert d.enumerate(tables).tolist() == [[0, 1, 3, 2]]


def test_neighbours_flip_one_bit():
    d = parse_domain("bool:4")
    nb = d.neighbours
    for i in range(16):
        for j in range(4):
            diff = d.points[i] != d.points[nb[i, j]]
            assert diff.sum() == 1 and diff[j]


@pytest.mark.parametrize("spec", ["bool:0", "bool:x", "foo:3", "grid:2", "gauss:2:10@gray", "bool:3@zigzag", "bool:99"])
def test_bad_domains_are_user_errors(spec):
    with pytest.raises(UserError):
        parse_domain(spec)
