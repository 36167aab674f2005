"""entropy-bias: the distribution of T (number of ones) under neural and reference priors on bool:7 and pm1:7."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.analysis import (binary_entropy, counting_pmf, kl_bits, ones_histogram,
                                            perceptron_pmf, weighted_mean_ci)
from biasprobe.sweep import child_seed, convention, ones, sample
from biasprobe.results import new_figure, wilson_ci


def _priors(depths=(1, 2, 3, 4, 5), sigma_bs=(0.1, 0.5, 1.0, 2.0, 4.0)):
    specs = [
        {"label": "counting", "group": "reference", "prior": "counting"},
        {"label": "perceptron, no bias", "group": "reference", "prior": "perceptron", "params": {"bias": False}},
    ]
    specs += [{"label": f"perceptron, sigma_b={s:g}", "group": "perceptron",
               "prior": "perceptron", "params": {"sigma_b": s}} for s in sigma_bs]
    for d in depths:
        specs.append({"label": f"relu depth {d}", "group": "relu", "prior": "mlp",
                      "params": {"hidden": [40] * d, "activation": "relu"}})
        specs.append({"label": f"relu depth {d}, no bias", "group": "relu (no bias)", "prior": "mlp",
                      "params": {"hidden": [40] * d, "activation": "relu", "sigma_b": 0.0}})
    specs += [
        {"label": "tanh depth 2", "group": "other", "prior": "mlp", "params": {"hidden": [40, 40], "activation": "tanh"}},
        {"label": "tanh depth 5", "group": "other", "prior": "mlp", "params": {"hidden": [40] * 5, "activation": "tanh"}},
        {"label": "x^2 network depth 1", "group": "other", "prior": "polynomial",
         "params": {"family": "network", "degree": 2, "hidden": [40]}},
        {"label": "degree-2 PTF", "group": "other", "prior": "polynomial", "params": {"family": "ptf", "degree": 2}},
    ]
    return specs


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain

    hist_rows, prior_rows = [], []
    for dspec in config["domains"]:
        domain = parse_domain(dspec)
        n_points = domain.n_points
        for spec in config["priors"]:
            c, prior = sample(spec, domain, config["samples"], child_seed(seed, dspec, spec["label"]))
            counts, nonfinite = c.counts, c.nonfinite
            hist = ones_histogram(ones(c), counts, n_points)
            hist_rows.append(pd.DataFrame({"domain": dspec, "prior": spec["label"], "ones": np.arange(n_points + 1),
                                           "count": hist.astype(np.int64)}))
            prior_rows.append({"domain": dspec, "prior": spec["label"], "group": spec["group"],
                               "convention": convention(prior), "spec": prior.label(),
                               "samples": int(config["samples"]), "finite": int(counts.sum()),
                               "nonfinite": nonfinite, "distinct": int(len(counts))})
    return {"ones": pd.concat(hist_rows, ignore_index=True), "priors": pd.DataFrame(prior_rows)}


def summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (domain, prior): P(constant), mean entropy, KL(P_T || Binomial) in bits, with 95% CIs."""
    rows = []
    for rec in tables["priors"].to_dict("records"):
        h = tables["ones"].query("domain == @rec['domain'] and prior == @rec['prior']").sort_values("ones")
        n_points = int(h["ones"].max())
        count = h["count"].to_numpy()
        total = int(count.sum())
        const = int(count[0] + count[-1])
        lo, hi = wilson_ci(const, total)
        ent, ent_lo, ent_hi = weighted_mean_ci(binary_entropy(h["ones"].to_numpy() / n_points), count)
        rows.append({"domain": rec["domain"], "prior": rec["prior"], "convention": rec["convention"],
                     "n": total, "nonfinite": rec["nonfinite"],
                     "p_constant": const / total, "p_constant_lo": lo, "p_constant_hi": hi,
                     "mean_entropy": ent, "mean_entropy_lo": ent_lo, "mean_entropy_hi": ent_hi,
                     "kl_bits": kl_bits(count, counting_pmf(n_points))})
    return pd.DataFrame(rows)


