"""order-to-chaos: the K_LZ prior of deep tanh (and ReLU) networks on bool:7 as sigma_w grows, against the counting measure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.analysis import weighted_mean_ci
from biasprobe.sweep import child_seed, convention, measure_counts, ones, sample
from biasprobe.results import new_figure, wilson_ci


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain

    domain = parse_domain(config["domain"])
    hist, runs = [], []
    for act in config["activations"]:
        for sw in config["sigma_w"]:
            spec = {"prior": "mlp", "params": {"hidden": [config["width"]] * config["depth"], "activation": act,
                                               "sigma_w": sw, "sigma_b": config["sigma_b"]}}
            c, prior = sample(spec, domain, config["samples"], child_seed(seed, act, sw))
            counts, nonfinite = c.counts, c.nonfinite
            k = measure_counts("lz", c, domain)["lz"]
            h = pd.DataFrame({"lz": k, "count": counts}).groupby("lz", as_index=False)["count"].sum()
            h.insert(0, "sigma_w", float(sw))
            h.insert(0, "activation", act)
            hist.append(h)
            t = ones(c)
            runs.append({"activation": act, "sigma_w": float(sw), "convention": convention(prior),
                         "finite": int(counts.sum()), "nonfinite": nonfinite, "distinct": int(len(counts)),
                         "constant": int(counts[(t == 0) | (t == domain.n_points)].sum())})
    c, _ = sample({"prior": "counting"}, domain, config["reference_samples"], child_seed(seed, "counting"))
    k = measure_counts("lz", c, domain)["lz"]
    ref = pd.DataFrame({"lz": k, "count": c.counts}).groupby("lz", as_index=False)["count"].sum()
    ref.insert(0, "sigma_w", np.inf)
    ref.insert(0, "activation", "counting")
    return {"lz": pd.concat([*hist, ref], ignore_index=True), "runs": pd.DataFrame(runs)}


def _ks(k1, w1, k2, w2) -> float:
    """Kolmogorov-Smirnov distance between two weighted discrete distributions."""
    grid = np.union1d(k1, k2)
    c1 = np.array([w1[k1 <= g].sum() for g in grid]) / w1.sum()
    c2 = np.array([w2[k2 <= g].sum() for g in grid]) / w2.sum()
    return float(np.abs(c1 - c2).max())


def summary(tables) -> pd.DataFrame:
    lz = tables["lz"]
    ref = lz.query("activation == 'counting'")
    rk, rw = ref["lz"].to_numpy(), ref["count"].to_numpy().astype(float)
    rows = []
    for rec in tables["runs"].to_dict("records"):
        h = lz.query("activation == @rec['activation'] and sigma_w == @rec['sigma_w']")
        k, w = h["lz"].to_numpy(), h["count"].to_numpy().astype(float)
        m, lo, hi = weighted_mean_ci(k, w)
        plo, phi = wilson_ci(rec["constant"], rec["finite"])
        rows.append({"activation": rec["activation"], "sigma_w": rec["sigma_w"], "weights": rec["convention"],
                     "n": rec["finite"], "nonfinite": rec["nonfinite"],
                     "mean_lz": m, "mean_lz_lo": lo, "mean_lz_hi": hi,
                     "p_constant": rec["constant"] / rec["finite"], "p_constant_lo": plo, "p_constant_hi": phi,
                     "distinct_per_sample": rec["distinct"] / rec["finite"], "ks_to_counting": _ks(k, w, rk, rw)})
    m, lo, hi = weighted_mean_ci(rk, rw)
    rows.append({"activation": "counting", "sigma_w": np.nan, "weights": "uniform over all functions",
                 "n": int(rw.sum()), "nonfinite": 0, "mean_lz": m, "mean_lz_lo": lo, "mean_lz_hi": hi,
                 "p_constant": np.nan, "p_constant_lo": np.nan, "p_constant_hi": np.nan,
                 "distinct_per_sample": np.nan, "ks_to_counting": 0.0})
    return pd.DataFrame(rows)


def render(tables, config, out) -> None:
    lz = tables["lz"]
    table = summary(tables)
    acts = config["activations"]
    fig, axes = new_figure(1, len(acts) + 1, width=3.3 * (len(acts) + 1) + 0.4, height=3.2)
    ref = lz.query("activation == 'counting'")
    kmax = lz["lz"].max() + 5
    bins = np.arange(0, kmax + 3.5, 3.5) - 1.75
    for ax, act in zip(axes, acts):
        for sw in config["sigma_w"]:
            h = lz.query("activation == @act and sigma_w == @sw")
            ax.hist(h["lz"], bins=bins, weights=h["count"] / h["count"].sum(), histtype="step", lw=1.1,
                    label=f"sigma_w={sw:g}")
        ax.hist(ref["lz"], bins=bins, weights=ref["count"] / ref["count"].sum(), histtype="stepfilled",
                color="black", alpha=0.15, label="counting")
        ax.set_yscale("log")
        ax.set_xlabel(r"$K_{LZ}$")
        ax.set_ylabel("fraction of samples")
        ax.set_title(f"{act}, depth {config['depth']}, sigma_b={config['sigma_b']:g}")
        ax.legend(fontsize=5.5, loc="upper center")
    ax = axes[-1]
    for act in acts:
        t = table.query("activation == @act")
        ax.errorbar(t["sigma_w"], t["mean_lz"], yerr=[t["mean_lz"] - t["mean_lz_lo"], t["mean_lz_hi"] - t["mean_lz"]],
                    marker="o", ms=3, capsize=2, label=act)
    c = table.query("activation == 'counting'").iloc[0]
    ax.axhline(c["mean_lz"], color="black", ls="--", lw=1, label="counting measure")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(r"$\sigma_w$")
    ax.set_ylabel(r"mean $K_{LZ}$")
    ax.set_title("mean complexity vs weight scale")
    ax.legend(fontsize=6)
    out.figure("lz_vs_sigma_w", fig,
               caption=f"K_LZ distribution of {config['depth']}-layer width-{config['width']} networks on "
                       f"{config['domain']} (sigma_b={config['sigma_b']:g}) for each sigma_w, and its mean with 95% CI, "
                       "approaching the counting measure as sigma_w grows for tanh but not for ReLU.")
    out.table("summary", table,
              caption="Mean K_LZ, P(constant), distinct functions per sample and Kolmogorov-Smirnov distance of the "
                      "K_LZ distribution to the counting measure's, per activation and sigma_w.",
              n="n", ci=["mean_lz", "p_constant"])


def _config(samples, reference, sigma_w=(0.5, 1.0, 1.5, 2.0, 4.0, 8.0)):
    return {"domain": "bool:7", "depth": 10, "width": 40, "sigma_b": 0.1, "sigma_w": list(sigma_w),
            "activations": ["tanh", "relu"], "samples": samples, "reference_samples": reference}


EXPERIMENT = Experiment(
    name="order-to-chaos",
    title="K_LZ of 10-layer tanh vs ReLU networks (sigma_b=0.1) as sigma_w goes 0.5 -> 8, counting measure as the limit",
    scales={"quick": _config(500, 2_000, sigma_w=(1.0, 4.0)), "default": _config(30_000, 100_000),
            "paper": _config(1_000_000, 1_000_000)},
    compute=compute,
    render=render,
    seed=0,
)
