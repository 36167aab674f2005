"""Width sweeps give identical results with one worker and with two spawned workers; noise is exact per member."""

import numpy as np

from biasprobe.doubledescent import boolean as B
from biasprobe.doubledescent import mnist1d_mlp
from biasprobe.doubledescent.mlp import TrainConfig, map_tasks
from biasprobe.domains import parse_domain


def _square(x):
    return x * x


def test_map_tasks_inline_keeps_order():
    assert map_tasks(_square, [{"x": 3}, {"x": 1}, {"x": 2}], workers=1) == [9, 1, 4]


def test_mnist1d_sweep_one_worker_equals_two():
    cfg = TrainConfig(epochs=2, threads=1, record_every=1)
    kw = dict(widths=[4, 8], n_train=200, n_test=100, noises=(0.0, 0.5), seeds=1, train=cfg, seed=3)
    one = mnist1d_mlp.width_sweep(workers=1, **kw)
    two = mnist1d_mlp.width_sweep(workers=2, **kw)
    assert len(one) == 2 * 2 * 2  # widths × noise levels × recorded epochs
    np.testing.assert_array_equal(one.to_numpy(), two.to_numpy())


def test_boolean_sweep_noise_flips_exact_count():
    df = B.width_sweep("x1", [64], seeds=2, noises=(0.0, 0.25), config=TrainConfig(epochs=800, threads=1), seed=1,
                       measures=("lz",))
    # A wide network fits all 64 training labels, so its train error is 0 and it disagrees with the clean
    # target on exactly the 16 flipped training inputs.
    target = B.target_table("x1", parse_domain("bool:7"))
    mask = B.train_split(128, 64, 1)
    noisy = df[df.noise == 0.25]
    assert len(noisy) == 2 and (noisy.train_error == 0.0).all()
    for name in noisy["function"]:
        bits = np.array([int(c) for c in bin(int(name, 16))[2:].zfill(128)], dtype=np.uint8)
        assert int((bits[mask] != target[mask]).sum()) == 16
