"""The Boolean bridge: named targets against docs/definitions.md's truth tables; trained functions measured."""

import numpy as np
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
