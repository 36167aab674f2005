"""Offline data sets and exact label noise."""

import random
import socket

import numpy as np
import pytest

from biasprobe.doubledescent import datasets as D
from biasprobe.errors import UserError


def test_network_guard_is_active():
    with pytest.raises(RuntimeError, match="network"):
        socket.create_connection(("example.org", 80))
    with pytest.raises(RuntimeError, match="network"):
        socket.socket()


def test_digits_offline_split():
    d = D.digits(1000, 797, seed=0)
    assert d["x"].shape == (1000, 64) and d["x_test"].shape == (797, 64)
    assert d["x"].min() == 0 and d["x"].max() == 1
    # 1797 images in all, 10 classes with 174..183 images each (scikit-learn's documentation).
    counts = np.bincount(np.concatenate([d["y"], d["y_test"]]))
    assert counts.sum() == 1797 and counts.min() >= 174 and counts.max() <= 183
    with pytest.raises(UserError):
        D.digits(1500, 500)


def test_mnist1d_generated_offline_with_published_shape_and_no_global_rng_change():
    np_before, py_before = np.random.get_state(), random.getstate()
    d = D.mnist1d()
    np_after, py_after = np.random.get_state(), random.getstate()
    assert np.array_equal(np_before[1], np_after[1]) and np_before[2] == np_after[2]
    assert py_before == py_after
    assert d["x"].shape == (4000, 40) and d["x_test"].shape == (1000, 40)
    y = np.concatenate([d["y"], d["y_test"]])
    assert np.array_equal(np.bincount(y), [500] * 10)  # 5000 signals, one template per class
    x = np.concatenate([d["x"], d["x_test"]])
    assert abs(x.mean()) < 1e-9 and abs(x.std() - 1) < 1e-9  # the generator standardises the whole set
    assert np.array_equal(D.mnist1d()["x"], d["x"])


def test_mnist1d_other_sizes():
    d = D.mnist1d(400, 1200)
    assert d["x"].shape == (400, 40) and d["x_test"].shape == (1200, 40)


@pytest.mark.parametrize("fraction,classes", [(0.15, 10), (0.25, 2), (0.0, 10), (1.0, 3)])
def test_flip_labels_exact_fraction_to_a_different_label(fraction, classes):
    rng = np.random.default_rng(7)
    labels = rng.integers(0, classes, 1000)
    noisy, mask = D.flip_labels(labels, fraction, classes, np.random.default_rng(8))
    assert mask.sum() == round(fraction * 1000)
    assert np.all(noisy[mask] != labels[mask]) and np.all(noisy[~mask] == labels[~mask])
    assert noisy.min() >= 0 and noisy.max() < classes
    again, _ = D.flip_labels(labels, fraction, classes, np.random.default_rng(8))
    assert np.array_equal(noisy, again)


def test_flipped_labels_uniform_over_the_others():
    from scipy import stats

    labels = np.zeros(20_000, dtype=int)
    noisy, _ = D.flip_labels(labels, 1.0, 5, np.random.default_rng(9))
    counts = np.bincount(noisy, minlength=5)
    assert counts[0] == 0
    assert stats.chisquare(counts[1:]).pvalue > 0.001


def test_flip_labels_rejects_bad_fraction():
    with pytest.raises(UserError):
        D.flip_labels(np.zeros(5, int), 1.5, 2, np.random.default_rng(0))


def test_load_by_name():
    assert D.load("digits", 100, 100)["x"].shape == (100, 64)
    with pytest.raises(UserError, match="mnist1d"):
        D.load("mnist-1d", 10, 10)
