"""reference-priors: neural priors beside non-neural priors that also use the input structure, raw and at matched entropy."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.sweep import child_seed, convention, measure_counts, ones, sample
from biasprobe.results import new_figure, wilson_ci

ORDER_FREE = ["ones", "entropy"]
CUBE = ["sensitivity", "csr", "gc", "fourier_l1", "fourier_degree", "spectral_entropy"]
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
GROUPS = ["neural", "gp", "tree", "formula", "circuit", "knn", "threshold", "counting"]


def _lz_name(order: str) -> str:
    return "lz" if order == "lex" else f"lz@{order}"


def measure_names(config) -> list[str]:
    """Every measure column: order-free, cube-structure, then K_LZ under each enumeration order."""
    return ORDER_FREE + CUBE + [_lz_name(o) for o in config["orders"]]


class _Packed:
    """The two attributes `measure_counts` reads, for tables that were never counted (the reference bank)."""

    def __init__(self, bits):
        from biasprobe.tables import pack

        self.words, self.distinct = pack(bits), len(bits)


def _measure(counts, domain, config) -> dict[str, np.ndarray]:
    """All measures of the distinct functions; K_LZ once per enumeration order (the tables stay canonical)."""
    from biasprobe.domains import parse_domain

    values = measure_counts(ORDER_FREE + CUBE, counts, domain)
    for order in config["orders"]:
        d = domain if order == "lex" else parse_domain(f"{domain}@{order}")
        values[_lz_name(order)] = measure_counts("lz", counts, d)["lz"]
    return values


def _weighted_stats(v, w) -> dict:
    from biasprobe.analysis import weighted_mean_ci
    from biasprobe.matched import weighted_quantile

    m, lo, hi = weighted_mean_ci(v, w)
    row = {"mean": m, "mean_lo": lo, "mean_hi": hi}
    for q, x in zip(QUANTILES, weighted_quantile(v, w, QUANTILES)):
        row[f"q{round(100 * q):02d}"] = x
    return row


def _histogram_js(xa, wa, xb, wb) -> float:
    from biasprobe.distributions import js_bits

    grid = np.union1d(xa, xb)
    pa = np.bincount(np.searchsorted(grid, xa), weights=wa, minlength=grid.size)
    pb = np.bincount(np.searchsorted(grid, xb), weights=wb, minlength=grid.size)
    return js_bits(pa, pb)


def _divergences(enc, kept, config) -> list[dict]:
    """Every pair of priors: JS of the law of T and of K_LZ (always), and of the functions where both are covered."""
    from biasprobe.distributions import function_divergence, missing_mass

    rows = []
    for i, (a, wa, ca, ta, la) in enumerate(kept):
        for b, wb, cb, tb, lb in kept[i + 1:]:
            ma, mb = missing_mass(ca), missing_mass(cb)
            ok = max(ma, mb) <= config["js_max_missing_mass"]
            # aligning two samples of functions is the slow part: only where the plug-in value means something
            div = function_divergence(wa, ca, wb, cb) if ok else {}
            rows.append({"encoding": enc, "prior_a": a, "prior_b": b, "n_a": int(ca.sum()), "n_b": int(cb.sum()),
                         "js_ones": _histogram_js(ta, ca, tb, cb), "js_lz": _histogram_js(la, ca, lb, cb),
                         "js_functions": div.get("js_bits", np.nan), "estimable": ok, "missing_a": ma,
                         "missing_b": mb, "overlap_a": div.get("overlap_a", np.nan),
                         "overlap_b": div.get("overlap_b", np.nan)})
    return rows


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.distributions import missing_mass, zipf_slope
    from biasprobe.domains import parse_domain
    from biasprobe.matched import matched_comparison, reference_tables

    names = measure_names(config)
    priors, stats, bands, levels, joint, divergence, reference = [], [], [], [], [], [], []
    for enc in config["encodings"]:
        domain = parse_domain(enc)
        n_points = domain.n_points
        # The counting measure restricted to each T. Boolean measures read only the bit table, so the same
        # bank (measured under each enumeration order) is the control for both encodings.
        ref_t, ref_bits = reference_tables(n_points, config["reference_per_t"], child_seed(seed, "reference"))
        ref = pd.DataFrame({"ones": ref_t, **_measure(_Packed(ref_bits), domain, config)})
        reference.append(ref.assign(encoding=enc))
        kept = []
        for spec in config["priors"]:
            t0 = time.perf_counter()
            c, prior = sample(spec, domain, config["samples"], child_seed(seed, enc, spec["label"]))
            t1 = time.perf_counter()
            t, w = ones(c), c.counts
            values = _measure(c, domain, config)
            t2 = time.perf_counter()
            n = int(w.sum())
            priors.append({"encoding": enc, "prior": spec["label"], "group": spec["group"], "spec": prior.label(),
                           "weights": convention(prior), "n": n, "nonfinite": c.nonfinite, "distinct": c.distinct,
                           "constant": int(w[(t == 0) | (t == n_points)].sum()), "missing_mass": missing_mass(w),
                           "zipf_slope": zipf_slope(w, config["zipf_min_count"]),
                           "sample_s": round(t1 - t0, 3), "measure_s": round(t2 - t1, 3)})
            for name in names:
                cmp = matched_comparison(values[name], t, w, ref, name, n_points)
                full = cmp[cmp["band"] == "all"].iloc[0]
                stats.append({"encoding": enc, "prior": spec["label"], "measure": name, "n": n,
                              **_weighted_stats(values[name], w), "ref_mean": full["ref_mean"],
                              "ref_sd": full["ref_sd"], "ref_sd_within": full["ref_sd_within"],
                              "delta": full["delta"], "d": full["d"], "z": full["z"]})
                bands.append(cmp[cmp["band"] != "all"].assign(encoding=enc, prior=spec["label"], measure=name))
            lv = pd.Series(w).value_counts().sort_index(ascending=False)
            levels.append(pd.DataFrame({"encoding": enc, "prior": spec["label"], "count": lv.index.to_numpy(),
                                        "functions": lv.to_numpy()}))
            j = pd.DataFrame({"ones": t, "lz": values["lz"], "count": w}).groupby(["ones", "lz"], as_index=False).sum()
            joint.append(j.assign(encoding=enc, prior=spec["label"]))
            kept.append((spec["label"], c.words, w, t, values["lz"]))
        divergence += _divergences(enc, kept, config)
    return {"priors": pd.DataFrame(priors), "stats": pd.DataFrame(stats),
            "bands": pd.concat(bands, ignore_index=True), "levels": pd.concat(levels, ignore_index=True),
            "joint": pd.concat(joint, ignore_index=True), "divergence": pd.DataFrame(divergence),
            "reference": pd.concat(reference, ignore_index=True)}


# ---- tables ---------------------------------------------------------------------------------

def summary(tables, enc) -> pd.DataFrame:
    """The headline table for one encoding: one row per prior.

    The matched columns compare the prior's non-constant draws with the counting measure restricted to the
    same law of T (constants are the same two functions on both sides and would only dilute the difference):
    ``*_nc`` is the prior's mean over them, ``*_matched`` the reference's, ``*_d`` the difference in units of
    the reference's standard deviation at fixed T (so T's own spread, removed by matching, does not shrink it).
    """
    pri = tables["priors"].query("encoding == @enc")
    st = tables["stats"].query("encoding == @enc").set_index(["prior", "measure"])
    nc = tables["bands"].query("encoding == @enc and band == 'non-constant'").set_index(["prior", "measure"])
    rows = []
    for rec in pri.to_dict("records"):
        lab = rec["prior"]
        lo, hi = wilson_ci(rec["constant"], rec["n"])
        row = {"prior": lab, "group": rec["group"], "weights": rec["weights"], "n": rec["n"],
               "p_constant": rec["constant"] / rec["n"], "p_constant_lo": lo, "p_constant_hi": hi,
               "distinct_per_sample": rec["distinct"] / rec["n"], "zipf_slope": rec["zipf_slope"]}
        for name, key in (("lz", "lz"), ("sensitivity", "sens")):
            s, m = st.loc[(lab, name)], nc.loc[(lab, name)] if (lab, name) in nc.index else None
            row.update({key: s["mean"], f"{key}_lo": s["mean_lo"], f"{key}_hi": s["mean_hi"]})
            has = m is not None and m["n"] > 0
            row.update({f"{key}_nc": m["mean"] if has else np.nan, f"{key}_matched": m["ref_mean"] if has else np.nan,
                        f"{key}_d": m["d"] if has else np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def measure_table(tables) -> pd.DataFrame:
    st = tables["stats"].copy()
    return st[["encoding", "prior", "measure", "n", "mean", "mean_lo", "mean_hi", *[f"q{round(100 * q):02d}"
               for q in QUANTILES], "ref_mean", "ref_sd", "ref_sd_within", "delta", "d", "z"]]


def band_table(tables) -> pd.DataFrame:
    b = tables["bands"].query("n > 0")  # a band the prior never reached has nothing to compare
    lead = ["encoding", "prior", "measure", "band", "n", "mass", "mean", "ref_mean", "ref_sd_within", "delta", "d",
            "z"]
    return b[lead + [c for c in b.columns if c not in lead]]


# ---- figures --------------------------------------------------------------------------------

def _colours(labels, groups):
    import seaborn as sns

    pal = dict(zip(GROUPS, sns.color_palette("colorblind", len(GROUPS))))
    pal["counting"] = (0, 0, 0)
    return {lab: pal.get(g, (0.5, 0.5, 0.5)) for lab, g in zip(labels, groups)}


def _rank_frequency(tables, enc, config, out) -> None:
    from biasprobe.analysis import zipf_reference

    pri = tables["priors"].query("encoding == @enc")
    lv = tables["levels"].query("encoding == @enc")
    panels = {"neural": ("neural",), "gp": ("gp",), "tree": ("tree",), "formula, circuit": ("formula", "circuit"),
              "knn": ("knn",), "threshold": ("threshold",)}
    groups = [g for g, members in panels.items() if set(members) & set(pri["group"])]
    ncols = 3
    nrows = -(-len(groups) // ncols)
    fig, axes = new_figure(nrows, ncols, width=8.4, height=2.6 * nrows + 0.4, sharex=True, sharey=True)
    axes = np.atleast_1d(axes).ravel()
    n_log2 = 2 ** int(enc.split(":")[1])

    def curve(ax, lab, **kw):
        g = lv[lv["prior"] == lab]
        c, m = g["count"].to_numpy(float), g["functions"].to_numpy()
        end = np.cumsum(m)
        ax.loglog(np.column_stack([end - m + 1, end]).ravel(), np.repeat(c / (c * m).sum(), 2), **kw)

    from matplotlib.ticker import NullFormatter

    for ax, group in zip(axes, groups):
        for lab in pri.loc[pri["group"].isin(panels[group]), "prior"]:
            curve(ax, lab, lw=1.1, label=lab)
        for lab in pri.loc[pri["group"] == "counting", "prior"]:
            curve(ax, lab, color="black", ls=":", lw=1, label="counting")
        r = np.logspace(0, np.log10(config["samples"]), 30)
        ax.loglog(r, zipf_reference(r, n_log2), color="grey", ls="--", lw=0.8, label="Zipf")
        ax.set_title(group, fontsize=8)
        ax.legend(fontsize=4.5, loc="lower left")
        ax.tick_params(labelsize=6)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    for ax in axes[len(groups):]:
        ax.set_axis_off()
    fig.supxlabel("rank r", fontsize=7)
    fig.supylabel("P(r)", fontsize=7)
    slopes = pri.set_index("prior")["zipf_slope"]
    group = pri.set_index("prior")["group"]
    neural, other = slopes[group == "neural"].dropna(), slopes[~group.isin(["neural", "counting"])].dropna()
    if len(neural) and len(other):
        fact = (f"Zipf slopes of the networks run from {neural.min():.2f} to {neural.max():.2f}, of the other "
                f"priors from {other.min():.2f} to {other.max():.2f}; {int((other < neural.min()).sum())} of "
                f"{len(other)} non-neural priors fall off more steeply than every network")
    else:
        fact = f"too few functions are drawn >= {config['zipf_min_count']} times at this scale to fit Zipf slopes"
    out.figure(f"rank_frequency_{enc.split(':')[0]}", fig,
               caption=f"Rank-frequency curves on {enc} ({config['samples']:,} draws per prior), one panel per "
                       "family, with the counting measure dotted and Valle-Perez et al.'s Zipf law dashed: "
                       f"{fact}.")


def _effect_sizes(tables, enc, names, band="non-constant") -> pd.DataFrame:
    """(prior - T-matched counting) / within-T SD per prior and measure, signed so that negative = simpler."""
    from biasprobe.measures import get_measure

    b = tables["bands"].query("encoding == @enc and band == @band and prior != 'counting'")
    labels = list(dict.fromkeys(tables["stats"].query("encoding == @enc and prior != 'counting'")["prior"]))
    out = pd.DataFrame(index=labels, columns=names, dtype=float)
    for n in names:
        sign = 1.0 if get_measure(n.split("@")[0]).higher_is_more_complex else -1.0
        g = b[b["measure"] == n].set_index("prior").reindex(labels)
        out[n] = sign * g["d"]
    return out


def _simplest_panel(tables, enc, config, out) -> None:
    """Rank of every prior under every measure (1 = simplest), and its effect size at matched entropy."""
    import seaborn as sns

    from biasprobe.measures import get_measure

    st = tables["stats"].query("encoding == @enc and prior != 'counting'")
    names = [n for n in measure_names(config) if n != "ones"]
    labels = list(dict.fromkeys(st["prior"]))
    raw = pd.DataFrame(index=labels, columns=names, dtype=float)
    for n in names:
        sign = 1.0 if get_measure(n.split("@")[0]).higher_is_more_complex else -1.0
        raw[n] = (sign * st[st["measure"] == n].set_index("prior").loc[labels, "mean"]).rank(method="min")
    matched_names = [n for n in names if n != "entropy"]  # entropy is equal on both sides by construction
    eff = _effect_sizes(tables, enc, matched_names)
    fig, axes = new_figure(1, 2, width=9.4, height=0.2 * len(labels) + 1.9)
    sns.heatmap(raw, ax=axes[0], cmap="viridis_r", annot=True, fmt=".0f", annot_kws={"size": 4.5}, cbar=False)
    axes[0].set_title("rank of the raw mean, 1 = simplest", fontsize=8)
    sns.heatmap(eff.clip(-3, 3), ax=axes[1], cmap="vlag", vmin=-3, vmax=3, annot=eff.round(1), fmt="",
                annot_kws={"size": 4.5}, cbar=False)
    axes[1].set_title("at matched entropy: (prior - matched) / within-T SD, non-constant draws", fontsize=8)
    axes[1].set_yticklabels([])
    for ax in axes:
        ax.tick_params(labelsize=5)
    pri = tables["priors"].query("encoding == @enc").set_index("prior")
    neural = [lab for lab in labels if pri.loc[lab, "group"] == "neural"]
    facts = []
    for col in ("lz", "sensitivity"):
        if neural and eff[col].notna().any():
            order = eff[col].rank(method="min")
            best = eff[col].loc[neural].idxmin()
            facts.append(f"under {col} the simplest network ranks {int(raw[col].loc[neural].min())} of "
                         f"{len(labels)} raw, but at matched entropy the most structured prior is "
                         f"{eff[col].idxmin()} ({eff[col].min():.1f} SD) and the best network, {best}, "
                         f"ranks {int(order.loc[neural].min())} ({eff[col].loc[neural].min():.1f} SD)")
    out.figure(f"simplest_{enc.split(':')[0]}", fig,
               caption=f"Which prior is simplest under which measure on {enc}: rank of each prior's mean (left, "
                       "1 = simplest) and, right, its non-constant draws' difference from the counting measure "
                       "restricted to the same law of T, in its SDs at fixed T (negative = simpler than random "
                       "functions with as many ones; entropy is matched by construction); "
                       + ("; ".join(facts) if facts else "no network in this configuration") + ".")


def _matched_distributions(tables, enc, config, out) -> None:
    """Quantiles of each prior's non-constant draws beside those of its T-matched restricted counting measure."""
    b = tables["bands"].query("encoding == @enc and band == 'non-constant' and prior != 'counting' and n > 0")
    pri = tables["priors"].query("encoding == @enc").set_index("prior")
    labels = list(dict.fromkeys(b["prior"]))
    cols = _colours(labels, [pri.loc[lab, "group"] for lab in labels])
    perm = next((_lz_name(o) for o in config["orders"] if o.startswith("perm")), None)
    shown = [n for n in ("lz", perm, "sensitivity", "fourier_degree") if n]
    fig, axes = new_figure(1, len(shown), width=2.2 * len(shown) + 1.4, height=0.2 * len(labels) + 1.4,
                           sharey=True)
    axes = np.atleast_1d(axes)
    y = np.arange(len(labels))[::-1]
    for ax, name in zip(axes, shown):
        s = b[b["measure"] == name].set_index("prior").loc[labels]
        for yi, lab in zip(y, labels):
            r = s.loc[lab]
            for dy, pre, colour in ((0.17, "", cols[lab]), (-0.17, "ref_", (0.25, 0.25, 0.25))):
                ax.plot([r[f"{pre}q05"], r[f"{pre}q95"]], [yi + dy] * 2, color=colour, lw=0.8)
                ax.plot([r[f"{pre}q25"], r[f"{pre}q75"]], [yi + dy] * 2, color=colour, lw=2.5)
                ax.plot(r[f"{pre}mean"], yi + dy, "o", color=colour, ms=2.5)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=5)
    axes[0].set_yticks(y, labels)
    neural = [lab for lab in labels if pri.loc[lab, "group"] == "neural"]
    lz = b[b["measure"] == "lz"].set_index("prior")
    simpler = set(lz.index[lz["z"] < -3])
    permtxt = ""
    if perm:
        p = b[b["measure"] == perm].set_index("prior")
        d = p["d"].abs()
        permtxt = (f"; under the permuted enumeration no prior is more than {d.max():.2f} within-T SDs from its "
                   f"control ({d.idxmax()})")
    out.figure(f"matched_{enc.split(':')[0]}", fig,
               caption=f"Non-constant draws of each prior on {enc} (coloured: 5-95% and 25-75% ranges, dot = mean) "
                       "above the counting measure restricted to the same law of T (grey): at matched entropy "
                       f"{len(simpler & set(neural))} of {len(neural)} networks and "
                       f"{len(simpler - set(neural))} of {len(labels) - len(neural)} reference priors are still "
                       f"simpler under lexicographic K_LZ (z < -3){permtxt}.")


