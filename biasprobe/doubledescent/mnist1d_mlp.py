"""Deep double descent on MNIST-1D (Nakkiran et al. 2019 on a CPU): MLP width sweeps with and without label noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.doubledescent.datasets import flip_labels, mnist1d
from biasprobe.doubledescent.mlp import TrainConfig, map_tasks, train_members


def _train_width(width: int, n_train: int, n_test: int, noises: list[float], seeds: int, seed: int,
                 config: dict) -> dict:
    """One width, every (seed, noise) member trained together; returns tidy records (plain lists, cheap to send)."""
    cfg = TrainConfig(**config)
    data = mnist1d(n_train, n_test)
    labels, member_seeds, keys = [], [], []
    for s, ss in enumerate(np.random.SeedSequence([seed, 11]).spawn(seeds)):
        streams = ss.spawn(len(noises))
        for k, noise in enumerate(noises):
            noisy, _ = flip_labels(data["y"], noise, 10, np.random.default_rng(streams[k]))
            labels.append(noisy)
            member_seeds.append(seed * 1_000_003 + 7919 * s + 1)  # the same init at every noise level
            keys.append((s, float(noise)))
    result = train_members(data["x"], np.stack(labels), width, member_seeds, cfg,
                           x_eval={"test": data["x_test"]}, labels_eval={"test": data["y_test"]})
    rows = []
    for h in result["history"]:
        for m, (s, noise) in enumerate(keys):
            rows.append({"width": width, "params": result["params"], "seed": s, "noise": noise, "epoch": h["epoch"],
                         "train_error": float(h["train_error"][m]), "train_loss": float(h["train_loss"][m]),
                         "test_error": float(h["test_error"][m])})
    return {"rows": rows}


def width_sweep(widths, n_train: int = 4000, n_test: int = 12000, noises=(0.0, 0.15), seeds: int = 1,
                train: TrainConfig = TrainConfig(), workers: int = 1, seed: int = 0) -> pd.DataFrame:
    """Train 40 → w → w → 10 MLPs on MNIST-1D for every width; one row per (width, seed, noise, recorded epoch).

    Noise f replaces exactly round(f·n_train) training labels by a different class (seeded per seed);
    test labels stay clean. Train error is measured on the labels trained on, as Nakkiran et al. do.
    """
    from dataclasses import asdict

    tasks = [{"width": int(w), "n_train": n_train, "n_test": n_test, "noises": [float(x) for x in noises],
              "seeds": seeds, "seed": seed, "config": asdict(train)} for w in widths]
    results = map_tasks(_train_width, tasks, workers)
    return pd.DataFrame([row for r in results for row in r["rows"]])
