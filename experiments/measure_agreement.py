"""measure-agreement: rank correlations among all registered Boolean measures, and each one's distribution per prior."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.sweep import child_seed, convention, expand, sample_functions
from biasprobe.results import mean_ci, new_figure


def _measured_draws(spec, domain, samples, slow_samples, seed, names):
    """Per-draw measure values: fast measures on every draw, slow ones on a seeded subset of slow_samples draws."""
    from biasprobe.measures import compute, get_measure

    bits, counts, nonfinite, prior = sample_functions(spec, domain, samples, seed)
    fast = [n for n in names if not get_measure(n).slow]
    slow = [n for n in names if get_measure(n).slow]
    per_fn = compute(fast, bits, domain)
    fn_index = expand(np.arange(len(counts)), counts)  # draw -> distinct function
    # draws are exchangeable, but the sampler returns them grouped by function: shuffle before subsetting
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    fn_index = fn_index[rng.permutation(len(fn_index))]
    frame = pd.DataFrame({n: per_fn[n][fn_index] for n in fast})
    if slow:
        chosen = np.unique(fn_index[:slow_samples])
        vals = compute(slow, bits[chosen], domain)
        for n in slow:
            full = np.full(len(counts), np.nan)
            full[chosen] = vals[n]
            col = np.full(len(fn_index), np.nan)
            col[:slow_samples] = full[fn_index[:slow_samples]]
            frame[n] = col
    return frame, prior, nonfinite


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain
    from biasprobe.measures import list_measures

    domain = parse_domain(config["domain"])
    names = [n for n in list_measures("boolean") if n not in config["exclude"]]
    frames, priors = [], []
    for spec in config["priors"]:
        frame, prior, nonfinite = _measured_draws(spec, domain, config["samples"], config["slow_samples"],
                                                  child_seed(seed, spec["label"]), names)
        frame.insert(0, "prior", spec["label"])
        frames.append(frame)
        priors.append({"prior": spec["label"], "convention": convention(prior), "spec": prior.label(),
                       "nonfinite": nonfinite})
    return {"draws": pd.concat(frames, ignore_index=True), "priors": pd.DataFrame(priors)}


def correlations(draws: pd.DataFrame) -> pd.DataFrame:
    """Spearman rho for every pair of measures over all draws pooled, with a Fisher-z 95% CI (Fieller et al. 1957)."""
    names = [c for c in draws.columns if c != "prior"]
    values = draws[names]
    rho = values.corr(method="spearman", min_periods=4)  # pairwise-complete: slow measures cover a subset
    present = values.notna().to_numpy(dtype=np.int64)
    counts = present.T @ present
    rows = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b, n, r = names[j], int(counts[i, j]), float(rho.iloc[i, j])
            if np.isfinite(r) and abs(r) < 1:
                z, se = np.arctanh(r), np.sqrt(1.06 / (n - 3))
                lo, hi = np.tanh(z - 1.96 * se), np.tanh(z + 1.96 * se)
            else:
                lo = hi = r
            rows.append({"measure_a": a, "measure_b": b, "n": n, "spearman": r, "spearman_lo": lo,
                         "spearman_hi": hi})
    return pd.DataFrame(rows)


def distributions(draws: pd.DataFrame, priors: pd.DataFrame) -> pd.DataFrame:
    """Mean of every measure under every prior with its 95% CI, and the shift from the counting measure in SDs."""
    names = [c for c in draws.columns if c != "prior"]
    conv = dict(zip(priors["prior"], priors["convention"]))
    rows = []
    for name in names:
        ref = draws.loc[draws["prior"] == "counting", name].dropna()
        for prior, grp in draws.groupby("prior", sort=False):
            x = grp[name].dropna().to_numpy()
            m, lo, hi = mean_ci(x)
            sd = ref.std(ddof=1)
            rows.append({"measure": name, "prior": prior, "weights": conv.get(prior, ""), "n": len(x),
                         "mean": m, "mean_lo": lo, "mean_hi": hi,
                         "shift_vs_counting_sd": (m - ref.mean()) / sd if sd > 0 else np.nan})
    return pd.DataFrame(rows)


# Okabe & Ito's colour-blind-safe palette: hues far apart (no two oranges), each with its own dash as well.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
DASHES = ["-", "-.", (0, (5, 1.5)), ":", (0, (3, 1, 1, 1, 1, 1)), "-", "-."]


def _styles(labels) -> dict:
    """Colour and dash per prior: the counting measure black and dashed, the others Okabe-Ito colours in order."""
    out, k = {}, 0
    for lab in labels:
        if lab == "counting":
            out[lab] = {"color": "black", "ls": "--"}
        else:
            out[lab] = {"color": OKABE_ITO[k % len(OKABE_ITO)], "ls": DASHES[k % len(DASHES)]}
            k += 1
    return out


def render(tables, config, out) -> None:
    draws = tables["draws"]
    names = [c for c in draws.columns if c != "prior"]
    corr = correlations(draws)
    mat = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for r in corr.to_dict("records"):
        mat.loc[r["measure_a"], r["measure_b"]] = mat.loc[r["measure_b"], r["measure_a"]] = r["spearman"]
    fig, ax = new_figure(width=6.4, height=5.4)
    import seaborn as sns

    sns.heatmap(mat, ax=ax, vmin=-1, vmax=1, cmap="vlag", annot=True, fmt=".2f", annot_kws={"size": 5},
                square=True, cbar_kws={"shrink": 0.7, "label": "Spearman rho"})
    ax.set_title(f"rank correlation over {len(config['priors'])} priors pooled")
    out.figure("spearman", fig,
               caption="Spearman rank correlations among all registered Boolean measures over functions drawn from "
                       "every prior pooled (slow measures on a seeded subset of draws).")

    ncols = 4
    nrows = -(-len(names) // ncols)
    fig, axes = new_figure(nrows, ncols, width=8.0, height=2.0 * nrows + 0.9)
    axes = np.atleast_1d(axes).ravel()
    labels = [p["label"] for p in config["priors"]]
    styles = _styles(labels)
    for i, (ax, name) in enumerate(zip(axes, names)):
        for lab in labels:
            x = np.sort(draws.loc[draws["prior"] == lab, name].dropna().to_numpy())
            if x.size == 0:
                continue
            # the ECDF at its jumps only (measures are discrete): a few hundred vertices instead of every draw
            xs, last = np.unique(x, return_index=True)
            last = np.append(last[1:], x.size)
            ax.step(xs, last / x.size, where="post", lw=1.1, label=lab, **styles[lab])
        ax.set_title(name, fontsize=7)
        ax.set_xlabel(f"{name} value", fontsize=6)
        if i % ncols == 0:
            ax.set_ylabel("fraction of draws ≤ value", fontsize=6)
        ax.tick_params(labelsize=5)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    handles, labs = axes[0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="outside lower center", ncol=len(labels), fontsize=6)
    out.figure("distributions", fig,
               caption="Empirical CDF of every Boolean measure (x: the measure's value; y: the fraction of draws at or "
                       "below it) under each prior, with the counting measure black and dashed; colours from the "
                       "Okabe-Ito colour-blind-safe palette, each prior also with its own line style.")
    out.table("correlations", corr,
              caption="Spearman rank correlation for every pair of Boolean measures over all priors' draws pooled, "
                      "with Fisher-z 95% intervals.", n="n", ci=["spearman"], inline=False)
    out.table("means", distributions(draws, tables["priors"]),
              caption="Mean of each measure under each prior with its 95% CI, and its shift from the counting "
                      "measure's mean in units of the counting measure's standard deviation.", n="n", ci=["mean"])


def _priors():
    return [
        {"label": "counting", "prior": "counting"},
        {"label": "perceptron", "prior": "perceptron", "params": {"sigma_b": 1.0}},
        {"label": "relu 7-40-40-1", "prior": "mlp", "params": {"hidden": [40, 40], "activation": "relu"}},
        {"label": "tanh depth 10, sigma_w=2", "prior": "mlp",
         "params": {"hidden": [40] * 10, "activation": "tanh", "sigma_w": 2.0, "sigma_b": 0.1}},
        {"label": "degree-3 PTF", "prior": "polynomial", "params": {"family": "ptf", "degree": 3}},
    ]


def _config(samples, slow_samples):
    return {"domain": "bool:7", "priors": _priors(), "samples": samples, "slow_samples": slow_samples,
            "exclude": []}


EXPERIMENT = Experiment(
    name="measure-agreement",
    title="Spearman correlations among all Boolean measures, and each measure's distribution per prior vs counting",
    scales={"quick": _config(1_000, 100), "default": _config(20_000, 1_000), "paper": _config(1_000_000, 20_000)},
    compute=compute,
    render=render,
    seed=0,
)
