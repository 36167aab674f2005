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
    # reference priors of the critique (docs/definitions.md §8): exact Bayes only, nothing to train
    "tree-4": {"prior": "tree", "params": {"depth": 4}},
    "dnf-3x3": {"prior": "dnf", "params": {"terms": 3, "literals": 3}},
    "circuit-4": {"prior": "circuit", "params": {"depth": 4}},
    "knn-4": {"prior": "knn", "params": {"k": 4}},
    "gp-rbf-1": {"prior": "gp", "params": {"kernel": "rbf", "length_scale": 1.0}},
}
NETWORKS = ("relu-a", "relu-b", "tanh-1", "tanh-8", "perceptron")
REFERENCE = ("tree-4", "dnf-3x3", "circuit-4", "knn-4", "gp-rbf-1")
TITLES = {"relu-a": "7-40-40-1 ReLU (a)", "relu-b": "7-40-40-1 ReLU (b)", "tanh-1": r"10x40 tanh $\sigma_w=1$",
          "tanh-8": r"10x40 tanh $\sigma_w=8$", "perceptron": "perceptron", "counting": "counting measure",
          "tree-4": "tree, depth 4", "dnf-3x3": "DNF, 3 terms of 3", "circuit-4": "circuit, depth 4",
          "knn-4": "nearest neighbour, k = 4", "gp-rbf-1": "GP, RBF l = 1"}


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
    bayes = bayes.merge(gp_estimates(config, seed, domain, conds, keys), on=["prior", "target", "m"], how="left")
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


def gp_kernel(label: str, domain):
    """The Gaussian process behind a prior, where it has one: the NNGP limit of a network, the gp prior's own."""
    from biasprobe.gp import kernels

    prior = build_prior(PRIORS[label])
    if prior.name in ("mlp", "perceptron"):
        return kernels.network_kernel(prior, domain.points)
    if prior.name == "gp":
        return prior.kernel_matrix(domain)
    return None


def gp_estimates(config: dict, seed: int, domain, conds, keys) -> pd.DataFrame:
    """ln P(S) under each prior's Gaussian process: EP with a probit link (Valle-Perez et al.'s approximation) and
    the hard-threshold orthant probability (minimax-tilted GHK), for every training set; NaN without a GP."""
    from biasprobe.gp.ep import ep_probit
    from biasprobe.gp.orthant import orthant_ghk

    rows = []
    for label in config["gp_priors"]:
        kern = gp_kernel(label, domain)
        train = [np.flatnonzero(c.mask_bits()) for c in conds]
        ys = [c.target_bits()[t].astype(int) for c, t in zip(conds, train)]
        ep = {}
        for m in sorted({len(t) for t in train}):
            idx = [i for i, t in enumerate(train) if len(t) == m]
            res = ep_probit(np.stack([kern[np.ix_(train[i], train[i])] for i in idx]), np.stack([ys[i] for i in idx]))
            ep.update({i: (float(z), bool(ok)) for i, z, ok in zip(idx, res.log_z, res.converged)})
        for i, (key, t, y) in enumerate(zip(keys.to_dict("records"), train, ys)):
            est = orthant_ghk(kern[np.ix_(t, t)], y, samples=config["ghk_samples"],
                              seed=child_seed(seed, "ghk", label, key["target"], key["m"]))
            rows.append({"prior": label, "target": key["target"], "m": key["m"], "ln_p_ep": ep[i][0],
                         "ep_converged": ep[i][1], "ln_p_gp": est.log_p, "ln_p_gp_lo": est.log_lo,
                         "ln_p_gp_hi": est.log_hi})
    cols = ["prior", "target", "m", "ln_p_ep", "ep_converged", "ln_p_gp", "ln_p_gp_lo", "ln_p_gp_hi"]
    return pd.DataFrame(rows, columns=cols)


def with_gp_bounds(bayes: pd.DataFrame, config: dict) -> pd.DataFrame:
    """PAC-Bayes bounds (paper form) from the exact, EP and GP-orthant ln P(S)."""
    from biasprobe.learning import pac_bayes_bound

    df = bayes.copy()
    for stem in ("ep", "gp"):
        lp = np.minimum(df[f"ln_p_{stem}"].to_numpy(float), 0.0)
        ok = np.isfinite(lp) | np.isneginf(lp)
        df[f"bound_{stem}"] = np.where(ok, pac_bayes_bound(np.where(ok, lp, 0.0), df["m"].to_numpy(),
                                                           delta=config["delta"]), np.nan)
    return df


BANDS = [0, 35, 70, 105, 200]