def _by_band(tables, enc, config, out) -> None:
    b = tables["bands"].query("encoding == @enc and prior != 'counting' and band != 'non-constant'")
    pri = tables["priors"].query("encoding == @enc").set_index("prior")
    labels = list(dict.fromkeys(b["prior"]))
    cols = _colours(labels, [pri.loc[lab, "group"] for lab in labels])
    perm = next((_lz_name(o) for o in config["orders"] if o.startswith("perm")), None)
    shown = [n for n in ("lz", perm, "sensitivity") if n]
    fig, axes = new_figure(1, len(shown), width=9.6, height=3.0)
    axes = np.atleast_1d(axes)
    bands = list(dict.fromkeys(b["band"]))
    for ax, name in zip(axes, shown):
        for lab in labels:
            g = b[(b["prior"] == lab) & (b["measure"] == name) & (b["n"] >= config["band_min_draws"])]
            x = [bands.index(v) for v in g["band"]]
            eff = g["d"]
            ls = "-" if pri.loc[lab, "group"] == "neural" else ":"
            ax.plot(x, eff, ls, marker="o", ms=2, lw=0.9, color=cols[lab], label=lab)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(range(len(bands)), [f"{i}" for i in range(len(bands))], fontsize=6)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("entropy band (0 = constants)", fontsize=6)
    axes[0].set_ylabel("(prior - matched counting) / within-T SD", fontsize=6)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=4.5, loc="outside right upper")
    mid = b[(b["measure"] == "lz") & (b["band"] == bands[-1]) & (b["n"] >= config["band_min_draws"])]
    eff = mid["d"].to_numpy()
    out.figure(f"matched_by_band_{enc.split(':')[0]}", fig,
               caption=f"Difference from the T-matched counting measure per entropy band on {enc}, in within-T SDs "
                       f"(solid: networks, dotted: reference priors; bands with >= {config['band_min_draws']} draws; "
                       f"bands: {', '.join(f'{i} = {v}' for i, v in enumerate(bands))}): in the most balanced band "
                       f"the K_LZ differences run from {np.nanmin(eff):.2f} to {np.nanmax(eff):.2f} SDs.")


