"""sgd-vs-bayes: P_SGD(f | S) from many training runs against the exact posterior P_B(f | S) by rejection sampling (Mingard et al., JMLR 2021)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.sweep import build_prior, child_seed, convention
from biasprobe.results import new_figure

PRIOR = {"prior": "mlp", "params": {"hidden": [40, 40], "convention": "a"}}  # Mingard et al.: sigma_w = sigma_b = 1


def choose_targets(config: dict, seed: int, domain, stored) -> list:
    """Targets drawn from the prior itself (an independent pool), each with a seeded split of m inputs; keep those
    with enough accepted draws for a posterior worth comparing, spread over K_LZ (constants excluded)."""
    from biasprobe.learning import evidence, make_condition
    from biasprobe.measures import compute as measures
    from biasprobe.sampling import sample_counts

    pool = sample_counts(build_prior(PRIOR), domain, config["pool_samples"], child_seed(seed, "pool"))
    bits = pool.bits()[: config["candidates"]]
    lz = measures(["lz"], bits, domain)["lz"]
    hexes = pool.hex()[: config["candidates"]]
    conds = [make_condition(domain, h, train_size=config["m"], split_seed=child_seed(seed, "split", h))
             for h in hexes]
    ev = evidence(stored, conds)
    ok = np.flatnonzero((ev["accepted"].to_numpy() >= config["min_accepted"]) & (lz > 7))
    if not len(ok):
        return []
    ok = ok[np.argsort(lz[ok], kind="stable")]
    picks = np.unique(np.round(np.linspace(0, len(ok) - 1, config["targets"])).astype(int))
    return [(conds[ok[i]], float(lz[ok[i]])) for i in picks]


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain
    from biasprobe.learning import TrainSpec, posterior_from_table
    from biasprobe.learning.compare import agreement, scatter_points
    from biasprobe.learning.training import train_jobs
    from biasprobe.sampling import sample_counts

    domain = parse_domain(config["domain"])
    prior = build_prior(PRIOR)
    stored = sample_counts(prior, domain, config["samples"], child_seed(seed, "bayes"))
    chosen = choose_targets(config, seed, domain, stored)
    conds = [c for c, _ in chosen]
    targets, posts = [], []
    for i, (c, lz) in enumerate(chosen):
        post = posterior_from_table(stored, c)
        mean, lo, hi = post.mean_test_error()
        plo, phi = post.p_s_interval()
        targets.append({"target_id": i, "target": c.target_hex, "lz": lz, "mask": c.mask_hex, "m": c.m,
                        "samples": post.samples, "accepted": post.accepted, "p_s": post.p_s, "p_s_lo": plo,
                        "p_s_hi": phi, "distinct": post.distinct, "bayes_error": mean, "bayes_error_lo": lo,
                        "bayes_error_hi": hi})
        posts.append(post)
    del stored

    jobs = []
    for name, fields in config["trainings"].items():
        fields = {**fields, "batch_size": None if fields["batch_size"] == "full" else fields["batch_size"]}
        jobs.append({"prior": prior, "domain": domain, "conditions": conds, "runs": config["runs"],
                     "spec": TrainSpec(**fields), "seed": child_seed(seed, "train", name)})
    rows, points = [], []
    for name, results in zip(config["trainings"], train_jobs(jobs, config["workers"]) if conds else []):
        for i, (r, post) in enumerate(zip(results, posts)):
            words, counts = r.counts()
            s = r.summary()
            a = agreement(words, counts, post.words, post.counts, factor=config["factor"], boot=config["bootstrap"],
                          seed=child_seed(seed, "boot", name, i))
            rows.append({"training": name, "spec": r.spec.label(), "target_id": i, "lz": targets[i]["lz"],
                         "runs": s["runs"], "fitted": s["fitted"], "never_fit": s["never_fit"],
                         "lost_fit": s["lost_fit"], "nonfinite": s["nonfinite"],
                         "fit_epoch_median": float(s["fit_epochs"]["median"] or np.nan),
                         "sgd_error": s["test_error_mean"], "bayes_error": targets[i]["bayes_error"],
                         **{k: a[k] for k in ("bayes_draws", "distinct_sgd", "distinct_bayes", "both_seen")},
                         **{k: a[k] for k in a if k.startswith(("mass_", "spearman"))}})
            pts = scatter_points(words, counts, post.words, post.counts, post.condition)
            pts.insert(0, "target_id", i)
            pts.insert(0, "training", name)
            points.append(pts)
    agree = pd.DataFrame(rows)
    for col in ("sgd_error", "bayes_error", "spearman", "spearman_lo", "spearman_hi"):
        if col in agree:
            agree[col] = agree[col].astype(float)
    return {"targets": pd.DataFrame(targets), "agreement": agree,
            "points": pd.concat(points, ignore_index=True) if points else pd.DataFrame(
                columns=["training", "target_id", "function", "sgd_count", "bayes_count", "p_sgd", "p_bayes",
                         "test_error"]),
            "prior": pd.DataFrame([{"prior": prior.label(), "convention": convention(prior),
                                    "samples": config["samples"], "m": config["m"]}])}


def render(tables, config, out) -> None:
    targets, agree, points = tables["targets"], tables["agreement"], tables["points"]
    names = list(config["trainings"])
    n_t = max(len(targets), 1)
    fig, axes = new_figure(n_t, len(names), width=2.3 * len(names) + 0.6, height=2.3 * n_t + 0.5,
                           sharex=True, sharey=True)
    axes = np.asarray(axes).reshape(n_t, len(names))
    lo = -5.0
    for i in range(len(targets)):
        for j, name in enumerate(names):
            ax = axes[i, j]
            p = points.query("training == @name and target_id == @i")
            both = p[(p["sgd_count"] > 0) & (p["bayes_count"] > 0)]
            only = p[(p["sgd_count"] == 0) | (p["bayes_count"] == 0)]
            floor = 10**lo
            ax.scatter(np.log10(both["p_bayes"]), np.log10(both["p_sgd"]), s=6, alpha=0.6, lw=0,
                       c=both["test_error"], cmap="viridis", vmin=0, vmax=0.5)
            ax.scatter(np.log10(np.maximum(only["p_bayes"], floor)), np.log10(np.maximum(only["p_sgd"], floor)),
                       s=3, alpha=0.25, lw=0, color="0.5")
            g = np.linspace(lo, 0, 2)
            ax.plot(g, g, color="black", lw=0.8)
            ax.plot(g, g + 1, color="black", lw=0.5, ls=":")
            ax.plot(g, g - 1, color="black", lw=0.5, ls=":")
            a = agree.query("training == @name and target_id == @i")
            if len(a):
                r = a.iloc[0]
                ax.text(0.03, 0.97, f"mass within 10x: {r['mass_sgd_agree']:.2f}\n"
                        f"Spearman {r['spearman']:.2f}", transform=ax.transAxes, va="top", fontsize=6)
            ax.set_xlim(lo - 0.2, 0.1)
            ax.set_ylim(lo - 0.2, 0.1)
            if i == 0:
                ax.set_title(name, fontsize=7)
            if j == 0:
                ax.set_ylabel(f"K_LZ = {targets['lz'].iloc[i]:g}\n" + r"$\log_{10} P_{SGD}(f|S)$")
            if i == n_t - 1:
                ax.set_xlabel(r"$\log_{10} P_B(f|S)$ (exact)")
    out.figure("sgd_vs_bayes", fig,
               caption="P_SGD(f|S) from training runs against the exact posterior P_B(f|S) by rejection sampling, "
                       "7-40-40-1 ReLU (a), one row per (target, S) and one column per optimizer/loss/batch; colour "
                       "is the function's test error (0 to 0.5), grey points were found by one side only (drawn at "
                       "the 1e-5 floor), the solid line is equality and dotted lines a factor of 10.")
    out.table("targets", targets.drop(columns=["mask"]),
              caption="The (target, S) pairs: K_LZ, accepted draws and P(S) with its Clopper-Pearson interval, and "
                      "the exact posterior's mean test error.", n="samples", ci={"p_s": ("p_s_lo", "p_s_hi"),
                                                                                  "bayes_error": ("bayes_error_lo",
                                                                                                  "bayes_error_hi")})
    show = agree[["training", "spec", "target_id", "lz", "runs", "fitted", "never_fit", "distinct_sgd",
                  "distinct_bayes", "both_seen", "mass_sgd_agree", "mass_sgd_agree_lo", "mass_sgd_agree_hi",
                  "mass_bayes_agree", "mass_bayes_agree_lo", "mass_bayes_agree_hi", "spearman", "spearman_lo",
                  "spearman_hi", "sgd_error", "bayes_error"]] if len(agree) else agree
    off = 0
    for stat in ("mass_sgd_agree", "mass_bayes_agree", "spearman"):
        if len(agree):
            off += int(((agree[stat] < agree[f"{stat}_lo"]) | (agree[stat] > agree[f"{stat}_hi"])).sum())
    out.table("agreement", show,
              caption=f"Agreement of P_SGD and P_B per training setup and target: the probability mass (of each) on "
                      f"functions both found with probabilities within {config['factor']:g}x, and the Spearman rank "
                      "correlation over functions both found, with bootstrap 95% percentile intervals (both count "
                      "vectors resampled), beside the mean test errors. "
                      f"{off} of {3 * len(agree)} intervals exclude their point estimate: a resample loses rare "
                      "functions, so these statistics are biased at these sample sizes by about the interval's "
                      "width, and such an interval shows the spread of the estimate, not where the true value "
                      "lies.", n="runs",
              ci=["mass_sgd_agree", "mass_bayes_agree", "spearman"] if len(agree) else None)


TRAININGS = {
    "SGD CE b8": {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9, "batch_size": 8, "loss": "ce", "max_epochs": 1000},
    "SGD MSE b8": {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9, "batch_size": 8, "loss": "mse",
                   "max_epochs": 1000},
    "SGD CE full": {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9, "batch_size": "full", "loss": "ce",
                    "max_epochs": 3000},
    "Adam MSE full": {"optimizer": "adam", "lr": 5e-4, "momentum": 0.0, "batch_size": "full", "loss": "mse",
                      "max_epochs": 3000},
    "Adam CE b8": {"optimizer": "adam", "lr": 5e-4, "momentum": 0.0, "batch_size": 8, "loss": "ce",
                   "max_epochs": 1000},
}


def _config(samples, runs, targets, m=32, min_accepted=1000, pool=20_000, candidates=400, trainings=None,
            bootstrap=200, workers=2):
    return {"domain": "bool:7", "samples": samples, "runs": runs, "targets": targets, "m": m,
            "min_accepted": min_accepted, "pool_samples": pool, "candidates": candidates,
            "trainings": trainings or TRAININGS, "factor": 10.0, "bootstrap": bootstrap, "workers": workers}


EXPERIMENT = Experiment(
    name="sgd-vs-bayes",
    title="P_SGD(f|S) vs the exact P_B(f|S) on log-log axes: SGD and Adam, CE and MSE, small and full batches",
    scales={"quick": _config(20_000, 8, 1, m=16, min_accepted=50, pool=2_000, candidates=50, bootstrap=20,
                             trainings={k: {**TRAININGS[k], "max_epochs": 30} for k in ("SGD CE b8", "Adam MSE full")},
                             workers=1),
            "default": _config(5_000_000, 1000, 3),
            "paper": _config(100_000_000, 100_000, 6, min_accepted=10_000, pool=100_000, candidates=2000)},
    compute=compute,
    render=render,
    seed=0,
)