def versus_reference(bayes: pd.DataFrame, networks, reference) -> pd.DataFrame:
    """Mean exact-Bayes error per prior on the (target, m) pairs that every compared prior measures, per K band."""
    labels = [p for p in [*networks, *reference] if p != "counting"]
    b = bayes[bayes["prior"].isin(labels)]
    wide = b.pivot_table(index=["target", "lz", "m"], columns="prior", values="test_error_mean")
    ok = b.pivot_table(index=["target", "lz", "m"], columns="prior", values="measurable")
    ok = ok.reindex(index=wide.index, columns=labels).fillna(0).astype(bool)
    shared = wide.reindex(columns=labels)[ok.all(axis=1).to_numpy()].reset_index()
    shared["band"] = pd.cut(shared["lz"], BANDS, right=False).astype(str)
    rows = []
    for (band, m), g in shared.groupby(["band", "m"], sort=True):
        rows.append({"lz_band": band, "m": int(m), "targets": len(g), **{p: float(g[p].mean()) for p in labels}})
    cols = ["lz_band", "m", "targets", *labels]
    return pd.DataFrame(rows, columns=cols)


def gp_table(gp: pd.DataFrame, config: dict) -> pd.DataFrame:
    from biasprobe.results import mean_ci

    rows = []
    with np.errstate(divide="ignore"):
        exact = np.log(gp["p_s"].to_numpy(float))
    gp = gp.assign(ln_p_exact=exact)
    for (label, m), g in gp.groupby(["prior", "m"], sort=False):
        meas = g[g["measurable"]]
        rec = {"prior": label, "m": int(m), "measurable": len(meas), "problems": len(g)}
        for stem in ("gp", "ep"):
            d = (meas[f"ln_p_{stem}"] - meas["ln_p_exact"]).to_numpy(float)
            mean, lo, hi = mean_ci(d) if len(d) else (np.nan, np.nan, np.nan)
            rec.update({f"d_ln_p_{stem}": mean, f"d_ln_p_{stem}_lo": lo, f"d_ln_p_{stem}_hi": hi,
                        f"d_bound_{stem}": float((meas[f"bound_{stem}"] - meas["bound_paper"]).mean())
                        if len(meas) else np.nan})
        rows.append(rec)
    return pd.DataFrame(rows)


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


def _panels(bayes, trained, config, labels, ms):
    fig, axes = new_figure(len(ms), len(labels), width=2.4 * len(labels) + 0.6, height=2.2 * len(ms) + 0.6,
                           sharex=True, sharey=True)
    axes = np.asarray(axes).reshape(len(ms), len(labels))
    colours = {"bayes": "black", "sgd": "#0072B2", "adam": "#E69F00", "bound": "#999999", "ep": "#CC79A7",
               "gp": "#009E73"}
    for i, m in enumerate(ms):
        for j, label in enumerate(labels):
            ax = axes[i, j]
            g = bayes.query("prior == @label and m == @m").sort_values("lz")
            meas = g[g["measurable"]]
            ax.errorbar(meas["lz"], meas["test_error_mean"],
                        yerr=[meas["test_error_mean"] - meas["test_error_lo"].fillna(meas["test_error_mean"]),
                              meas["test_error_hi"].fillna(meas["test_error_mean"]) - meas["test_error_mean"]],
                        fmt="o", ms=3, lw=0.8, color=colours["bayes"], label="exact Bayes")
            ax.plot(meas["lz"], meas["bound_paper"], ls="none", marker="_", ms=8, mew=1.5, color=colours["bound"],
                    label="PAC-Bayes bound, exact P(S)")
            if g["ln_p_gp"].notna().any():
                ax.plot(g["lz"], g["bound_gp"], ls="none", marker="1", ms=5, color=colours["gp"],
                        label="bound, GP orthant P(S)")
                ax.plot(g["lz"], g["bound_ep"], ls="none", marker="2", ms=5, color=colours["ep"],
                        label="bound, EP (probit) P(S)")
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
                                fmt="s", ms=2.5, lw=0.6, color=colours.get(opt, "C2"), alpha=0.85,
                                label=opt.upper())
            if label == "counting":
                ax.axhline(0.5, color="#D55E00", lw=0.8, ls="--", label="exact: 1/2")
            ax.set_ylim(-0.03, 1.08)
            if i == 0:
                ax.set_title(TITLES.get(label, label), fontsize="small")
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
    fig.legend(handles, names, loc="outside lower center", ncol=min(len(names), 4), fontsize=7)
    return fig


