"""dd-mlp: deep double descent in MLP width on MNIST-1D, with 0% and 15% label noise (Nakkiran et al. on a CPU)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.doubledescent.mlp import TrainConfig
    from biasprobe.doubledescent.mnist1d_mlp import width_sweep

    t0 = time.perf_counter()
    train = TrainConfig(epochs=config["epochs"], lr=config["lr"], momentum=config["momentum"], batch=config["batch"],
                        threads=1, record_every=config["record_every"])
    runs = width_sweep(config["widths"], config["n_train"], config["n_test"], config["noises"], config["seeds"],
                       train, workers=config["workers"], seed=seed)
    return {"runs": runs, "timing": pd.DataFrame({"part": ["training"], "seconds": [time.perf_counter() - t0]})}


def _final(runs: pd.DataFrame) -> pd.DataFrame:
    last = runs[runs.epoch == runs.epoch.max()]
    g = last.groupby(["noise", "width"])
    out = g.agg(params=("params", "first"), seeds=("seed", "size"),
                train_error=("train_error", "mean"), test_error=("test_error", "mean"),
                test_error_sd=("test_error", "std"), train_loss=("train_loss", "mean")).reset_index()
    out["test_error_se"] = out["test_error_sd"] / np.sqrt(out["seeds"])
    return out


def _interpolation_width(c: pd.DataFrame, tol: float) -> float:
    """The smallest width whose mean final train error is at most `tol` (NaN if none)."""
    hit = c[c.train_error <= tol]
    return float(hit.width.min()) if len(hit) else np.nan


def render(tables, config: dict, out) -> None:
    from biasprobe.doubledescent.plotting import log_count_axis
    from biasprobe.doubledescent.summary import K_SE, peak_row, peak_rule
    from biasprobe.results import new_figure

    runs, timing = tables["runs"], tables["timing"]
    final = _final(runs)
    tol = config["interpolation_tol"]
    fig, axes = new_figure(1, 2, width=9, height=4.4)
    for k, (noise, c) in enumerate(final.groupby("noise")):
        label = f"{noise:.0%} label noise"
        axes[0].errorbar(c.width, c.test_error, yerr=c.test_error_se, marker="o", ms=3, lw=1.2, color=f"C{k}",
                         label=f"test, {label}")
        axes[0].plot(c.width, c.train_error, marker="s", ms=3, lw=1, ls="--", color=f"C{k}", label=f"train, {label}")
        w0 = _interpolation_width(c, tol)
        if np.isfinite(w0):
            axes[0].axvline(w0, color=f"C{k}", lw=0.8, ls=":")
    axes[0].set_ylabel("error")
    axes[0].set_title(f"after {config['epochs']} epochs")
    widths_epoch = [w for w in config["epoch_curves"] if w in set(runs.width)]
    styles = ["-", "--", "-.", ":"]
    for k, (noise, g) in enumerate(runs[runs.width.isin(widths_epoch)].groupby("noise")):
        for j, (w, gw) in enumerate(g.groupby("width")):
            e = gw.groupby("epoch").test_error.mean()
            axes[1].plot(e.index, e.values, color=f"C{k}", ls=styles[j % len(styles)], lw=1.1,
                         label=f"width {w}, {noise:.0%} noise")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("test error")
    axes[1].set_title("epoch-wise test error")
    log_count_axis(axes[0])
    axes[0].set_xlabel("hidden width h (40 → h → h → 10)")
    for ax in axes:  # below the panel: inside, it hid the right end of the 15%-noise curve
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="x-small", frameon=False)
    out.figure("width", fig,
               f"MLP width sweep on MNIST-1D ({config['n_train']} train / {config['n_test']} test, SGD lr {config['lr']} "
               f"momentum {config['momentum']} batch {config['batch']}, {config['epochs']} epochs"
               + (" instead of the paper's 500" if config["epochs"] < 500 else "")
               + f", {config['seeds']} seeds, mean ± SE): dotted lines mark the first width whose train error is "
               f"≤ {tol:g}; right: test error against epoch for a few widths.")

    rows = []
    for noise, c in final.groupby("noise"):
        w0 = _interpolation_width(c, tol)
        window = (w0 / 2, 2 * w0) if np.isfinite(w0) else None
        rows.append({"noise": noise, "epochs": config["epochs"], "seeds": config["seeds"],
                     "interpolation_width": w0, **peak_row(c.width, c.test_error, window, se=c.test_error_se, k_se=K_SE)})
    out.record("compute_seconds", {"training": round(float(timing.seconds.sum()), 3)})
    out.table("peaks", pd.DataFrame(rows),
              f"Test-error peak in width (searched within a factor 2 of the first width with train error ≤ {tol:g}), "
              f"the lowest test error on each side (means over seeds with their SEs), after {config['epochs']} epochs"
              + (" (fewer than the paper's 500; coarse width grid)" if config["epochs"] < 500 else "")
              + f"; {peak_rule(K_SE)}.", n="seeds")
    out.table("final", final.round(6), f"Final train and test error per width and noise level, mean over "
              f"{config['seeds']} seeds, after {config['epochs']} epochs.", n="seeds")
    out.table("epochs", runs.groupby(["noise", "width", "epoch"]).agg(
        train_error=("train_error", "mean"), test_error=("test_error", "mean"), seeds=("seed", "size")).reset_index(),
        "Mean train and test error per recorded epoch (epoch-wise curves).", n="seeds", inline=False)


def _scale(n_train, n_test, widths, epochs, seeds, record_every, epoch_curves, workers=2):
    return {"n_train": n_train, "n_test": n_test, "widths": widths, "epochs": epochs, "seeds": seeds,
            "noises": [0.0, 0.15], "lr": 0.01, "momentum": 0.9, "batch": 100, "record_every": record_every,
            "epoch_curves": epoch_curves, "interpolation_tol": 0.01, "workers": workers}


EXPERIMENT = Experiment(
    name="dd-mlp",
    title="Deep double descent: MLP width sweep on MNIST-1D with and without label noise",
    scales={"quick": _scale(1000, 1000, [8, 32, 128], 20, 1, 5, [8, 128], workers=1),
            "default": _scale(4000, 4000, [8, 16, 32, 48, 64, 128, 256], 300, 2, 10, [16, 64, 256]),
            "paper": _scale(4000, 12000, [4, 8, 12, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 192, 256, 512], 500, 5,
                            10, [16, 48, 64, 256])},
    compute=compute, render=render, seed=0,
    sample_counts=lambda c: {"seeds": c["seeds"], "train": c["n_train"], "test": c["n_test"]},
)
