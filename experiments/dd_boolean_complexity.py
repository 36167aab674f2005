"""dd-boolean-complexity: MLP width sweeps on half of the truth tables of a ladder of 7-input targets spanning K_LZ."""

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
    t0 = time.perf_counter()
    # every target's networks at one width train as one batch (paired: same inits and flip positions per seed)
    runs = width_sweep(config["targets"], config["widths"], config["seeds"], tuple(config["noises"]),
                       config["n_train"], config["domain"], tuple(config["measures"]), train, config["workers"],
                       seed=seed)
    return {"runs": runs, "timing": pd.DataFrame({"part": ["training"], "seconds": [time.perf_counter() - t0]})}


def _means(runs: pd.DataFrame, measures) -> pd.DataFrame:
    cols = ["train_error", "test_error", *measures]
    g = runs.groupby(["target", "noise", "width"], sort=False)
    out = g[cols].mean()
    se = g[cols].std() / np.sqrt(g.size().to_numpy()[:, None])
    out = out.join(se.add_suffix("_se")).reset_index()
    out["seeds"] = g.size().to_numpy()
    out["params"] = g["params"].first().to_numpy()
    return out


def ladder(runs: pd.DataFrame, measures) -> pd.DataFrame:
    """The targets in order of K_LZ with what they are and their measures."""
    from biasprobe.doubledescent.boolean import describe_target

    first = runs.drop_duplicates("target").sort_values(["target_lz", "target"], kind="stable")
    out = pd.DataFrame({"target": first["target"], "what": [describe_target(t) for t in first["target"]]})
    for m in measures:
        out[f"{m}"] = first[f"target_{m}"].to_numpy()
    return out.reset_index(drop=True)


def peaks(means: pd.DataFrame, runs: pd.DataFrame, config: dict, k_se: float) -> pd.DataFrame:
    from scipy.stats import spearmanr

    from biasprobe.doubledescent.summary import peak_row

    rows = []
    for (target, noise), c in means.groupby(["target", "noise"], sort=False):
        c = c.sort_values("width")
        hit = c[c.train_error <= config["interpolation_tol"]]
        w0 = float(hit.width.min()) if len(hit) else np.nan
        window = (w0 / 2, 2 * w0) if np.isfinite(w0) else None
        pk = peak_row(c.width, c.test_error, window, se=c.test_error_se, k_se=k_se)
        at = c.set_index("width")
        widest = c.width.max()
        rec = {"target": target, "target_lz": float(runs.loc[runs.target == target, "target_lz"].iloc[0]),
               "noise": noise, "seeds": int(c.seeds.min()), "interpolation_width": w0, **pk}
        for m in config["table_measures"]:
            rec[f"{m}_at_peak"] = float(at.loc[pk["peak_at"], m]) if np.isfinite(pk["peak_at"]) else np.nan
            rec[f"{m}_widest"] = float(at.loc[widest, m])
        # Does test error go with the learned function's complexity beyond the threshold? Spearman over (width, seed) runs.
        r = runs[(runs.target == target) & (runs.noise == noise) & (runs.width >= (w0 if np.isfinite(w0) else 0))]
        rho = spearmanr(r.test_error, r.lz).statistic if len(r) > 2 and r.test_error.nunique() > 1 else np.nan
        rec["spearman_test_error_lz"] = float(rho)
        rows.append(rec)
    return pd.DataFrame(rows).sort_values(["target_lz", "noise"], kind="stable").reset_index(drop=True)


def versus_target(means: pd.DataFrame, runs: pd.DataFrame, measures) -> pd.DataFrame:
    """At the widest network, per target and noise: test error and the learned function's measures, mean and SE."""
    widest = means.width.max()
    w = means[means.width == widest].copy()
    w["target_lz"] = [float(runs.loc[runs.target == t, "target_lz"].iloc[0]) for t in w.target]
    keep = ["target", "target_lz", "noise", "width", "seeds", "train_error", "test_error", "test_error_se"]
    for m in measures:
        keep += [m, f"{m}_se"]
    return w[keep].sort_values(["noise", "target_lz"], kind="stable").reset_index(drop=True)