def _panel(ax, tables, dspec, labels, title, theory=False, styles=None):
    ones = tables["ones"]
    n_points = int(ones["ones"].max())
    t = np.arange(n_points + 1)
    exact_uniform = theory and dspec.startswith("bool")  # the perceptron theorem is about {0,1}^n
    ax.plot(t, counting_pmf(n_points), color="black", lw=1, ls="--", label="counting (exact)")
    if exact_uniform:
        ax.plot(t[:-1], perceptron_pmf(n_points)[:-1], color="0.55", lw=3.5, alpha=0.6, zorder=1,
                label="perceptron, no bias (exact)")
    floor = 1.0
    for lab in labels:
        h = ones.query("domain == @dspec and prior == @lab").sort_values("ones")
        c = h["count"].to_numpy()
        p = c / c.sum()
        m = c > 0
        lo, hi = wilson_ci(c, c.sum())
        style = {"marker": "o", "ms": 2, "lw": 0.6, **(styles or {}).get(lab, {})}
        if m.sum() == 1:  # a point mass (the bias-free perceptron on pm1:n): a stem and a large marker
            (k,) = np.flatnonzero(m)
            style.update(marker="*", ms=9, lw=0, mec="black", mew=0.5)
            (line,) = ax.plot(t[m], p[m], label=f"{lab}: all mass at T = {k}", zorder=4, **style)
            ax.vlines(t[k], 1e-300, p[k], color=line.get_color(), lw=1.5, zorder=3)
        else:
            (line,) = ax.plot(t[m], p[m], label=lab, **style)
        # 95% Wilson intervals of every sampled probability (visible where counts are small: the tails)
        ax.errorbar(t[m], p[m], yerr=[p[m] - lo[m], hi[m] - p[m]], fmt="none", ecolor=line.get_color(),
                    elinewidth=0.7, alpha=0.8, zorder=2)
        floor = min(floor, 0.3 / c.sum())
    ax.set_yscale("log")
    ax.set_ylim(floor, 4.0)  # the binomial's far tails (2^-128) would squash every sampled curve
    ax.set_xlabel("T (number of ones)")
    ax.set_ylabel("P(T)")
    ax.set_title(title)
    # below the axes, never over the data (the point mass at P = 1 sits where a legend would go)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=5, ncol=2, frameon=False)


def _relu_styles(labels):
    """One colour per depth; solid with biases, dashed without (ten curves would exhaust the palette)."""
    import seaborn as sns

    depths = sorted({lab.split("depth ")[1].split(",")[0] for lab in labels}, key=int)
    colours = dict(zip(depths, sns.color_palette("viridis", len(depths))))
    return {lab: {"color": colours[lab.split("depth ")[1].split(",")[0]],
                  "ls": "--" if "no bias" in lab else "-", "marker": "." if "no bias" in lab else "o"}
            for lab in labels}


def render(tables, config, out) -> None:
    labels = [s["label"] for s in config["priors"]]
    groups = {s["label"]: s["group"] for s in config["priors"]}
    by = lambda g: [lab for lab in labels if groups[lab] == g]  # noqa: E731
    relu = by("relu") + by("relu (no bias)")
    # half-width of the 95% Wilson interval of P = 1/2^n, relative to P: how wide the bars can be at most
    n_points = int(tables["ones"]["ones"].max())
    lo, hi = wilson_ci(config["samples"] / n_points, config["samples"])
    rel = (hi - lo) / 2 * n_points
    for dspec in config["domains"]:
        fig, axes = new_figure(2, 2, width=7.2, height=7.6)
        _panel(axes[0, 0], tables, dspec, by("reference"), "reference priors", theory=True)
        _panel(axes[0, 1], tables, dspec, by("perceptron"), "perceptron with bias")
        _panel(axes[1, 0], tables, dspec, relu, "ReLU MLPs, width 40 (dashed: no bias)", styles=_relu_styles(relu))
        _panel(axes[1, 1], tables, dspec, by("other"), "tanh and polynomial networks")
        fig.suptitle(f"P(T) on {dspec}")
        tag = dspec.replace(":", "")
        out.figure(f"p_ones_{tag}", fig,
                   caption=f"Distribution of the number of ones T on {dspec} for each prior (log scale), against "
                           "the exact binomial law of the counting measure"
                           + (" and the exact uniform law of the bias-free perceptron (thick grey)" if tag.startswith("bool")
                              else "; the bias-free perceptron is odd on pm1:n, so all its mass sits at T = 2^(n-1) (star)")
                           + f"; bars are the samples' 95% Wilson intervals, visible in the tails where counts are small "
                             f"(at P = 1/{n_points} and {config['samples']:,} draws they are ±{rel:.1%} of P).")
    out.table("summary", summary(tables),
              caption="P(constant function), mean truth-table entropy (bits) and KL(P_T || Binomial(N, 1/2)) in "
                      "bits for every prior, with the weight convention each uses.",
              n="n", ci=["p_constant", "mean_entropy"])


EXPERIMENT = Experiment(
    name="entropy-bias",
    title="P(T) and P(constant) for counting, perceptron, ReLU (depth 1-5, +/- bias), tanh, polynomial on bool:7 and pm1:7",
    scales={
        "quick": {"domains": ["bool:7", "pm1:7"], "samples": 4_000, "priors": _priors(depths=(1, 3), sigma_bs=(1.0,))},
        "default": {"domains": ["bool:7", "pm1:7"], "samples": 200_000, "priors": _priors()},
        "paper": {"domains": ["bool:7", "pm1:7"], "samples": 100_000_000, "priors": _priors()},
    },
    compute=compute,
    render=render,
    seed=0,
)
