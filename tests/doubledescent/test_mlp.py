"""Batched seeded MLP training: members are independent SGD runs; PyTorch's default init; thread count restored."""

import numpy as np
import pytest

from biasprobe.doubledescent import mlp as M
from biasprobe.errors import UserError

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def test_learns_xor_and_reports_errors():
    labels = np.array([[0, 1, 1, 0], [1, 0, 0, 1]])
    r = M.train_members(XOR_X, labels, 16, [0, 1], M.TrainConfig(epochs=1500, batch=4, lr=0.05, threads=1),
                        x_eval={"all": XOR_X}, labels_eval={"all": labels[0]}, outputs=1)
    np.testing.assert_array_equal(r["final"]["train_error"], [0.0, 0.0])
    # Member 1 learned the complement of the evaluation labels: error 1 on all four inputs.
    np.testing.assert_array_equal(r["final"]["all_error"], [0.0, 1.0])
    np.testing.assert_array_equal(r["outputs"]["all"][0, :, 0] > 0, labels[0] == 1)
    assert r["params"] == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1


def test_members_are_independent_runs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 5))
    labels = rng.integers(0, 3, (3, 50))
    cfg = M.TrainConfig(epochs=5, batch=10, threads=1)
    together = M.train_members(x, labels, 8, [11, 12, 13], cfg, x_eval={"x": x})["outputs"]["x"]
    alone = M.train_members(x, labels[1:2], 8, [12], cfg, x_eval={"x": x})["outputs"]["x"]
    np.testing.assert_allclose(together[1], alone[0], rtol=1e-4, atol=1e-5)
    assert not np.allclose(together[0], together[1])


def test_same_seed_same_result_and_history_stride():
    rng = np.random.default_rng(1)
    x, labels = rng.standard_normal((40, 3)), rng.integers(0, 2, (1, 40))
    cfg = M.TrainConfig(epochs=6, batch=20, threads=1, record_every=2)
    a = M.train_members(x, labels, 4, [5], cfg, x_eval={"x": x})
    b = M.train_members(x, labels, 4, [5], cfg, x_eval={"x": x})
    np.testing.assert_array_equal(a["outputs"]["x"], b["outputs"]["x"])
    assert [h["epoch"] for h in a["history"]] == [2, 4, 6]


def test_default_init_bounds_match_pytorch_linear():
    import torch

    params = M._init_members([7, 300, 1], [0], torch)
    w1, b1, w2, b2 = (p.detach().numpy()[0] for p in params)
    bound1, bound2 = 1 / np.sqrt(7), 1 / np.sqrt(300)
    assert np.abs(w1).max() <= bound1 and np.abs(w1).max() > 0.95 * bound1
    assert np.abs(b1).max() <= bound1 and np.abs(w2).max() <= bound2 and np.abs(b2).max() <= bound2
    # Uniform on [-b, b] has variance b²/3.
    assert w1.var() == pytest.approx(bound1**2 / 3, rel=0.1)


def test_bad_config_is_a_user_error():
    with pytest.raises(UserError):
        M.TrainConfig(epochs=0)
    with pytest.raises(UserError):
        M.TrainConfig(momentum=1.0)
    with pytest.raises(UserError):
        M.train_members(XOR_X, np.zeros((2, 4), int), 4, [0], M.TrainConfig(epochs=1))