def _trend(table: pd.DataFrame, noise: float) -> str:
    """Spearman correlation of test error (widest network) with target K_LZ over the ladder, in words."""
    from scipy.stats import spearmanr

    t = table[table.noise == noise]
    rho = spearmanr(t.target_lz, t.test_error).statistic
    lo, hi = t.iloc[0], t.iloc[-1]
    return (f"{noise:.0%} noise: test error {lo.test_error:.3f} ± {lo.test_error_se:.3f} at K_LZ {lo.target_lz:g} to "
            f"{hi.test_error:.3f} ± {hi.test_error_se:.3f} at K_LZ {hi.target_lz:g} (Spearman {rho:.2f} over "
            f"{len(t)} targets)")


def render(tables, config: dict, out) -> None:
    from biasprobe.doubledescent.plotting import log_count_axis
    from biasprobe.doubledescent.summary import K_SE, peak_rule
    from biasprobe.results import new_figure

    runs, timing = tables["runs"], tables["timing"]
    measures = list(config["measures"])
    means = _means(runs, measures)
    lad = ladder(runs, measures)
    targets = list(lad.target)
    noises = sorted(set(runs.noise))
    k_se = config.get("k_se", K_SE)

    fig, axes = new_figure(len(targets), 2, width=7.6, height=1.75 * len(targets) + 0.9, sharex=True)
    axes = np.atleast_2d(axes)
    for row, target in zip(axes, targets):
        t = means[means.target == target]
        k_target = float(lad.loc[lad.target == target, "lz"].iloc[0])
        for k, (noise, c) in enumerate(t.groupby("noise")):
            row[0].errorbar(c.width, c.test_error, yerr=c.test_error_se, marker="o", ms=2.5, lw=1.1, color=f"C{k}",
                            label=f"test, {noise:.0%} noise")
            row[0].plot(c.width, c.train_error, marker="s", ms=2, lw=0.8, ls="--", color=f"C{k}",
                        label=f"train, {noise:.0%} noise")
            row[1].errorbar(c.width, c.lz, yerr=c.lz_se, marker="o", ms=2.5, lw=1.1, color=f"C{k}",
                            label=f"learned, {noise:.0%} noise")
        # a line over the width range (not axhline) so the target's value always lies inside the y limits
        row[1].plot([min(config["widths"]), max(config["widths"])], [k_target] * 2, color="k", lw=0.9, ls=":",
                    label="target")
        row[0].set_ylabel(f"{target}\n(K_LZ {k_target:g}): error", fontsize=7)
        row[1].set_ylabel("learned $K_{LZ}$")
        for ax in row:
            log_count_axis(ax)
    for ax in axes[-1]:
        ax.set_xlabel("hidden width w (7 → w → w → 1)")
    handles = {}
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside upper center", ncol=3, fontsize=6)
    out.figure("width", fig,
               f"MLPs of growing width trained with SGD (lr {config['lr']}, momentum {config['momentum']}, "
               f"{config['epochs']} full-batch epochs) on the same {config['n_train']} inputs of {config['domain']} for each "
               f"target (rows, by target K_LZ), with exactly {', '.join(f'{x:.0%}' for x in noises)} of the training "
               f"labels flipped: train (dashed) and test error, and the K_LZ of the learned function on all inputs "
               f"(dotted: the target's), mean ± SE over {config['seeds']} seeds.")

    vt = versus_target(means, runs, measures)
    fig, axes = new_figure(1, 2, width=7.6, height=3.0)
    for k, noise in enumerate(noises):
        t = vt[vt.noise == noise]
        axes[0].errorbar(t.target_lz, t.test_error, yerr=t.test_error_se, marker="o", ms=3, lw=1, color=f"C{k}",
                         label=f"{noise:.0%} label noise")
        axes[1].errorbar(t.target_lz, t.lz, yerr=t.lz_se, marker="o", ms=3, lw=1, color=f"C{k}",
                         label=f"{noise:.0%} label noise")
    kk = np.array([0, 150])
    axes[1].plot(kk, kk, color="k", lw=0.8, ls=":", label="learned = target")
    axes[0].axhline(0.5, color="0.5", lw=0.8, ls=":", label="chance")
    from biasprobe.domains import parse_domain

    n_points = parse_domain(config["domain"]).n_points
    axes[0].set_ylabel(f"test error ({n_points - config['n_train']} held-out inputs)")
    axes[1].set_ylabel("$K_{LZ}$ of the learned function")
    for ax in axes:
        ax.set_xlabel("$K_{LZ}$ of the target")
        ax.legend(fontsize=6, loc="upper left")
    widest = int(vt.width.max())
    out.figure("ladder", fig,
               f"Width-{widest} MLPs on the ladder of targets: test error (left) and the K_LZ of the learned function "
               f"(right) against the target's K_LZ, mean ± SE over {config['seeds']} seeds; "
               + "; ".join(_trend(vt, n) for n in noises) + ".")

    pk = peaks(means, runs, config, k_se)
    out.record("compute_seconds", {str(p): round(float(s), 3) for p, s in zip(timing["part"], timing["seconds"])})
    out.table("targets", lad,
              "The ladder of targets, simple to random, in order of K_LZ: named functions, draws of a 7-40-40-1 ReLU "
              "network prior and of the counting measure (docs/definitions.md §1 and §2), with each target's measures.")
    calls = pk.groupby("noise")["is_peak"].sum()
    out.table("peaks", pk,
              "Per target and noise level: the first width that interpolates (mean train error ≤ "
              f"{config['interpolation_tol']:g}), the test-error peak within a factor 2 of it and the minimum on each "
              f"side, with SEs over {config['seeds']} seeds, the learned function's complexity at the peak and at the "
              f"widest network, and the Spearman correlation of test error with the learned K_LZ over interpolating "
              f"runs; {peak_rule(k_se)} ({', '.join(f'{int(v)} of {len(targets)} at {n:.0%} noise' for n, v in calls.items())}).",
              n="seeds")
    out.table("versus_target", vt,
              f"At width {widest}: train and test error and every measure of the learned function (mean and SE over "
              f"seeds) per target and noise level, against the target's K_LZ.", n="seeds")
    out.table("curves", means.round(6), "Mean (and SE) of train/test error and every measure of the learned function "
              "per target, noise level and width.", n="seeds", inline=False)


