"""probability-vs-complexity: rank-frequency (Zipf) and log P(f) against K_LZ for 7-40-40-1 ReLU under conventions a, b, c."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.analysis import fit_upper_bound, rank_frequency_steps, thin_counts, weighted_mean_ci, zipf_reference
from biasprobe.sweep import CONVENTION_LABELS, child_seed, convention, measure_counts, ones, sample
from biasprobe.results import new_figure, wilson_ci

# The conventions of docs/definitions.md §1, named by what they are (never by attribution).
CONVENTION_NOTE = CONVENTION_LABELS


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain

    domain = parse_domain(config["domain"])
    points, summary, top = [], [], []
    for conv in config["conventions"]:
        spec = {"prior": "mlp", "params": {"hidden": config["hidden"], "activation": "relu", "convention": conv}}
        c, prior = sample(spec, domain, config["samples"], child_seed(seed, conv))
        counts, nonfinite = c.counts, c.nonfinite
        k = measure_counts("lz", c, domain)["lz"]
        t = ones(c)
        const = int(counts[(t == 0) | (t == domain.n_points)].sum())
        # (K, count) pairs with their multiplicity: all the scatter and the rank-frequency plot need,
        # a few thousand rows instead of one per distinct function.
        agg = (pd.DataFrame({"lz": k, "count": counts}).groupby(["lz", "count"], as_index=False).size()
               .rename(columns={"size": "functions"}))
        agg.insert(0, "convention", conv)
        points.append(agg)
        head = min(config["top"], len(counts))  # counts arrive sorted by count, descending
        top.append(pd.DataFrame({"convention": conv, "rank": np.arange(1, head + 1),
                                 "function": c.hex()[:head] if head else [],
                                 "count": counts[:head], "lz": k[:head]}))
        summary.append({"convention": conv, "description": convention(prior), "spec": prior.label(),
                        "samples": int(config["samples"]), "finite": int(counts.sum()), "nonfinite": nonfinite,
                        "distinct": int(len(counts)), "singletons": int((counts == 1).sum()), "constant": const})
    ref, _ = sample({"prior": "counting"}, domain, config["reference_samples"], child_seed(seed, "counting"))
    ref_k = measure_counts("lz", ref, domain)["lz"]
    reference = (pd.DataFrame({"lz": ref_k, "count": ref.counts}).groupby("lz", as_index=False)["count"].sum())
    return {"points": pd.concat(points, ignore_index=True), "summary": pd.DataFrame(summary),
            "top": pd.concat(top, ignore_index=True), "reference": reference}


def _rows(tables, conv):
    pts = tables["points"].query("convention == @conv")
    return pts["lz"].to_numpy(), pts["count"].to_numpy(), pts["functions"].to_numpy()


def fits(tables, config) -> pd.DataFrame:
    rows = []
    for rec in tables["summary"].to_dict("records"):
        k, c, m = _rows(tables, rec["convention"])
        fit = fit_upper_bound(k, c, min_count=config["min_count"], functions=m)
        lo, hi = wilson_ci(rec["constant"], rec["finite"])
        mk, mk_lo, mk_hi = weighted_mean_ci(k, c * m)
        rows.append({"convention": rec["convention"], "weights": rec["description"], "n": rec["finite"],
                     "distinct": rec["distinct"], "distinct_per_sample": rec["distinct"] / rec["finite"],
                     "singletons": rec["singletons"],
                     "p_constant": rec["constant"] / rec["finite"], "p_constant_lo": lo, "p_constant_hi": hi,
                     "mean_lz": mk, "mean_lz_lo": mk_lo, "mean_lz_hi": mk_hi,
                     "a": fit["a"], "b": fit["b"], "min_count": fit["min_count"], "fitted": fit["fitted"],
                     "envelope_points": fit["envelope_points"], "k_fit_max": fit["k_fit_max"],
                     "k_floor": fit["k_floor"], "above_line": fit["above"], "k_above_min": fit["k_above_min"]})
    ref = tables["reference"]
    mk, mk_lo, mk_hi = weighted_mean_ci(ref["lz"], ref["count"])
    rows.append({"convention": "counting", "weights": "uniform over all functions", "n": int(ref["count"].sum()),
                 "p_constant": np.nan, "p_constant_lo": np.nan, "p_constant_hi": np.nan,
                 "mean_lz": mk, "mean_lz_lo": mk_lo, "mean_lz_hi": mk_hi})
    return pd.DataFrame(rows, columns=list(rows[0]))


def bound_stability(tables, config, seed: int = 0) -> pd.DataFrame:
    """a and b of the envelope fit on binomially thinned subsamples of the run and for several min_count values.

    The thinning is seeded (one stream per convention and fraction), so the table is the same on every render.
    """
    rows = []
    for conv in tables["summary"]["convention"]:
        k, c, m = _rows(tables, conv)
        for fraction in config["subsample_fractions"]:
            if fraction == 1:
                kk, cc, mm = k, c, m
            else:
                rng = np.random.default_rng(np.random.SeedSequence([seed, child_seed(0, conv, fraction)]))
                cc, mm, src = thin_counts(c, m, fraction, rng)
                kk = k[src]
            for min_count in config["min_counts"]:
                fit = fit_upper_bound(kk, cc, min_count=min_count, functions=mm)
                rows.append({"convention": conv, "fraction": fraction, "samples": fit["total"],
                             "min_count": min_count, "fitted": fit["fitted"], "envelope_points": fit["envelope_points"],
                             "k_fit_max": fit["k_fit_max"], "a": fit["a"], "b": fit["b"], "k_floor": fit["k_floor"],
                             "above_line": fit["above"]})
    return pd.DataFrame(rows)


def _scope(table) -> str:
    """Per convention: the fitted K range and where the line meets the floor (for the captions)."""
    rows = table[table.convention != "counting"]
    return "; ".join(f"({r.convention}) fitted on {int(r.fitted)} functions with K <= {r.k_fit_max:g}, line below the "
                     f"floor from K = {r.k_floor:.1f}, {int(r.above_line)} sampled functions above it (from K = "
                     f"{r.k_above_min:g})" for r in rows.itertuples())


def render(tables, config, out) -> None:
    convs = list(tables["summary"]["convention"])
    table = fits(tables, config)
    n_log2 = 2 ** int(config["domain"].split(":")[1])

    fig, ax = new_figure(width=4.2, height=3.4)
    rmax = 1
    for conv in convs:
        pts = tables["points"].query("convention == @conv")
        levels = pts.groupby("count")["functions"].sum()
        r, p = rank_frequency_steps(levels.index.to_numpy(), levels.to_numpy())
        ax.loglog(r, p, lw=1.2, label=CONVENTION_NOTE.get(conv, conv))
        rmax = max(rmax, int(r[-1]))
    r = np.logspace(0, np.log10(rmax), 50)
    ax.loglog(r, zipf_reference(r, n_log2), color="black", ls="--", lw=1, label=r"Zipf $1/(r\,\ln 2^{%d})$" % n_log2)
    ax.set_xlabel("rank r")
    ax.set_ylabel("P(r)")
    ax.legend(fontsize=6)
    out.figure("rank_frequency", fig,
               caption="Rank-frequency plot of the sampled functions of 7-40-40-1 ReLU networks under the three "
                       "weight conventions, with Valle-Perez et al.'s Zipf reference 1/(r ln 2^128).")

    fig, axes = new_figure(2, len(convs), width=3.0 * len(convs) + 0.6, height=6.0, sharex=True)
    ref = tables["reference"]
    kmax = max(tables["points"]["lz"].max(), ref["lz"].max()) + 5
    min_count = config["min_count"]
    for j, conv in enumerate(convs):
        ax = axes[0, j]
        pts = tables["points"].query("convention == @conv")
        total = int((pts["count"] * pts["functions"]).sum())
        rare = pts["count"] < min_count
        for sel, colour, label in ((rare, "0.7", f"drawn < {min_count} times"),
                                   (~rare, f"C{j}", f"drawn >= {min_count} times (fitted)")):
            q = pts[sel]
            base = 4 if colour == "0.7" else 7
            ax.scatter(q["lz"], np.log2(q["count"] / total), s=base + 2 * np.log2(q["functions"]), alpha=0.6, lw=0,
                       color=colour, label=label)
        row = table.query("convention == @conv").iloc[0]
        if np.isfinite(row["a"]):
            inside = np.linspace(0, row["k_fit_max"], 20)
            beyond = np.linspace(row["k_fit_max"], kmax, 20)
            ax.plot(inside, -row["a"] * inside - row["b"], color="black", lw=1.1,
                    label=f"envelope: a={row['a']:.3f}, b={row['b']:.2f}")
            ax.plot(beyond, -row["a"] * beyond - row["b"], color="black", lw=1.1, ls="--",
                    label="envelope extrapolated")
        ax.axhline(np.log2(1 / total), color="0.3", lw=0.8, ls=":", label="1/samples floor")
        ax.axhline(np.log2(min_count / total), color="0.3", lw=0.8, ls="-.", label=f"{min_count}/samples")
        ax.set_ylim(np.log2(1 / total) - 2, 1)  # the line's far end would squash the data
        ax.set_title(CONVENTION_NOTE.get(conv, conv), fontsize="small")
        ax.set_ylabel(r"$\log_2 P(f)$")
        ax.set_xlabel(r"$K_{LZ}$")
        ax.legend(fontsize=5, loc="upper right", framealpha=0.8)  # high K, high P: no data there
        ax2 = axes[1, j]
        k = pts["lz"].to_numpy()
        w = (pts["count"] * pts["functions"]).to_numpy()
        bins = np.arange(0, kmax + 3.5, 3.5) - 1.75
        ax2.hist(k, bins=bins, weights=w / w.sum(), alpha=0.7, color=f"C{j}", label="prior")
        ax2.hist(ref["lz"], bins=bins, weights=ref["count"] / ref["count"].sum(), histtype="step", color="black",
                 label="counting measure")
        ax2.set_yscale("log")
        ax2.set_xlabel(r"$K_{LZ}$")
        ax2.set_ylabel("fraction of samples")
        ax2.legend(fontsize=6, loc="upper left")
    out.figure("probability_vs_lz", fig,
               caption="Top: log2 P(f) against K_LZ for each distinct sampled function (dot size ~ number of "
                       f"functions; coloured: drawn at least {min_count} times, the only ones the line is fitted to; "
                       f"grey: rarer), with their upper envelope log2 P <= -a K - b (solid over the fitted K range, "
                       f"dashed beyond), the 1/samples floor (dotted) and the {min_count}/samples level (dash-dot): "
                       f"{_scope(table)}; beyond the floor crossing a function drawn even once lies above the line "
                       "by construction, so the line is an envelope of the well-sampled functions, not a bound the "
                       "sample can test on rare ones; bottom: the prior's K_LZ distribution against the counting "
                       "measure's.")

    out.table("fits", table,
              caption=f"Upper envelope log2 P(f) <= -(a K_LZ + b) of the functions drawn at least min_count = "
                      f"{min_count} times (least-squares slope through the most frequent function per K, then "
                      "lowered to bound them all; k_fit_max: the largest K fitted; k_floor: where the line meets the "
                      "1/samples floor; above_line: sampled functions of any count above it, all rarer than "
                      "min_count), distinct functions, singletons, P(constant) and mean K_LZ per convention, with "
                      "the counting measure for reference.",
              n="n", ci=["p_constant", "mean_lz"])
    stab = bound_stability(tables, config)
    out.table("bound_vs_samples", stab,
              caption="How the envelope depends on the sample and on min_count: a, b, the functions fitted, the "
                      "largest K fitted and the floor crossing, on the whole run and on seeded binomial "
                      "subsamples of it (each draw kept with probability fraction).", n="samples", inline=False)
    out.table("top_functions", tables["top"],
              caption="The most frequent functions under each convention (hex truth tables, canonical order) with "
                      "their counts and K_LZ.")


def _config(samples, reference, top=10, min_count=10, fractions=(1.0, 0.1, 0.01), min_counts=(3, 10, 30, 100)):
    return {"domain": "bool:7", "hidden": [40, 40], "conventions": ["a", "b", "c"], "samples": samples,
            "reference_samples": reference, "top": top, "min_count": min_count,
            "subsample_fractions": list(fractions), "min_counts": list(min_counts)}


EXPERIMENT = Experiment(
    name="probability-vs-complexity",
    title="Zipf rank-frequency and log P(f) vs K_LZ with the envelope of well-sampled functions, 7-40-40-1 ReLU, conventions a/b/c",
    scales={"quick": _config(20_000, 5_000, min_count=5, fractions=(1.0, 0.1), min_counts=(3, 5, 10)), "default": _config(10_000_000, 1_000_000),
            "paper": _config(100_000_000, 1_000_000, min_count=100)},
    compute=compute,
    render=render,
    seed=0,
)
