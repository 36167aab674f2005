"""generalisation-vs-complexity: exact Bayes, SGD and Adam test errors and the PAC-Bayes bound against the target's K_LZ, per prior and training-set size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.sweep import build_prior, child_seed, convention
from biasprobe.results import new_figure

TANH10 = [40] * 10
PRIORS = {
    "relu-a": {"prior": "mlp", "params": {"hidden": [40, 40], "convention": "a"}},
    "relu-b": {"prior": "mlp", "params": {"hidden": [40, 40], "convention": "b"}},
    "tanh-1": {"prior": "mlp", "params": {"hidden": TANH10, "activation": "tanh", "sigma_w": 1.0, "sigma_b": 0.1}},
    "tanh-8": {"prior": "mlp", "params": {"hidden": TANH10, "activation": "tanh", "sigma_w": 8.0, "sigma_b": 0.1}},
    "perceptron": {"prior": "perceptron"},
    "counting": {"prior": "counting"},
}
TITLES = {"relu-a": "7-40-40-1 ReLU (a)", "relu-b": "7-40-40-1 ReLU (b)", "tanh-1": r"10x40 tanh $\sigma_w=1$",
          "tanh-8": r"10x40 tanh $\sigma_w=8$", "perceptron": "perceptron", "counting": "counting measure"}


def ladder(config: dict, seed: int, domain) -> pd.DataFrame:
    """Targets spanning K_LZ: functions drawn from 7-40-40-1 ReLU (a), the same with random bits flipped, the counting
    measure, and named balanced functions of docs/definitions.md §2 (x_1, repeated patterns, majority, parity)."""
    from biasprobe.learning.ladder import flipped, named_targets, target_ladder
    from biasprobe.sampling import sample_counts

    lad = config["ladder"]
    relu = sample_counts(build_prior(PRIORS["relu-a"]), domain, lad["pool_samples"], child_seed(seed, "pool", "relu"))
    count = sample_counts(build_prior(PRIORS["counting"]), domain, lad["pool_samples"] // 4,
                          child_seed(seed, "pool", "counting"))
    rng = np.random.Generator(np.random.PCG64(child_seed(seed, "pool", "flips")))
    base = relu.bits()
    flips = rng.integers(1, lad["max_flips"] + 1, len(base))
    pools = {"relu-a draw": base, "relu-a draw, bits flipped": flipped(base, flips, rng), "counting draw": count.bits()}
    named = {k: v for k, v in named_targets(domain).items() if k in lad["named"]}
    return target_ladder(domain, pools, lad["edges"], lad["per_band"], child_seed(seed, "ladder"), fixed=named)


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain
    from biasprobe.learning import TrainSpec, evidence, make_condition, pac_bayes_from_p_s
    from biasprobe.learning.training import train_jobs
    from biasprobe.sampling import sample_counts

    domain = parse_domain(config["domain"])
    targets = ladder(config, seed, domain)
    conds, keys = [], []
    for rec in targets.to_dict("records"):
        for m in config["m"]:
            split = child_seed(seed, "split", rec["target"], m)
            conds.append(make_condition(domain, rec["target"], train_size=m, split_seed=split))
            keys.append({"target": rec["target"], "lz": rec["lz"], "m": m, "mask": conds[-1].mask_hex})
    keys = pd.DataFrame(keys)

    bayes, priors = [], []
    for label in config["priors"]:
        prior = build_prior(PRIORS[label])
        c = sample_counts(prior, domain, config["samples"][label], child_seed(seed, "prior", label))
        ev = evidence(c, conds).drop(columns=["target", "mask", "m"])
        frame = pd.concat([keys, ev], axis=1)
        frame.insert(0, "prior", label)
        frame["nonfinite"] = c.nonfinite
        bayes.append(frame)
        priors.append({"prior": label, "spec": prior.label(), "convention": convention(prior),
                       "samples": c.samples, "nonfinite": c.nonfinite, "distinct": c.distinct,
                       "wall_time_s": round(c.wall_time, 2)})
        del c
    bayes = pd.concat(bayes, ignore_index=True)
    bayes["measurable"] = bayes["accepted"] >= config["min_accepted"]
    for variant in ("paper", "code"):
        # the bound at the estimated P(S), and at its lower confidence limit (conservative); none when unmeasured
        for col, p in ((f"bound_{variant}", bayes["p_s"]), (f"bound_{variant}_conservative", bayes["p_s_lo"])):
            bound = pac_bayes_from_p_s(p.to_numpy(), bayes["m"].to_numpy(), delta=config["delta"], variant=variant)
            bayes[col] = np.where(bayes["measurable"], bound, np.nan)

    jobs, labels = [], []
    # costliest stacks first (deep tanh), so the two worker threads finish together
    for label in sorted(config["train_priors"], key=lambda p: -len(PRIORS[p].get("params", {}).get("hidden", []))):
        for opt, fields in config["optimizers"].items():
            fields = {**fields, "batch_size": None if fields["batch_size"] == "full" else fields["batch_size"]}
            jobs.append({"prior": build_prior(PRIORS[label]), "domain": domain, "conditions": conds,
                         "runs": config["runs"][label], "spec": TrainSpec(**fields),
                         "seed": child_seed(seed, "train", label, opt)})
            labels.append((label, opt))
    trained = []
    for (label, opt), results in zip(labels, train_jobs(jobs, config["workers"])):
        for key, r in zip(keys.to_dict("records"), results):
            s = r.summary()
            trained.append({"prior": label, "optimizer": opt, **key, "runs": s["runs"], "fitted": s["fitted"],
                            "never_fit": s["never_fit"], "lost_fit": s["lost_fit"], "nonfinite": s["nonfinite"],
                            "test_error": s["test_error_mean"], "test_error_lo": s["test_error_lo"],
                            "test_error_hi": s["test_error_hi"], "fit_epoch_median": s["fit_epochs"]["median"],
                            "fit_epoch_max": s["fit_epochs"]["max"], "training": r.spec.label()})
    trained = pd.DataFrame(trained)
    for col in ("test_error", "test_error_lo", "test_error_hi", "fit_epoch_median", "fit_epoch_max"):
        trained[col] = trained[col].astype(float)
    return {"ladder": targets, "bayes": bayes, "trained": trained, "priors": pd.DataFrame(priors)}


def summary(tables) -> pd.DataFrame:
    """Per prior and m: how many targets have a measurable P(S), P(S) and accepted draws across the ladder."""
    rows = []
    b = tables["bayes"]
    for (label, m), g in b.groupby(["prior", "m"], sort=False):
        meas = g[g["measurable"]]
        rows.append({"prior": label, "m": int(m), "targets": len(g), "measurable": len(meas),
                     "max_lz_measurable": float(meas["lz"].max()) if len(meas) else np.nan,
                     "p_s_median": float(g["p_s"].median()), "p_s_min_measured": float(meas["p_s"].min())
                     if len(meas) else np.nan, "accepted_median": float(g["accepted"].median()),
                     "accepted_min": int(g["accepted"].min()), "accepted_max": int(g["accepted"].max()),
                     "samples": int(g["samples"].iloc[0]),
                     "bayes_error_mean": float(meas["test_error_mean"].mean()) if len(meas) else np.nan})
    return pd.DataFrame(rows)


def render(tables, config, out) -> None:
    bayes, trained = tables["bayes"], tables["trained"]
    priors = list(config["priors"])
    ms = list(config["m"])
    fig, axes = new_figure(len(ms), len(priors), width=2.4 * len(priors) + 0.6, height=2.2 * len(ms) + 0.6,
                           sharex=True, sharey=True)
    axes = np.asarray(axes).reshape(len(ms), len(priors))
    colours = {"bayes": "black", "sgd": "C0", "adam": "C1", "bound": "C7"}
    for i, m in enumerate(ms):
        for j, label in enumerate(priors):
            ax = axes[i, j]
            g = bayes.query("prior == @label and m == @m").sort_values("lz")
            meas = g[g["measurable"]]
            ax.errorbar(meas["lz"], meas["test_error_mean"],
                        yerr=[meas["test_error_mean"] - meas["test_error_lo"].fillna(meas["test_error_mean"]),
                              meas["test_error_hi"].fillna(meas["test_error_mean"]) - meas["test_error_mean"]],
                        fmt="o", ms=3, lw=0.8, color=colours["bayes"], label="exact Bayes")
            ax.plot(meas["lz"], meas["bound_paper"], ls="none", marker="_", ms=8, color=colours["bound"],
                    label="PAC-Bayes bound")
            unmeas = g[~g["measurable"]]
            ax.plot(unmeas["lz"], np.full(len(unmeas), 1.04), ls="none", marker="x", ms=3, color="0.5",
                    label="P(S) not measurable")
            for opt in config["optimizers"]:
                t = trained.query("prior == @label and m == @m and optimizer == @opt").sort_values("lz")
                t = t[t["fitted"] > 0]
                if len(t):
                    ax.errorbar(t["lz"] + (1.2 if opt == "adam" else -1.2), t["test_error"],
                                yerr=[t["test_error"] - t["test_error_lo"].fillna(t["test_error"]),
                                      t["test_error_hi"].fillna(t["test_error"]) - t["test_error"]],
                                fmt="s", ms=2.5, lw=0.6, color=colours.get(opt, "C2"), alpha=0.85, label=opt.upper())
            if label == "counting":
                ax.axhline(0.5, color="C3", lw=0.8, ls="--", label="exact: 1/2")
            ax.set_ylim(-0.03, 1.08)
            if i == 0:
                ax.set_title(TITLES.get(label, label))
            if j == 0:
                ax.set_ylabel(f"m = {m}\ntest error")
            if i == len(ms) - 1:
                ax.set_xlabel(r"target $K_{LZ}$")
    handles, names = [], []
    for ax in axes.flat:
        for h, n in zip(*ax.get_legend_handles_labels()):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=7)
    out.figure("error_vs_complexity", fig,
               caption="Test error against the target's K_LZ on bool:7, one column per prior and one row per "
                       "training-set size m: the exact Bayesian posterior's mean error by rejection sampling (black, "
                       "95% intervals; x at the top where P(S) is too small to measure), SGD and Adam from the "
                       "prior's initialisation (fitted runs only), and the PAC-Bayes bound (paper form) from the exact "
                       "P(S); the counting measure's exact expected error 1/2 is dashed.")
    out.table("ladder", tables["ladder"],
              caption="The target ladder: seeded picks per K_LZ band from 7-40-40-1 ReLU (a) draws, the same draws "
                      "with random bits flipped, and counting-measure draws, plus named balanced functions (hex "
                      "truth tables, canonical order).")
    out.table("p_s_summary", summary(tables),
              caption="P(S) and accepted draws across the ladder per prior and m: targets with a measurable P(S) "
                      f"(at least {config['min_accepted']} accepted draws), median P(S), the accepted counts and the "
                      "mean exact Bayes error over the measurable targets.", n="samples")
    b = bayes.drop(columns=["mask"])
    out.table("bayes", b,
              caption="Per prior, target and m: accepted draws, P(S) with its Clopper-Pearson interval (and the "
                      "one-sided upper bound), the exact posterior's mean test error with its interval, and the "
                      "PAC-Bayes bounds (paper and code forms, at P(S) and at its lower limit) where measurable.",
              n="samples", ci={"p_s": ("p_s_lo", "p_s_hi"), "test_error_mean": ("test_error_lo", "test_error_hi")},
              inline=False)
    out.table("trained", trained.drop(columns=["mask"]),
              caption="Per prior, optimizer, target and m: runs, runs fitted, never fitted within the epoch limit, "
                      "lost after extra epochs or non-finite, the fitted runs' mean test error with its interval and "
                      "the epochs they needed.", n="runs", ci=["test_error"], inline=False)
    out.record("sampling_seconds", dict(zip(tables["priors"]["prior"], tables["priors"]["wall_time_s"])))
    out.table("priors", tables["priors"].drop(columns=["wall_time_s"]),
              caption="The priors: parameter convention, draws made for P(S), non-finite draws and distinct functions "
                      "(sampling times are in the provenance).", n="samples")


OPTIMIZERS = {
    # Valle-Perez et al. (2019)'s code: SGD lr 1e-3, momentum 0.9, batch 10, cross-entropy
    "sgd": {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9, "batch_size": 10, "loss": "ce", "max_epochs": 500},
    # Mingard et al. (2025) Fig. 1c: Adam lr 5e-4, full batch, MSE
    "adam": {"optimizer": "adam", "lr": 5e-4, "momentum": 0.0, "batch_size": "full", "loss": "mse",
             "max_epochs": 2000},
}
EDGES = [0, 10, 35, 60, 85, 110, 135, 200]


NAMED = ["x_1", "0001 repeated", "1001 repeated", "10011010 repeated", "majority", "parity"]


def _config(samples, pool, per_band, runs, priors=None, train_priors=None, m=(16, 32, 64), max_epochs=None,
            min_accepted=5, workers=2, named=NAMED):
    priors = priors or list(PRIORS)
    opts = {k: {**v, **({"max_epochs": max_epochs[k]} if max_epochs else {})} for k, v in OPTIMIZERS.items()}
    return {"domain": "bool:7", "priors": priors,
            "train_priors": train_priors if train_priors is not None else [p for p in priors if p != "counting"],
            "samples": {p: samples[p] for p in priors},
            "ladder": {"pool_samples": pool, "max_flips": 40, "edges": EDGES, "per_band": per_band,
                       "named": list(named)},
            "m": list(m), "runs": {p: runs.get(p, runs["default"]) for p in priors if p != "counting"},
            "optimizers": opts, "delta": 2.0**-10, "min_accepted": min_accepted,
            "workers": workers}


QUICK = {"relu-a": 20_000, "perceptron": 20_000, "counting": 20_000}
# a 10x40 tanh network costs about 60 times a 7-40-40-1 ReLU one to sample and 7 times to train
DEFAULT = {"relu-a": 2_000_000, "relu-b": 2_000_000, "tanh-1": 50_000, "tanh-8": 50_000,
           "perceptron": 4_000_000, "counting": 1_000_000}
PAPER = {"relu-a": 100_000_000, "relu-b": 100_000_000, "tanh-1": 10_000_000, "tanh-8": 10_000_000,
         "perceptron": 100_000_000, "counting": 100_000_000}

EXPERIMENT = Experiment(
    name="generalisation-vs-complexity",
    title="Exact Bayes, SGD and Adam test error and the PAC-Bayes bound vs target K_LZ, six priors, m = 16/32/64",
    scales={"quick": _config(QUICK, 2_000, 1, {"default": 2}, priors=list(QUICK), train_priors=["perceptron"],
                             m=(16, 64), max_epochs={"sgd": 5, "adam": 5}, workers=1, named=["majority"]),
            "default": _config(DEFAULT, 20_000, 2, {"default": 12, "tanh-1": 6, "tanh-8": 6}),
            "paper": _config(PAPER, 200_000, 5, {"default": 250},
                             max_epochs={"sgd": 10_000, "adam": 10_000})},
    compute=compute,
    render=render,
    seed=0,
    sample_counts=lambda config: {f"samples_{k}": v for k, v in config["samples"].items()},
)
