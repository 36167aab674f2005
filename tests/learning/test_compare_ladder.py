"""SGD-vs-Bayes agreement statistics on hand-built counts, and the seeded target ladder."""

import numpy as np
import pytest

from biasprobe import tables
from biasprobe.domains import parse_domain
from biasprobe.learning.compare import agreement, joint
from biasprobe.learning.ladder import flipped, target_ladder


def _w(*values):
    return np.array([[v] for v in values], np.uint64)  # one-word functions


def test_agreement_hand_worked():
    # P_SGD: A .6, B .3, C .1;  P_B: A .1, B .8, D .1  ->  A (ratio 6) and B (0.375) agree within 10x
    a = agreement(_w(1, 2, 3), np.array([6, 3, 1]), _w(1, 2, 4), np.array([5, 40, 5]), boot=0)
    assert a["mass_sgd_agree"] == pytest.approx(0.9) and a["mass_bayes_agree"] == pytest.approx(0.9)
    assert a["mass_sgd_on_bayes_seen"] == pytest.approx(0.9) and a["mass_bayes_on_sgd_seen"] == pytest.approx(0.9)
    assert a["both_seen"] == 2 and np.isnan(a["spearman"])  # fewer than 3 common functions
    # a factor of 20 apart no longer agrees: P_SGD A .95, B .05; P_B A .05, B .95
    b = agreement(_w(1, 2), np.array([95, 5]), _w(1, 2), np.array([5, 95]), boot=0)
    assert b["mass_sgd_agree"] == 0 and b["mass_bayes_agree"] == 0


def test_identical_samples_agree_fully_with_tight_intervals():
    counts = np.array([500, 300, 150, 50])
    a = agreement(_w(5, 6, 7, 8), counts, _w(8, 7, 6, 5), counts[::-1], boot=100, seed=1)
    assert a["mass_sgd_agree"] == 1 and a["spearman"] == pytest.approx(1.0)
    assert a["mass_sgd_agree_lo"] <= 1 <= a["mass_sgd_agree_hi"] + 1e-12 and a["spearman_lo"] > 0.3
    _, cs, cb = joint(_w(5, 6), np.array([1, 2]), _w(6, 9), np.array([3, 4]))
    np.testing.assert_array_equal(cs, [1, 2, 0]) and np.testing.assert_array_equal(cb, [0, 3, 4])


def test_flipped_flips_exactly_k_bits():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (20, 64)).astype(np.uint8)
    k = rng.integers(0, 10, 20)
    out = flipped(bits, k, np.random.default_rng(1))
    np.testing.assert_array_equal((out != bits).sum(1), k)


def test_ladder_bands_are_respected_and_seeded():
    d = parse_domain("bool:5")
    rng = np.random.default_rng(2)
    pools = {"random": rng.integers(0, 2, (300, 32)).astype(np.uint8),
             "sparse": (rng.random((300, 32)) < 0.05).astype(np.uint8)}
    edges = [0, 6, 15, 25, 40]
    lad = target_ladder(d, pools, edges, per_band=3, seed=4)
    again = target_ladder(d, pools, edges, per_band=3, seed=4)
    assert lad.equals(again)
    assert not lad.equals(target_ladder(d, pools, edges, per_band=3, seed=5))
    assert lad["target"].is_unique and (lad.groupby("band").size() <= 3).all()
    for rec in lad.to_dict("records"):
        lo, hi = (float(x) for x in rec["band"].strip("[)").split(","))
        assert lo <= rec["lz"] < hi
        assert rec["ones"] == tables.hex_to_bits([rec["target"]], 32)[0].sum()


def test_named_targets_match_the_unit_table():
    # docs/definitions.md §2: x_1 21, 0001x32 24.5, 1001x32 28, 10011010x16 42, majority 70, parity 91
    from biasprobe.learning.ladder import named_targets
    from biasprobe.measures import compute

    d = parse_domain("bool:7")
    named = named_targets(d)
    k = {name: compute(["lz"], bits[None, :], d)["lz"][0] for name, bits in named.items()}
    assert k == {"x_1": 21.0, "0001 repeated": 24.5, "1001 repeated": 28.0, "10011010 repeated": 42.0,
                 "majority": 70.0, "parity": 91.0}
    assert tables.bits_to_hex(named["x_1"][None, :])[0] == "0000000000000000ffffffffffffffff"
    lad = target_ladder(d, {"none": np.zeros((0, 128), np.uint8)}, [0, 50, 200], 2, 0, fixed=named)
    assert sorted(lad["source"]) == sorted(f"named: {n}" for n in named)