LADDER = ["constant", "x1", "mlp:0:35:50", "mux", "parity", "mlp:0:100:125", "counting:0"]


def _scale(targets, widths, seeds, noises, epochs, workers):
    return {"targets": targets, "widths": widths, "seeds": seeds, "noises": noises, "epochs": epochs,
            "lr": 0.01, "momentum": 0.9, "batch": 100, "n_train": 64, "domain": "bool:7", "workers": workers,
            "measures": ["lz", "entropy", "sensitivity", "gc", "fourier_l1", "boolean"],
            "table_measures": ["lz", "boolean"], "interpolation_tol": 0.0, "k_se": 2.0}


EXPERIMENT = Experiment(
    name="dd-boolean-complexity",
    title="Width sweeps on a ladder of 7-input targets (K_LZ 7 to 147): test error and learned-function complexity",
    # 12 seeds: a per-point SE of about 0.02 in test error, so the SE of a peak-minus-minimum difference is about
    # 0.03 and a 2-SE call needs a bump of about 0.06 (the 3-seed run could not tell 0.38 from 0.31).
    scales={"quick": _scale(["x1", "counting:0"], [2, 8, 64], 3, [0.0, 0.2], 300, 1),
            "default": _scale(LADDER, [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 64, 128], 12, [0.0, 0.2], 2000, 2),
            "paper": _scale([*LADDER, "majority", "counting:1"],
                            [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 64, 128, 256, 512], 40,
                            [0.0, 0.1, 0.2, 0.3], 5000, 2)},
    compute=compute, render=render, seed=0,
    sample_counts=lambda c: {"seeds": c["seeds"], "train_inputs": c["n_train"], "targets": len(c["targets"])},
)
