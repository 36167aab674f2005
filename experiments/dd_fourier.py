"""dd-fourier: random Fourier features classification on digits and MNIST-1D, Belkin et al.'s panels."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment

METRICS = (("test_01", "test 0-1 loss"), ("test_sq", "test squared loss"), ("norm", "coefficient norm ‖a‖"),
           ("train_sq", "train squared loss"))


def _grid(n: int, config: dict) -> np.ndarray:
    ratios = np.concatenate([np.geomspace(config["ratio_min"], config["ratio_max"], config["points"]),
                             np.geomspace(0.8, 1.25, config["near_one"]), [1.0]])
    return np.unique(np.maximum(1, np.round(ratios * n).astype(int)))


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.doubledescent.datasets import load
    from biasprobe.doubledescent.features import fourier_sweep, kernel_interpolant

    runs, kernels, timing = [], [], []
    for k, spec in enumerate(config["datasets"]):
        t0 = time.perf_counter()
        data = load(spec["name"], spec["n_train"], spec["n_test"], seed=seed)
        df = fourier_sweep(data, _grid(spec["n_train"], config), config["seeds"], config["bandwidth"], seed=seed + k)
        runs.append(df.assign(dataset=spec["name"]))
        kernels.append({"dataset": spec["name"], "n": spec["n_train"], **kernel_interpolant(data, config["bandwidth"])})
        timing.append((spec["name"], time.perf_counter() - t0))
    return {"runs": pd.concat(runs, ignore_index=True), "kernel": pd.DataFrame(kernels),
            "timing": pd.DataFrame(timing, columns=["part", "seconds"])}


def render(tables, config: dict, out) -> None:
    from biasprobe.doubledescent.plotting import log_count_axis
    from biasprobe.doubledescent.summary import K_SE, peak_rule, peak_table
    from biasprobe.results import new_figure

    runs, kernel, timing = tables["runs"], tables["kernel"].set_index("dataset"), tables["timing"].set_index("part")
    names = list(dict.fromkeys(runs.dataset))
    curves = runs.groupby(["dataset", "N"], sort=False).agg(
        n=("n", "first"), ratio=("ratio", "first"), seeds=("seed", "size"),
        **{m: (m, "mean") for m in ("test_01", "test_sq", "train_01", "train_sq", "norm")},
        **{f"{m}_sd": (m, "std") for m in ("test_01", "test_sq", "norm")}).reset_index()
    for m in ("test_01", "test_sq", "norm"):
        curves[f"{m}_se"] = curves[f"{m}_sd"] / np.sqrt(curves["seeds"])
    fig, axes = new_figure(len(names), 4, width=13, height=3.3 * len(names))
    axes = np.atleast_2d(axes)
    for row, name in zip(axes, names):
        c = curves[curves.dataset == name]
        n = int(c.n.iloc[0])
        for ax, (col, label) in zip(row, METRICS):
            ax.plot(c.N, c[col], marker="o", ms=2.5, lw=1, color="C0", label="random Fourier features")
            if col in kernel.columns and col != "train_sq":
                ax.axhline(kernel.loc[name, col], color="C3", lw=1, ls="--", label="kernel interpolant (N → ∞)")
            ax.axvline(n, color="0.5", lw=0.8, ls=":", label="N = n")
            log_count_axis(ax)
            if col != "train_sq":
                log_count_axis(ax, "y")
            ax.set_xlabel("number of random features N")
            ax.set_title(f"{name}: {label}")
    handles = {}
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    # outside the panels: inside, it hid the digits 0-1 loss peak
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center", ncol=len(handles))
    cfg = config
    out.figure("panels", fig,
               f"Random Fourier features √(2/N)·cos(⟨v,x⟩+b), v ~ N(0, σ⁻²I), σ = {cfg['bandwidth']}, min-norm fit of "
               f"one-hot labels (Belkin et al. 2019) on " + ", ".join(
                   f"{s['name']} (n = {s['n_train']}, {s['n_test']} test)" for s in cfg["datasets"])
               + f"; mean of {cfg['seeds']} feature draws, peak at N = n, dashed: the Gaussian-kernel interpolant.")

    peaks = []
    for name in names:
        c = curves[curves.dataset == name]
        n = int(c.n.iloc[0])
        for col in ("test_01", "test_sq", "norm"):
            row = peak_table(c, [], "N", col, window=(0.5 * n, 2 * n), se=f"{col}_se", k_se=K_SE).iloc[0].to_dict()
            peaks.append({"dataset": name, "metric": col, "n": n, "seeds": int(c.seeds.min()), **row,
                          "kernel": float(kernel.loc[name, col])})
    out.record("compute_seconds", {str(k): round(float(v), 3) for k, v in timing["seconds"].items()})
    out.table("peaks", pd.DataFrame(peaks),
              "Peak of each curve in N (searched within [n/2, 2n]), the lowest value on each side (means over "
              f"feature draws with their SEs), the kernel interpolant's value (N → ∞) per data set; {peak_rule(K_SE)}.",
              n="seeds")
    out.table("curves", curves.round(6), "Mean over feature draws of every loss and the coefficient norm at each N.",
              n="seeds", inline=False)


def _scale(n, n_test_digits, n_test_mnist, seeds, points, near_one, ratio_max):
    return {"datasets": [{"name": "digits", "n_train": n, "n_test": n_test_digits},
                         {"name": "mnist1d", "n_train": n, "n_test": n_test_mnist}],
            "bandwidth": 5.0, "seeds": seeds, "ratio_min": 0.1, "ratio_max": ratio_max, "points": points,
            "near_one": near_one}


EXPERIMENT = Experiment(
    name="dd-fourier",
    title="Random Fourier features double descent on digits and MNIST-1D (Belkin et al. panels)",
    scales={"quick": _scale(150, 500, 500, 1, 10, 3, 4.0),
            "default": _scale(500, 1297, 2000, 3, 18, 6, 6.0),
            "paper": _scale(1000, 797, 4000, 5, 30, 10, 10.0)},
    compute=compute, render=render, seed=0,
    sample_counts=lambda c: {"seeds": c["seeds"], **{f"{d['name']}_train": d["n_train"] for d in c["datasets"]}},
)
