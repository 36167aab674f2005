"""volume-vs-degeneracy: does the LLC at networks implementing f track f's exact prior volume P(f) (and K_LZ) under 7-40-40-1 ReLU?"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment

SUBSETS = ("all", "half")


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    import time

    import torch

    from biasprobe.domains import parse_domain
    from biasprobe.sweep import child_seed, measure_counts, sample
    from biasprobe.slt.mlp import MLPPotential, StackedMLP, flatness
    from biasprobe.slt.tuning import auto_config
    from biasprobe.slt.volume import fit_networks, llc_at_solutions, select_functions
    from biasprobe.tables import bits_to_hex

    timing = {}
    t0 = time.perf_counter()
    domain = parse_domain(config["domain"])
    spec = {"prior": "mlp", "params": {"hidden": config["hidden"], "activation": "relu", "convention": "a"}}
    counts, prior = sample(spec, domain, config["samples"], child_seed(seed, "prior"))
    lz = measure_counts("lz", counts, domain)["lz"]
    idx = select_functions(counts.counts, lz, config["levels"], config["min_count"], config["per_level"],
                           head=config["head"])
    bits = counts.bits()[idx] if counts.distinct <= 4 * 10**6 else None
    if bits is None:  # paper scale: unpack only the chosen rows
        from biasprobe.tables import unpack

        bits = unpack(counts.words[idx], domain.n_points)
    total = int(counts.counts.sum())
    functions = pd.DataFrame({"function": bits_to_hex(bits), "count": counts.counts[idx], "samples": total,
                              "p": counts.counts[idx] / total, "lz": lz[idx], "ones": bits.sum(1)})
    functions["neg_log10_p"] = -np.log10(functions["p"])
    timing["sampling"] = time.perf_counter() - t0

    # one row per (function, training set, initialisation)
    net = StackedMLP.from_prior(prior, domain)
    x = domain.points.astype(np.float32)
    rows, targets, masks, seeds = [], [], [], []
    for f, b in enumerate(bits):
        half = np.zeros(domain.n_points, bool)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 64, f]))
        half[rng.choice(domain.n_points, domain.n_points // 2, replace=False)] = True
        for subset, mask in (("all", np.ones(domain.n_points, bool)), ("half", half)):
            for k in range(config["inits"]):
                rows.append({"function": functions["function"][f], "f": f, "subset": subset, "init": k})
                targets.append(2.0 * b - 1.0)
                masks.append(mask)
                seeds.append(np.random.SeedSequence([seed, 17, f, k]))  # the same initialisation for both subsets
    targets, masks = np.asarray(targets, np.float32), np.asarray(masks)
    t1 = time.perf_counter()
    threads = config["threads"]
    thetas, train_loss, init_loss = fit_networks(net, targets, masks, x, seeds, steps=config["train_steps"],
                                                 lr=config["lr"], final_lr=config["final_lr"], tol=config["tol"],
                                                 threads=threads)
    timing["training"] = time.perf_counter() - t1
    with torch.no_grad():
        out = net.forward(thetas, torch.as_tensor(x)).numpy()
    learned = (out > 0).astype(np.uint8)

    # one (ε, γ) for every solution, so their λ̂ are comparable: the automatic sweep on representative
    # networks (all-input fits of the most and the least probable function), keeping the largest γ and
    # the smallest ε either needed
    t2 = time.perf_counter()
    sol = pd.DataFrame(rows)
    reps = [int(sol.index[(sol.f == f) & (sol.subset == "all") & (sol.init == 0)][0])
            for f in sorted({0, len(functions) - 1})]
    sweeps = []
    for r in reps:
        pot = MLPPotential(net, x, targets[r][None], masks[r][None])
        cfg, sweep = auto_config(pot, thetas[r], chains=config["chains"], draws=config["draws"],
                                 burn_in=config["burn_in"], seed=seed + r, threads=threads, **config["tuning"])
        for k, row in enumerate(sweep["rows"]):
            sweeps.append({"representative": int(r), "function": sol.function[r], "level": k,
                           **{key: row[key] for key in ("gamma", "step", "acceptance", "llc", "llc_se", "virial",
                                                        "virial_se", "drift_z", "stable", "chosen")}})
    tuning = pd.DataFrame(sweeps)
    chosen = tuning[tuning.chosen]
    gamma, step = float(chosen.gamma.max()), float(chosen.step.min())
    timing["tuning"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    est = llc_at_solutions(net, thetas, targets, masks, x, step, gamma, chains=config["chains"],
                           burn_in=config["burn_in"], draws=config["draws"], seed=seed, threads=threads)
    timing["llc"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    flat = {k: np.empty(len(sol)) for k in ("hessian_trace", "hessian_top", "jacobian_rank")}
    for subset in SUBSETS:
        sel = np.flatnonzero(sol.subset == subset)
        fl = flatness(net, thetas[sel], x, masks[sel])
        for k in flat:
            flat[k][sel] = fl[k]
    timing["flatness"] = time.perf_counter() - t4
    sol["n"] = masks.sum(1)
    sol["train_loss"] = train_loss
    sol["init_loss"] = init_loss
    sol["fits"] = train_loss <= config["fit_tol"]
    sol["implements_f"] = (learned == bits[sol.f.to_numpy()]).all(1)
    sol["agreement_all"] = (learned == bits[sol.f.to_numpy()]).mean(1)
    for k, v in est.items():
        sol[k] = v
    for k, v in flat.items():
        sol[k] = v
    sol["gamma"], sol["step"] = gamma, step
    sol = sol.merge(functions[["function", "p", "neg_log10_p", "lz"]], on="function")
    what = {"sampling": f"{config['samples']:,} draws of the prior, counted exactly; K_LZ of every distinct function",
            "training": f"{len(sol)} networks, full-batch Adam, {config['train_steps']} steps at most",
            "tuning": f"automatic (ε, γ) sweep on {len(reps)} representative networks",
            "llc": f"{len(sol)} networks × {config['chains']} chains × ({config['burn_in']} + {config['draws']}) steps",
            "flatness": "Gauss-Newton trace, top eigenvalue and Jacobian rank of every network"}
    timing_df = pd.DataFrame({"part": list(timing), "what": [what[k] for k in timing],
                              "seconds": list(timing.values())})
    return {"functions": functions, "solutions": sol, "tuning": tuning, "timing": timing_df}


def correlations(sol: pd.DataFrame, reps: int, seed: int) -> pd.DataFrame:
    """Spearman ρ between per-function means (over initialisations) with a bootstrap over functions.

    `functions` = "all" uses every selected function; "non-constant" drops the two constant functions,
    whose 73% of the prior could carry a rank correlation on their own.
    """
    from biasprobe.slt.volume import spearman_ci

    rows = []
    ok = sol[sol.fits]
    pairs = [("llc", "neg_log10_p"), ("llc", "lz"), ("hessian_trace", "neg_log10_p"),
             ("hessian_top", "neg_log10_p"), ("jacobian_rank", "neg_log10_p"), ("llc", "hessian_trace"),
             ("neg_log10_p", "lz")]
    constant = {"0" * 32, "f" * 32}
    for which, frame in (("all", ok), ("non-constant", ok[~ok.function.isin(constant)])):
        for subset, g in frame.groupby("subset", sort=False):
            means = g.groupby("function").agg({c: "mean" for c in {a for p in pairs for a in p}})
            for a, b in pairs:
                rho, lo, hi = spearman_ci(means[a], means[b], reps=reps, seed=seed)
                rows.append({"subset": subset, "functions_used": which, "x": b, "y": a, "functions": len(means),
                             "solutions": len(g), "spearman": rho, "spearman_lo": lo, "spearman_hi": hi})
    return pd.DataFrame(rows, columns=["subset", "functions_used", "x", "y", "functions", "solutions", "spearman",
                                       "spearman_lo", "spearman_hi"])


def _verdict(c: pd.DataFrame) -> str:
    parts = []
    for subset, label in (("all", "fits to all 128 inputs"), ("half", "fits to 64 inputs")):
        r = c[(c.subset == subset) & (c.y == "llc") & (c.x == "neg_log10_p") & (c.functions_used == "all")]
        if r.empty or not math.isfinite(r.spearman.iloc[0]):
            continue
        rho, lo, hi = r.spearman.iloc[0], r.spearman_lo.iloc[0], r.spearman_hi.iloc[0]
        if lo > 0:
            word = "λ̂ rises with −log P(f): less probable functions sit at less degenerate minima, as 'LLC measures basin volume' predicts"
        elif hi < 0:
            word = "λ̂ falls with −log P(f), the opposite of what 'LLC measures basin volume' predicts"
        else:
            word = "no monotone relation between λ̂ and −log P(f) is resolved, so these data do not support 'LLC measures basin volume'"
        nc = c[(c.subset == subset) & (c.y == "llc") & (c.x == "neg_log10_p") & (c.functions_used == "non-constant")]
        extra = ""
        if not nc.empty and math.isfinite(nc.spearman.iloc[0]):
            nlo, nhi = nc.spearman_lo.iloc[0], nc.spearman_hi.iloc[0]
            same = (nlo > 0) == (lo > 0) and (nhi < 0) == (hi < 0)
            extra = (f" (without the two constant functions ρ = {nc.spearman.iloc[0]:.2f} [{nlo:.2f}, {nhi:.2f}]"
                     + ("" if same else ", an interval that includes 0") + ")")
        parts.append(f"{label}: Spearman ρ = {rho:.2f} [{lo:.2f}, {hi:.2f}]{extra}: {word}")
    return "; ".join(parts) + "." if parts else "Too few fitted functions for a verdict."


def render(tables, config, out) -> None:
    from biasprobe.results import new_figure

    sol, funcs = tables["solutions"], tables["functions"]
    corr = correlations(sol, config["bootstrap"], 0)
    ok = sol[sol.fits]
    gamma, step = float(sol.gamma.iloc[0]), float(sol.step.iloc[0])
    verdict = _verdict(corr)
    tuning = tables["tuning"]
    weaker = tuning[(tuning.gamma < gamma) & ~tuning.stable]
    tr = corr[(corr.y == "llc") & (corr.x == "hessian_trace") & (corr.functions_used == "all")]
    if len(weaker):
        caveat = (f" The shared γ is the largest any representative network needed: at weaker localisation its "
                  f"chains were out of equilibrium within the run (virial ratio {weaker.virial.min():.2f}–"
                  f"{weaker.virial.max():.2f} instead of 1), so λ̂ here counts the directions the loss pins down "
                  "more firmly than γ does — closer to a flatness measure than to the asymptotic learning coefficient"
                  + (f" (ρ with the Hessian trace {tr.spearman.min():.2f}–{tr.spearman.max():.2f})" if len(tr) else "")
                  + ".")
    else:
        caveat = ""
    labels = {"all": "trained on all 128 inputs", "half": "trained on 64 inputs"}

    def scatter(ycol, xcol, ylabel, xlabel, name, caption, logy=False):
        fig, axes = new_figure(1, 2, width=8.4, height=3.4, sharey=True)
        for ax, subset in zip(axes, SUBSETS):
            g = ok[ok.subset == subset]
            sc = ax.scatter(g[xcol], g[ycol], c=g["lz"], cmap="viridis", s=10, alpha=0.5, lw=0)
            means = g.groupby("function").agg({xcol: "mean", ycol: "mean", "lz": "mean"})
            ax.scatter(means[xcol], means[ycol], c=means["lz"], cmap="viridis", s=40, edgecolor="black", lw=0.6,
                       vmin=sc.get_clim()[0], vmax=sc.get_clim()[1])
            r = corr[(corr.subset == subset) & (corr.y == ycol) & (corr.x == xcol) & (corr.functions_used == "all")]
            title = labels[subset]
            if not r.empty and math.isfinite(r.spearman.iloc[0]):
                title += f"\nSpearman ρ = {r.spearman.iloc[0]:.2f} [{r.spearman_lo.iloc[0]:.2f}, {r.spearman_hi.iloc[0]:.2f}]"
            ax.set_title(title)
            ax.set_xlabel(xlabel)
            if logy:
                ax.set_yscale("log")
        axes[0].set_ylabel(ylabel)
        fig.colorbar(sc, ax=axes, label=r"$K_{LZ}$", shrink=0.8)
        out.figure(name, fig, caption)

    scatter("llc", "neg_log10_p", r"$\hat\lambda$ at the trained network", r"$-\log_{10} P(f)$ (exact prior count)",
            "llc_vs_volume",
            f"LLC estimates at 7-40-40-1 ReLU networks trained (Gaussian likelihood, targets ±1) to functions f of "
            f"exactly counted prior probability P(f) under convention (a) ({int(funcs['samples'].iloc[0]):,} draws), "
            f"one small dot per initialisation and a ringed dot per function (colour: K_LZ), with one shared ε = {step:.3g}, "
            f"γ = {gamma:.3g} from the automatic sweep; {verdict}{caveat}")
    scatter("llc", "lz", r"$\hat\lambda$ at the trained network", r"$K_{LZ}(f)$", "llc_vs_lz",
            "The same LLC estimates against the Lempel-Ziv complexity of the target function, with Spearman ρ of "
            "the per-function means and a 95% bootstrap interval over functions.")
    fig, axes = new_figure(2, 2, width=8.4, height=6.2, sharex=True)
    for j, subset in enumerate(SUBSETS):
        g = ok[ok.subset == subset]
        for i, (col, lab) in enumerate((("hessian_trace", "trace of the Hessian"), ("hessian_top", "top Hessian eigenvalue"))):
            ax = axes[i, j]
            ax.scatter(g["neg_log10_p"], g[col], c=g["lz"], cmap="viridis", s=10, alpha=0.6, lw=0)
            ax.set_yscale("log")
            r = corr[(corr.subset == subset) & (corr.y == col) & (corr.x == "neg_log10_p") & (corr.functions_used == "all")]
            if not r.empty and math.isfinite(r.spearman.iloc[0]):
                ax.set_title(f"{labels[subset]}: ρ = {r.spearman.iloc[0]:.2f} "
                             f"[{r.spearman_lo.iloc[0]:.2f}, {r.spearman_hi.iloc[0]:.2f}]", fontsize="small")
            ax.set_ylabel(lab)
            if i == 1:
                ax.set_xlabel(r"$-\log_{10} P(f)$")
    out.figure("flatness_vs_volume", fig,
               "Hessian flatness at the same interpolating minima (the Gauss-Newton matrix JᵀJ/n, which equals the "
               "Hessian of the Gaussian likelihood where the residuals vanish): trace and top eigenvalue against "
               "-log10 P(f), Spearman ρ of per-function means with 95% bootstrap intervals.")
    out.table("correlations", corr.round(4),
              f"Spearman rank correlations between per-function means (over {config['inits']} initialisations; only "
              f"networks whose training loss reached {config['fit_tol']:g}), with 95% bootstrap intervals over "
              f"functions ({config['bootstrap']} resamples), for every selected function and without the two "
              f"constant ones: λ̂, Hessian trace and top eigenvalue and the rank of the output Jacobian against "
              f"-log10 P(f) and K_LZ. {verdict}",
              n="functions", ci=["spearman"])
    fsum = (sol.groupby(["function", "subset"]).agg(llc=("llc", "mean"), llc_sd=("llc", "std"),
                                                      hessian_trace=("hessian_trace", "mean"),
                                                      jacobian_rank=("jacobian_rank", "mean"), fits=("fits", "sum"),
                                                      implements_f=("implements_f", "sum"))
            .reset_index().merge(funcs[["function", "count", "p", "lz"]], on="function")
            .sort_values(["subset", "p"], ascending=[True, False]))
    out.table("functions", fsum.round(6),
              "Per function and training set: exact prior count and probability, K_LZ, the mean and spread of λ̂ over "
              "initialisations, mean Hessian trace and Jacobian rank, how many networks fitted and how many implement "
              "f on all 128 inputs.", inline=False)
    cols = ["function", "subset", "init", "n", "p", "lz", "train_loss", "fits", "implements_f", "agreement_all", "llc",
            "llc_se", "acceptance", "virial", "min_late_energy", "hessian_trace", "hessian_top", "jacobian_rank"]
    out.table("solutions", sol[cols].round(6),
              "Every trained network: its training set, final loss, whether it implements f on all inputs, λ̂ with its "
              "between-chain SE, MALA acceptance, virial ratio, the lowest late-chain mean of nβ(L − L*) (negative: "
              "the chains found lower loss than w*), and the Gauss-Newton flatness.", inline=False)
    out.table("tuning", tables["tuning"].round(6),
              "The automatic (ε, γ) sweep on the representative networks; the experiment uses the largest chosen γ "
              "and the smallest chosen ε for every network.", inline=False)
    out.record("compute_seconds", {str(r["part"]): round(float(r["seconds"]), 2)
                                   for r in tables["timing"].to_dict("records")})
    out.table("computation", tables["timing"].drop(columns=["seconds"]),
              "What each part of the computation did (its seconds are in the provenance).")


def _config(samples, levels, per_level, min_count, inits, train_steps, chains, burn_in, draws, tuning, bootstrap,
            threads=2, fit_tol=1e-3):
    return {"domain": "bool:7", "hidden": [40, 40], "samples": samples, "levels": levels, "per_level": per_level,
            "min_count": min_count, "head": 2, "inits": inits, "train_steps": train_steps, "lr": 1e-2, "final_lr": 1e-4,
            "tol": 1e-5, "fit_tol": fit_tol, "chains": chains, "burn_in": burn_in, "draws": draws, "tuning": tuning,
            "bootstrap": bootstrap, "threads": threads}


TUNE_QUICK = {"levels": 2, "pilot_chains": 2, "rounds": 1, "round_steps": 8, "remeasure": 0}
TUNE = {"levels": 5, "pilot_chains": 4, "rounds": 5, "round_steps": 100, "remeasure": 1}

EXPERIMENT = Experiment(
    name="volume-vs-degeneracy",
    title="LLC and Hessian flatness at 7-40-40-1 ReLU networks trained to functions of exactly counted prior volume P(f)",
    scales={"quick": _config(20_000, 3, 1, 2, 1, 30, 2, 5, 10, TUNE_QUICK, 100, threads=1, fit_tol=10.0),
            "default": _config(2_000_000, 8, 2, 3, 3, 3000, 4, 200, 800, TUNE, 2000),
            "paper": _config(100_000_000, 12, 3, 10, 5, 6000, 8, 500, 2000, TUNE, 5000)},
    compute=compute, render=render, seed=0,
)