def render(tables, config, out) -> None:
    encs = list(dict.fromkeys(tables["priors"]["encoding"]))
    head = summary(tables, encs[0])
    neural = head[head["group"] == "neural"]
    other = head[~head["group"].isin(["neural", "counting"])]
    beats = int((other["lz_d"] < neural["lz_d"].min()).sum()) if len(neural) else 0
    out.table("summary", head,
              caption=f"Headline on {encs[0]}: per prior, P(constant) with a Wilson 95% CI, distinct functions per "
                      f"draw, Zipf slope (ranks drawn >= {config['zipf_min_count']} times), mean K_LZ and mean "
                      "sensitivity over all draws with 95% CIs, then over the non-constant draws (nc) beside the "
                      "counting measure restricted to the same law of T (matched) and the difference in that "
                      f"reference's SDs at fixed T (d); at matched entropy {beats} of {len(other)} non-neural priors are further "
                      f"below their control under K_LZ than every one of the {len(neural)} networks.",
              n="n", ci=["p_constant", "lz", "sens"])
    for enc in encs[1:]:
        out.table(f"summary_{enc.split(':')[0]}", summary(tables, enc),
                  caption=f"The headline table on {enc} (same columns).", n="n", ci=["p_constant", "lz", "sens"])
    out.table("measures", measure_table(tables),
              caption="Every prior, encoding and measure (K_LZ under lexicographic, Gray and permuted order): mean "
                      "with 95% CI, quantiles, the T-matched counting measure's mean, SD and SD at fixed T, the "
                      "difference, its effect size d (difference / SD at fixed T) and its z.",
              n="n", ci=["mean"], inline=False)
    out.table("matched_bands", band_table(tables),
              caption="The same comparison per entropy band (min(T, N-T) ranges): the prior's draws in the band, "
                      "their share, mean and quantiles against the counting measure restricted to the prior's law "
                      "of T inside the band.", n="n", inline=False)
    div = tables["divergence"]
    if len(div):
        est = div[div["estimable"]]
        out.table("divergence", div,
                  caption="Jensen-Shannon divergence (bits) between every pair of priors: of the law of T and of "
                          "K_LZ (always), and of the functions themselves only where both samples miss at most "
                          f"{config['js_max_missing_mass']:g} of their mass (Good-Turing), with sample sizes and "
                          f"overlaps; {len(est)} of {len(div)} pairs are estimable at this sample size.",
                  n="n_a", inline=False)
    timing = ["sample_s", "measure_s"]
    out.record("compute_seconds", {f"{r['encoding']} {r['prior']}": [r["sample_s"], r["measure_s"]]
                                   for r in tables["priors"].to_dict("records")})
    out.table("priors", tables["priors"].drop(columns=timing),
              caption="Each prior as sampled: resolved parameters, weight convention, draws, non-finite draws, "
                      "distinct functions, constants, Good-Turing missing mass and Zipf slope (sampling and "
                      "measuring times are in the provenance).", n="n", inline=False)
    # Figures for the first encoding only (the other's numbers are in its tables): matplotlib, not compute,
    # dominates this experiment's wall time at the quick scale.
    _rank_frequency(tables, encs[0], config, out)
    _simplest_panel(tables, encs[0], config, out)
    _matched_distributions(tables, encs[0], config, out)
    _by_band(tables, encs[0], config, out)


