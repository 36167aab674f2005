"""dd-boolean-complexity: MLP width sweeps on half of a 7-input truth table, with the learned functions measured."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.doubledescent.boolean import width_sweep
    from biasprobe.doubledescent.mlp import TrainConfig

    train = TrainConfig(epochs=config["epochs"], lr=config["lr"], momentum=config["momentum"], batch=config["batch"],
                        threads=1)
    runs, timing = [], []
    for target in config["targets"]:
        t0 = time.perf_counter()
        runs.append(width_sweep(target, config["widths"], config["seeds"], tuple(config["noises"]), config["n_train"],
                                config["domain"], tuple(config["measures"]), train, config["workers"], seed=seed))
        timing.append((target, time.perf_counter() - t0))
    return {"runs": pd.concat(runs, ignore_index=True), "timing": pd.DataFrame(timing, columns=["part", "seconds"])}


def _means(runs: pd.DataFrame, measures) -> pd.DataFrame:
    cols = ["train_error", "test_error", *measures]
    g = runs.groupby(["target", "noise", "width"])
    out = g[cols].mean()
    se = g[cols].std() / np.sqrt(g.size().to_numpy()[:, None])
    out = out.join(se.add_suffix("_se")).reset_index()
    out["seeds"] = g.size().to_numpy()
    out["params"] = g["params"].first().to_numpy()
    return out


def render(tables, config: dict, out) -> None:
    from biasprobe.doubledescent.plotting import log_count_axis
    from biasprobe.doubledescent.summary import peak_row
    from biasprobe.results import new_figure

    runs, timing = tables["runs"], tables["timing"].set_index("part")
    measures = list(config["measures"])
    shown = [m for m in config["plot_measures"] if m in measures]
    means = _means(runs, measures)
    targets = list(dict.fromkeys(runs.target))
    fig, axes = new_figure(len(targets), 1 + len(shown), width=3.2 * (1 + len(shown)), height=3.2 * len(targets))
    axes = np.atleast_2d(axes)
    for row, target in zip(axes, targets):
        t = means[means.target == target]
        for k, (noise, c) in enumerate(t.groupby("noise")):
            row[0].errorbar(c.width, c.test_error, yerr=c.test_error_se, marker="o", ms=3, lw=1.2, color=f"C{k}",
                            label=f"test, {noise:.0%} noise")
            row[0].plot(c.width, c.train_error, marker="s", ms=2.5, lw=0.9, ls="--", color=f"C{k}",
                        label=f"train, {noise:.0%} noise")
            for ax, m in zip(row[1:], shown):
                ax.errorbar(c.width, c[m], yerr=c[f"{m}_se"], marker="o", ms=3, lw=1.1, color=f"C{k}",
                            label=f"{noise:.0%} noise")
        ref = runs[runs.target == target].iloc[0]
        for ax, m in zip(row[1:], shown):
            # A line over the width range (not axhline) so the target's value always lies inside the y limits.
            ax.plot([min(config["widths"]), max(config["widths"])], [ref[f"target_{m}"]] * 2, color="k", lw=0.9,
                    ls=":", label="target")
            ax.set_title(f"{target}: {m} of the learned function")
        row[0].set_title(f"{target}: error (train on {config['n_train']} of 128 inputs)")
        for ax in row:
            log_count_axis(ax)
            ax.set_xlabel("hidden width w (7 → w → w → 1)")
        row[0].legend(fontsize="x-small")
        row[1].legend(fontsize="x-small")
    out.figure("width", fig,
               f"MLPs of growing width trained with SGD (lr {config['lr']}, momentum {config['momentum']}, "
               f"{config['epochs']} full-batch epochs) on {config['n_train']} of the 128 inputs of each target, with "
               f"exact label-noise fractions {', '.join(f'{x:.0%}' for x in config['noises'])}; the learned function on "
               f"all 128 inputs is measured ({', '.join(shown)}; dotted: the target's value), mean ± SE over "
               f"{config['seeds']} seeds.")

    rows = []
    for (target, noise), c in means.groupby(["target", "noise"], sort=False):
        c = c.sort_values("width")
        hit = c[c.train_error <= config["interpolation_tol"]]
        w0 = float(hit.width.min()) if len(hit) else np.nan
        window = (w0 / 2, 2 * w0) if np.isfinite(w0) else None
        pk = peak_row(c.width, c.test_error, window)
        at = c.set_index("width")
        widest = c.width.max()
        rec = {"target": target, "noise": noise, "seeds": int(c.seeds.min()), "interpolation_width": w0, **pk}
        for m in config["table_measures"]:
            rec[f"{m}_at_peak"] = float(at.loc[pk["peak_at"], m]) if np.isfinite(pk["peak_at"]) else np.nan
            rec[f"{m}_widest"] = float(at.loc[widest, m])
            rec[f"{m}_target"] = float(runs[runs.target == target][f"target_{m}"].iloc[0])
        # Does test error go with complexity beyond the threshold? Spearman over (width, seed) runs.
        from scipy.stats import spearmanr

        r = runs[(runs.target == target) & (runs.noise == noise) & (runs.width >= (w0 if np.isfinite(w0) else 0))]
        rec["spearman_test_error_lz"] = float(spearmanr(r.test_error, r.lz).statistic) if len(r) > 2 else np.nan
        rows.append(rec)
    out.record("compute_seconds", {str(k): round(float(v), 3) for k, v in timing["seconds"].items()})
    out.table("peaks", pd.DataFrame(rows),
              "Per target and noise level: the first width that interpolates (train error ≤ "
              f"{config['interpolation_tol']:g}), the test-error peak within a factor 2 of it and the minimum on each "
              "side, the learned function's complexity at the peak and at the widest network against the target's, "
              "the Spearman correlation of test error with K_LZ over interpolating runs.",
              n="seeds")
    out.table("curves", means.round(6), "Mean (and SE) of train/test error and every measure of the learned function "
              "per target, noise level and width.", n="seeds", inline=False)


def _scale(targets, widths, seeds, noises, epochs, workers):
    return {"targets": targets, "widths": widths, "seeds": seeds, "noises": noises, "epochs": epochs,
            "lr": 0.01, "momentum": 0.9, "batch": 100, "n_train": 64, "domain": "bool:7", "workers": workers,
            "measures": ["lz", "entropy", "sensitivity", "gc", "fourier_l1", "boolean"],
            "plot_measures": ["lz", "sensitivity", "boolean"], "table_measures": ["lz", "boolean"],
            "interpolation_tol": 0.0}


EXPERIMENT = Experiment(
    name="dd-boolean-complexity",
    title="Width sweeps on a 7-input truth table: test error beside the complexity of the learned function",
    scales={"quick": _scale(["mux"], [2, 8, 64], 1, [0.0, 0.2], 300, 1),
            "default": _scale(["mux"], [1, 2, 3, 4, 6, 8, 12, 16, 32, 128, 512], 3, [0.0, 0.1, 0.2], 2000, 2),
            "paper": _scale(["mux", "majority", "hex:6b3c9e1d2a5f8074c3e1b2d49a7f0e65"],
                            [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 64, 128, 256, 512, 1024], 10,
                            [0.0, 0.1, 0.2, 0.3], 5000, 2)},
    compute=compute, render=render, seed=0,
    sample_counts=lambda c: {"seeds": c["seeds"], "train_inputs": c["n_train"]},
)
