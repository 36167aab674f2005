"""Offline data sets (scikit-learn digits, procedurally generated MNIST-1D) and exact seeded label noise."""

from __future__ import annotations

import functools
import random

import numpy as np

from biasprobe.errors import UserError


@functools.lru_cache(maxsize=4)
def _mnist1d_arrays(num_samples: int, train_split: float, seed: int) -> tuple[np.ndarray, ...]:
    """Generate MNIST-1D (Greydanus & Kobak 2024) and leave the global RNGs exactly as they were.

    `mnist1d.data.make_dataset` reseeds numpy's and Python's global generators and draws from them;
    saving and restoring both states keeps biasprobe free of global-RNG side effects. `get_dataset`
    is never called: it tries a download first.
    """
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.num_samples, args.train_split, args.seed = num_samples, train_split, seed
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    arrays = (data["x"], data["y"], data["x_test"], data["y_test"])
    for a in arrays:
        a.setflags(write=False)
    return arrays


def mnist1d(n_train: int = 4000, n_test: int = 1000, seed: int = 42) -> dict:
    """MNIST-1D with `n_train` training and `n_test` test signals (length 40, 10 classes), generated offline.

    The generator makes n_train + n_test signals (rounded up to a multiple of 10, one template per
    class) and splits them in its own order; the defaults are the published 4000/1000 set, seed 42.
    """
    total = n_train + n_test
    if n_train < 1 or n_test < 1:
        raise UserError(f"MNIST-1D needs positive train and test sizes, got {n_train}, {n_test}")
    per_class = -(-total // 10)
    x, y, xt, yt = _mnist1d_arrays(per_class * 10, n_train / (per_class * 10), seed)
    x_all, y_all = np.concatenate([x, xt]), np.concatenate([y, yt])
    return {"x": x_all[:n_train].astype(np.float64), "y": y_all[:n_train].astype(np.int64),
            "x_test": x_all[n_train:total].astype(np.float64), "y_test": y_all[n_train:total].astype(np.int64)}


def digits(n_train: int = 1000, n_test: int = 797, seed: int = 0) -> dict:
    """scikit-learn's 8×8 digits (1797 images, shipped with the library), pixels scaled to [0, 1], seeded split."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    total = len(bunch.target)
    if n_train < 1 or n_test < 1 or n_train + n_test > total:
        raise UserError(f"digits has {total} images; cannot split into {n_train} train + {n_test} test")
    order = np.random.default_rng(np.random.SeedSequence([seed, 1797])).permutation(total)
    x, y = bunch.data[order] / 16.0, bunch.target[order].astype(np.int64)
    return {"x": x[:n_train], "y": y[:n_train], "x_test": x[n_train:n_train + n_test], "y_test": y[n_train:n_train + n_test]}


DATASETS = {"digits": digits, "mnist1d": mnist1d}


def load(name: str, n_train: int, n_test: int, seed: int = 0) -> dict:
    """Load a data set by name ("digits" or "mnist1d"); MNIST-1D keeps its own generator seed (42)."""
    from biasprobe.errors import unknown_name

    if name not in DATASETS:
        raise unknown_name("data set", name, DATASETS)
    if name == "digits":
        return digits(n_train, n_test, seed)
    return mnist1d(n_train, n_test)


def flip_labels(labels: np.ndarray, fraction: float, classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Give exactly round(fraction·n) labels, chosen without replacement, a different label uniform over the rest.

    Returns (noisy labels, boolean mask of the flipped positions). Unlike "resampling" a label,
    which keeps the old one with probability 1/classes, every chosen label really changes.
    """
    if not 0.0 <= fraction <= 1.0:
        raise UserError(f"label-noise fraction must lie in [0, 1], got {fraction}")
    if classes < 2:
        raise UserError(f"label noise needs at least 2 classes, got {classes}")
    labels = np.asarray(labels)
    count = int(round(fraction * len(labels)))
    idx = rng.choice(len(labels), size=count, replace=False)
    noisy = labels.copy()
    # Adding a shift in 1..classes-1 modulo classes gives each other label with equal probability.
    noisy[idx] = (labels[idx] + rng.integers(1, classes, size=count)) % classes
    mask = np.zeros(len(labels), dtype=bool)
    mask[idx] = True
    return noisy, mask
