"""The Boolean bridge: named targets against docs/definitions.md's truth tables; trained functions measured."""

import numpy as np
import pandas as pd
import pytest

from biasprobe.doubledescent import boolean as B
from biasprobe.doubledescent.mlp import TrainConfig
from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.tables import bits_to_hex


def test_targets_match_reference_tables():
    dom = parse_domain("bool:7")
    assert bits_to_hex(B.target_table("x1", dom)[None])[0] == "0000000000000000ffffffffffffffff"
    maj = B.target_table("majority", dom)
    assert maj.sum() == 64 and maj[0] == 0 and maj[127] == 1
    par = B.target_table("parity", dom)
    assert bits_to_hex(par[None])[0] == "6996966996696996" + "9669699669969669"  # second half: x1 = 1 flips parity
    assert bits_to_hex(B.target_table("hex:" + "5" * 32, dom)[None])[0] == "5" * 32
    with pytest.raises(UserError, match="majority"):
        B.target_table("majorty", dom)


def test_train_split_is_seeded_half():
    m = B.train_split(128, 64, 3)
    assert m.sum() == 64 and np.array_equal(m, B.train_split(128, 64, 3))
    assert not np.array_equal(m, B.train_split(128, 64, 4))


def test_width_sweep_learns_majority_and_measures_it():
    df = B.width_sweep("majority", [16], seeds=1, noises=(0.0, 0.25),
                       config=TrainConfig(epochs=1500, threads=1), seed=0)
    clean = df[df.noise == 0.0].iloc[0]
    noisy = df[df.noise == 0.25].iloc[0]
    assert clean.train_error == 0.0 and clean.test_error < 0.1
    # Majority of 7 has K_LZ = 70, entropy 1 and average sensitivity 35/112 (docs/definitions.md §2; C(6,3)·2/2^6 per input).
    assert clean.target_lz == 70.0 and clean.target_entropy == 1.0
    assert clean.target_sensitivity == pytest.approx(140 / 448)
    if clean.test_error == 0.0:
        assert clean.lz == 70.0 and clean["function"] == bits_to_hex(B.target_table("majority", parse_domain("bool:7"))[None])[0]
    # 16 of the 64 training labels were flipped: fitting them pulls the learned function away from majority.
    assert noisy.error_all > clean.error_all


def test_ladder_targets_are_reproducible_and_what_they_say():
    from biasprobe.measures import compute

    dom = parse_domain("bool:7")
    assert B.target_table("constant", dom).sum() == 0
    rnd = B.target_table("counting:0", dom)
    assert np.array_equal(rnd, B.target_table("counting:0", dom))
    assert not np.array_equal(rnd, B.target_table("counting:1", dom))
    assert abs(int(rnd.sum()) - 64) < 4 * 5.7  # Binomial(128, 1/2): sd 5.7
    net = B.target_table("mlp:0:100:125", dom)
    k = compute("lz", np.stack([net, B.target_table("mlp:0:35:50", dom)]), dom)["lz"]
    assert 100 <= k[0] < 125 and 35 <= k[1] < 50
    assert "counting measure" in B.describe_target("counting:0") and "35 <= K_LZ < 50" in B.describe_target("mlp:0:35:50")
    for bad in ("mlp:0:100", "mlp:x:1:2", "counting:-1", "mlp:0:a:2"):
        with pytest.raises(UserError):
            B.target_table(bad, dom)
    with pytest.raises(UserError, match="no draw"):
        B.target_table("mlp:0:200:300", dom)  # K_LZ never exceeds about 150 on 128 bits


def test_a_targets_rows_do_not_depend_on_the_other_targets_in_the_batch():
    """Paired design: the same inits and flip positions per seed, whatever targets train beside it."""
    kw = dict(widths=[8], seeds=2, noises=(0.0, 0.25), config=TrainConfig(epochs=60, threads=1), seed=3)
    alone = B.width_sweep("x1", **kw)
    together = B.width_sweep(["parity", "x1"], **kw)
    mine = together[together.target == "x1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.reset_index(drop=True), mine)
    assert set(together.target) == {"parity", "x1"} and len(together) == 2 * len(alone)
    with pytest.raises(UserError):
        B.width_sweep(["x1", "x1"], **kw)