def render(tables, config, out) -> None:
    bayes, trained = with_gp_bounds(tables["bayes"], config), tables["trained"]
    ms = list(config["m"])
    networks = [p for p in config["priors"] if p not in REFERENCE]
    reference = [p for p in config["priors"] if p in REFERENCE]
    out.figure("error_vs_complexity", _panels(bayes, trained, config, networks, ms),
               caption="Test error against the target's K_LZ on bool:7, one column per prior and one row per "
                       "training-set size m: the exact Bayesian posterior's mean error by rejection sampling (black, "
                       "95% intervals; x at the top where P(S) is too small to measure), SGD and Adam from the "
                       "prior's initialisation (fitted runs only), and the PAC-Bayes bound (paper form) from the exact "
                       "P(S) and from the prior's NNGP (hard-threshold orthant and EP with a probit link); the "
                       "counting measure's exact expected error 1/2 is dashed.")
    if reference:
        out.figure("error_vs_complexity_reference", _panels(bayes, trained, config, reference, ms),
                   caption="The same for the non-neural reference priors of the critique on the same targets and "
                           "training sets: exact Bayesian error and its PAC-Bayes bound (for the GP also the "
                           "orthant and EP estimates of its own P(S)); there is nothing to train.")
        out.table("reference_vs_networks", versus_reference(bayes, networks, reference),
                  caption="Mean exact-Bayes test error over the targets every listed prior can measure, per K_LZ "
                          "band and m: networks beside the reference priors on identical (target, S) pairs, with the "
                          "number of shared targets; a blank means fewer than one shared target in that band.",
                  n="targets")
    gp = bayes[bayes["ln_p_gp"].notna()]
    if len(gp):
        out.table("gp_estimates", gp_table(gp, config),
                  caption="How far the Gaussian-process estimates of ln P(S) are from the exact value (where at least "
                          f"{config['min_accepted']} draws were accepted): mean difference with a 95% t-interval per "
                          "prior and m, for the hard-threshold orthant probability and for EP with a probit link, and "
                          "the mean change these make to the PAC-Bayes bound.", n="problems")
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
            min_accepted=5, workers=2, named=NAMED, ghk_samples=2000):
    priors = priors or list(PRIORS)
    opts = {k: {**v, **({"max_epochs": max_epochs[k]} if max_epochs else {})} for k, v in OPTIMIZERS.items()}
    return {"domain": "bool:7", "priors": priors,
            "train_priors": train_priors if train_priors is not None else [p for p in priors if p in NETWORKS],
            "gp_priors": [p for p in priors if p in NETWORKS or p == "gp-rbf-1"], "ghk_samples": ghk_samples,
            "samples": {p: samples[p] for p in priors},
            "ladder": {"pool_samples": pool, "max_flips": 40, "edges": EDGES, "per_band": per_band,
                       "named": list(named)},
            "m": list(m), "runs": {p: runs.get(p, runs["default"]) for p in priors if p in NETWORKS},
            "optimizers": opts, "delta": 2.0**-10, "min_accepted": min_accepted,
            "workers": workers}


QUICK = {"relu-a": 20_000, "perceptron": 20_000, "counting": 20_000, "tree-4": 20_000, "gp-rbf-1": 20_000}
# a 10x40 tanh network costs about 60 times a 7-40-40-1 ReLU one to sample and 7 times to train
DEFAULT = {"relu-a": 2_000_000, "relu-b": 2_000_000, "tanh-1": 50_000, "tanh-8": 50_000,
           "perceptron": 4_000_000, "counting": 1_000_000, **{p: 2_000_000 for p in REFERENCE}}
PAPER = {"relu-a": 100_000_000, "relu-b": 100_000_000, "tanh-1": 10_000_000, "tanh-8": 10_000_000,
         "perceptron": 100_000_000, "counting": 100_000_000, **{p: 100_000_000 for p in REFERENCE}}

EXPERIMENT = Experiment(
    name="generalisation-vs-complexity",
    title="Exact Bayes, SGD and Adam test error and PAC-Bayes bounds (exact, GP, EP) vs target K_LZ: networks, the "
          "counting measure and reference priors, m = 16/32/64",
    scales={"quick": _config(QUICK, 2_000, 1, {"default": 2}, priors=list(QUICK), train_priors=["perceptron"],
                             m=(16, 64), max_epochs={"sgd": 5, "adam": 5}, workers=1, named=["majority"],
                             ghk_samples=200),
            "default": _config(DEFAULT, 20_000, 2, {"default": 12, "tanh-1": 6, "tanh-8": 6}),
            "paper": _config(PAPER, 200_000, 5, {"default": 250},
                             max_epochs={"sgd": 10_000, "adam": 10_000})},
    compute=compute,
    render=render,
    seed=0,
    sample_counts=lambda config: {f"samples_{k}": v for k, v in config["samples"].items()},
)