# ---- configuration --------------------------------------------------------------------------

def _priors(scale: str) -> list[dict]:
    tanh = {"hidden": [40] * 10, "activation": "tanh", "sigma_b": 0.1}
    neural = [
        {"label": "relu 7-40-40-1 (a)", "group": "neural", "prior": "mlp", "params": {"convention": "a"}},
        {"label": "relu 7-40-40-1 (b)", "group": "neural", "prior": "mlp", "params": {"convention": "b"}},
        {"label": "tanh 10x40 sw=1", "group": "neural", "prior": "mlp", "params": {**tanh, "sigma_w": 1.0}},
        {"label": "tanh 10x40 sw=8", "group": "neural", "prior": "mlp", "params": {**tanh, "sigma_w": 8.0}},
        {"label": "erf 7-40-40-1", "group": "neural", "prior": "mlp", "params": {"activation": "erf"}},
    ]
    gp = [{"label": f"gp rbf l={ls:g}", "group": "gp", "prior": "gp",
           "params": {"kernel": "rbf", "length_scale": ls}} for ls in (0.5, 1.0, 2.0, 4.0)]
    gp.append({"label": "gp nngp relu (a)", "group": "gp", "prior": "gp",
               "params": {"kernel": "nngp", "activation": "relu", "depth": 2, "sigma_w": 1.0, "sigma_b": 1.0}})
    trees = [{"label": f"tree depth {d}", "group": "tree", "prior": "tree", "params": {"depth": d}}
             for d in range(2, 8)]
    formulas = [
        {"label": "dnf 3x3", "group": "formula", "prior": "dnf", "params": {"terms": 3, "literals": 3}},
        {"label": "dnf 8x4", "group": "formula", "prior": "dnf", "params": {"terms": 8, "literals": 4}},
        {"label": "cnf 3x3", "group": "formula", "prior": "cnf", "params": {"terms": 3, "literals": 3}},
    ]
    circuits = [{"label": f"circuit depth {d}", "group": "circuit", "prior": "circuit",
                 "params": {"depth": d, "width": 16}} for d in (2, 4, 8)]
    knn = [{"label": f"knn k={k}", "group": "knn", "prior": "knn", "params": {"k": k}} for k in (2, 4, 16, 64)]
    threshold = [
        {"label": "perceptron", "group": "threshold", "prior": "perceptron", "params": {"sigma_b": 1.0}},
        {"label": "ptf degree 2", "group": "threshold", "prior": "polynomial", "params": {"family": "ptf", "degree": 2}},
        {"label": "ptf degree 3", "group": "threshold", "prior": "polynomial", "params": {"family": "ptf", "degree": 3}},
    ]
    counting = [{"label": "counting", "group": "counting", "prior": "counting"}]
    if scale == "quick":  # one or two settings per family: every code path, in seconds
        return [neural[0], neural[2], gp[1], gp[4], trees[1], formulas[0], circuits[1], knn[1], threshold[0],
                counting[0]]
    return neural + gp + trees + formulas + circuits + knn + threshold + counting


def _config(scale, samples, per_t, encodings=("bool:7", "pm1:7")):
    return {"encodings": list(encodings), "orders": ["lex", "gray", "perm:1"], "priors": _priors(scale),
            "samples": samples, "reference_per_t": per_t, "zipf_min_count": 5, "js_max_missing_mass": 0.05,
            "band_min_draws": 100}


EXPERIMENT = Experiment(
    name="reference-priors",
    title="Networks beside GPs, trees, formulas, circuits and nearest-neighbour priors, raw and at matched entropy",
    scales={"quick": _config("quick", 400, 20), "default": _config("default", 50_000, 500),
            "paper": _config("paper", 1_000_000, 5_000)},
    compute=compute,
    render=render,
    seed=0,
)
