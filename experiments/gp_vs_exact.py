"""gp-vs-exact: EP's and the GP orthant's ln P(S) against the exact ln P(S) of 7-40-40-1 ReLU networks, and the PAC-Bayes bounds they give."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.sweep import child_seed
from biasprobe.results import mean_ci, new_figure

# K_LZ bands of the target ladder (docs/definitions.md §2: on bool:7 every K_LZ is a multiple of 3.5, 7 to ~150)
BANDS = [7.0, 24.5, 42.0, 59.5, 77.0, 94.5, 112.0, 129.5, 161.0]
COIN_BIASES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)  # "biased coin" targets fill the bands networks rarely reach
ESTIMATES = {  # column stem -> what it is
    "gp": "GP orthant (hard threshold, NNGP kernel)",
    "probit": "exact probit likelihood (orthant of K + I)",
    "ep": "EP, probit link (Valle-Perez et al.)",
    "ep_scaled": "EP, probit link, kernel x scale",
}


def network_prior(config):
    from biasprobe.priors import make_prior

    return make_prior("mlp", hidden=tuple(config["hidden"]), activation="relu", convention="a")


def band_of(lz: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(BANDS, lz, side="right") - 1, 0, len(BANDS) - 2)


def band_label(b: int) -> str:
    return f"[{BANDS[b]:g}, {BANDS[b + 1]:g})"


def build_ladder(domain, config, seed: int) -> pd.DataFrame:
    """Targets spanning K_LZ, `per_band` in each band of BANDS, drawn reproducibly from a pool of candidates.

    Pool: the distinct functions of a small seeded sample of the network prior (simple targets), and
    random functions whose bits are coins of bias p for p in COIN_BIASES (they span K_LZ up to the
    counting measure's ~150). Within a band, candidates are chosen uniformly without replacement;
    the constant-0 function is always the first target of the lowest band.
    """
    from biasprobe import tables
    from biasprobe.measures import compute
    from biasprobe.sampling import sample_counts

    n = domain.n_points
    c = sample_counts(network_prior(config), domain, config["ladder_samples"], child_seed(seed, "ladder-net"))
    pools = [(c.bits(), "network")]
    rng = np.random.default_rng(child_seed(seed, "ladder-coins"))
    for p in COIN_BIASES:
        pools.append(((rng.random((config["coins_per_bias"], n)) < p).astype(np.uint8), f"coin p={p:g}"))
    bits = np.concatenate([b for b, _ in pools])
    source = np.concatenate([[s] * len(b) for b, s in pools])
    bits, first = np.unique(bits, axis=0, return_index=True)
    source = source[first]
    lz = compute(["lz"], bits, domain)["lz"]
    band = band_of(lz)
    pick = np.random.default_rng(child_seed(seed, "ladder-pick"))
    zero = np.flatnonzero(~bits.any(axis=1))
    rows = []
    for b in range(len(BANDS) - 1):
        cand = np.flatnonzero(band == b)
        chosen = []
        if b == 0 and zero.size:
            chosen.append(int(zero[0]))
            cand = cand[cand != zero[0]]
        take = min(config["per_band"] - len(chosen), cand.size)
        chosen += [int(i) for i in pick.choice(cand, take, replace=False)]
        for i in chosen:
            rows.append({"function": tables.to_hex(tables.pack(bits[i:i + 1]), n)[0], "lz": float(lz[i]),
                         "ones": int(bits[i].sum()), "source": str(source[i]), "band": band_label(b)})
    return pd.DataFrame(rows)


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    import time

    from biasprobe import tables
    from biasprobe.domains import parse_domain
    from biasprobe.gp import kernels
    from biasprobe.gp.ep import ep_probit
    from biasprobe.learning import evidence, make_condition
    from biasprobe.gp.orthant import orthant_ghk
    from biasprobe.sampling import sample_counts

    domain = parse_domain(config["domain"])
    n = domain.n_points
    prior = network_prior(config)
    t0 = time.perf_counter()
    counts = sample_counts(prior, domain, config["samples"], child_seed(seed, "exact"))
    t_sample = time.perf_counter() - t0
    ladder = build_ladder(domain, config, seed)
    kern = kernels.nngp(domain.points, "relu", depth=len(config["hidden"]), sigma_w=prior.sigma_w,
                        sigma_b=prior.sigma_b)

    problems = []
    for rec in ladder.to_dict("records"):
        target = tables.hex_to_bits([rec["function"]], n)[0]
        for m in config["ms"]:
            for split in range(config["splits"]):
                rng = np.random.default_rng(child_seed(seed, "split", rec["function"], m, split))
                train = np.sort(rng.choice(n, m, replace=False))
                mask = np.zeros(n, np.uint8)
                mask[train] = 1
                problems.append({"function": rec["function"], "lz": rec["lz"], "band": rec["band"], "m": m,
                                 "split": split, "train": tables.to_hex(tables.pack(mask[None]), n)[0],
                                 "_train": train, "_y": target[train].astype(int)})
    # exact P(S) of every problem in one pass over the counted functions (Clopper-Pearson intervals)
    exact = evidence(counts, [make_condition(domain, p["function"], train=p["train"]) for p in problems])
    with np.errstate(divide="ignore"):
        for p, rec in zip(problems, exact.to_dict("records")):
            p.update({"accepted": int(rec["accepted"]), "samples": int(rec["samples"]),
                      "ln_p_exact": float(np.log(rec["p_s"])), "ln_p_exact_lo": float(np.log(rec["p_s_lo"])),
                      "ln_p_exact_hi": float(np.log(rec["p_s_hi"] if rec["accepted"] else rec["p_s_upper"]))})

    t0 = time.perf_counter()
    for m in config["ms"]:
        rows = [p for p in problems if p["m"] == m]
        ks = np.stack([kern[np.ix_(p["_train"], p["_train"])] for p in rows])
        ys = np.stack([p["_y"] for p in rows])
        for stem, scale in (("ep", 1.0), ("ep_scaled", config["kernel_scale"])):
            res = ep_probit(scale * ks, ys)
            for p, lz_, ok in zip(rows, res.log_z, res.converged):
                p[f"ln_p_{stem}"] = float(lz_)
                p[f"{stem}_converged"] = bool(ok)
    t_ep = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i, p in enumerate(problems):
        ks = kern[np.ix_(p["_train"], p["_train"])]
        for stem, cov in (("gp", ks), ("probit", ks + np.eye(len(ks)))):
            est = orthant_ghk(cov, p["_y"], samples=config["ghk_samples"], seed=child_seed(seed, stem, i))
            p[f"ln_p_{stem}"], p[f"ln_p_{stem}_lo"], p[f"ln_p_{stem}_hi"] = est.log_p, est.log_lo, est.log_hi
            p[f"{stem}_method"] = est.method
    t_orthant = time.perf_counter() - t0

    for p in problems:
        del p["_train"], p["_y"]
    run = pd.DataFrame([{"prior": prior.label(), "weights": "W ~ N(0, 1/fan_in), b ~ N(0, 1) (convention a)",
                         "samples": int(counts.samples), "distinct": int(counts.distinct),
                         "nonfinite": int(counts.nonfinite), "sample_seconds": t_sample, "ep_seconds": t_ep,
                         "orthant_seconds": t_orthant, "problems": len(problems)}])
    return {"ladder": ladder, "problems": pd.DataFrame(problems), "run": run}


# ---- analysis (fast; runs at render time) ------------------------------------------------------

def with_bounds(problems: pd.DataFrame, config) -> pd.DataFrame:
    """Add PAC-Bayes bounds (paper form, delta from the config) from every ln P(S) column."""
    from biasprobe.learning import pac_bayes_bound

    df = problems.copy()
    delta = config["delta"]
    df["measurable"] = df["accepted"] >= config["min_accepted"]

    def bound(col):
        return np.array([pac_bayes_bound(min(v, 0.0), int(m), delta) if np.isfinite(v) else np.nan
                         for v, m in zip(df[col], df["m"])])

    df["bound_exact"] = np.where(df["accepted"] > 0, bound("ln_p_exact"), np.nan)
    # larger P(S) gives a smaller bound: the interval's ends swap
    df["bound_exact_lo"] = bound("ln_p_exact_hi")
    df["bound_exact_hi"] = np.where(np.isfinite(df["ln_p_exact_lo"]), bound("ln_p_exact_lo"), 1.0)
    for stem in ESTIMATES:
        df[f"bound_{stem}"] = bound(f"ln_p_{stem}")
    for stem in ESTIMATES:
        df[f"d_{stem}"] = df[f"ln_p_{stem}"] - df["ln_p_exact"]
    df["d_ep_vs_probit"] = df["ln_p_ep"] - df["ln_p_probit"]
    df["dbound_ep"] = df["bound_ep"] - df["bound_exact"]
    df["dbound_gp"] = df["bound_gp"] - df["bound_exact"]
    return df


def _ci_row(values, prefix: str) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    m, lo, hi = mean_ci(v) if v.size else (math.nan, math.nan, math.nan)
    return {prefix: m, f"{prefix}_lo": lo, f"{prefix}_hi": hi,
            f"median_{prefix}": float(np.median(v)) if v.size else math.nan}


def error_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per m: each estimate's error in ln P(S) on the measurable problems, EP against the exact probit, bound shifts."""
    rows = []
    for m, g in df.groupby("m"):
        meas = g[g["measurable"]]
        row = {"m": int(m), "problems": len(g), "measurable": len(meas)}
        for stem in ESTIMATES:
            row.update(_ci_row(meas[f"d_{stem}"], f"d_{stem}"))
        row.update(_ci_row(g["d_ep_vs_probit"], "d_ep_vs_probit"))
        row["max_abs_d_ep_vs_probit"] = float(np.abs(g["d_ep_vs_probit"]).max())
        row.update(_ci_row(meas["dbound_ep"], "dbound_ep"))
        row.update(_ci_row(meas["dbound_gp"], "dbound_gp"))
        rows.append(row)
    return pd.DataFrame(rows)


def band_summary(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (m, band), g in df.groupby(["m", "band"], sort=False):
        meas = g[g["measurable"]]
        med = lambda s: float(np.median(s)) if len(s) else math.nan  # noqa: E731
        rows.append({"m": int(m), "band": band, "problems": len(g), "measurable": len(meas),
                     "median_ln_p_exact": med(meas["ln_p_exact"]),
                     "median_ln_p_gp": med(g["ln_p_gp"]), "median_ln_p_ep": med(g["ln_p_ep"]),
                     "median_d_gp": med(meas["d_gp"]), "median_d_ep": med(meas["d_ep"]),
                     "median_bound_exact": med(meas["bound_exact"]), "median_bound_gp": med(g["bound_gp"]),
                     "median_bound_ep": med(g["bound_ep"])})
    return pd.DataFrame(rows).sort_values(["m", "band"], key=lambda s: s.map(_band_order) if s.name == "band" else s)


def _band_order(label: str) -> float:
    return float(label.strip("[)").split(",")[0])


# ---- render ------------------------------------------------------------------------------------

STYLE = {"gp": ("o", "C0"), "probit": ("s", "C2"), "ep": ("v", "C3"), "ep_scaled": ("^", "C4")}


def _sign_words(x: float, more: str, less: str) -> str:
    return f"{abs(x):.2f} nats {more if x > 0 else less}"


def render(tables, config, out) -> None:
    df = with_bounds(tables["problems"], config)
    summary = error_summary(df)
    bands = band_summary(df)
    ms = sorted(df["m"].unique())
    scale = config["kernel_scale"]
    labels = {**ESTIMATES, "ep_scaled": f"EP, probit link, kernel x {scale:g}"}
    run = tables["run"].iloc[0]

    # 1: estimates against the exact value where it is measurable
    fig, axes = new_figure(1, len(ms), width=3.2 * len(ms) + 0.6, height=3.4)
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, ms):
        g = df[(df["m"] == m) & df["measurable"]]
        lo_all = min([g[f"ln_p_{s}"].min() for s in ESTIMATES] + [g["ln_p_exact"].min(), -1.0]) if len(g) else -1.0
        for stem, (marker, color) in STYLE.items():
            ax.scatter(g["ln_p_exact"], g[f"ln_p_{stem}"], marker=marker, color=color, s=16, alpha=0.8,
                       lw=0, label=labels[stem])
        ax.errorbar(g["ln_p_exact"], g["ln_p_gp"],
                    xerr=[g["ln_p_exact"] - g["ln_p_exact_lo"], g["ln_p_exact_hi"] - g["ln_p_exact"]],
                    fmt="none", ecolor="grey", lw=0.6, alpha=0.6)
        ax.plot([lo_all, 0], [lo_all, 0], color="black", lw=0.8, ls="--")
        ax.set_title(f"m = {m} ({len(g)} measurable)")
        ax.set_xlabel(r"exact $\ln P(S)$ (counted)")
    axes[0].set_ylabel(r"estimated $\ln P(S)$")
    axes[0].legend(fontsize=5.5, loc="upper left")
    s64 = summary[summary["m"] == max(ms)].iloc[0]
    top = df[df["m"] == max(ms)]
    ep_vs_probit = float(np.abs(top["d_ep_vs_probit"]).mean())
    ep_vs_exact = float(np.abs(top[top["measurable"]]["d_ep"]).mean())
    if ep_vs_probit < 0.1 * ep_vs_exact:
        verdict = (f"EP sits on the exact probit likelihood (mean |EP - probit| {ep_vs_probit:.3f} nats against "
                   f"mean |EP - exact| {ep_vs_exact:.2f}), so EP's error comes from the probit link's unit noise, "
                   "not from the EP approximation")
    else:
        verdict = (f"EP differs from the exact probit likelihood by {ep_vs_probit:.3f} nats on average and from the "
                   f"exact value by {ep_vs_exact:.2f}")
    out.figure("ln_ps_scatter", fig, caption=(
        f"Estimated against exact ln P(S) for 7-40-40-1 ReLU (convention a) on the problems whose exact P(S) has at "
        f"least {config['min_accepted']} accepted draws out of {int(run['samples']):,}; bars are the exact value's "
        f"95% interval. At m = {max(ms)} the GP orthant estimate is on average "
        f"{_sign_words(s64['d_gp'], 'above', 'below')} the exact value and EP "
        f"{_sign_words(s64['d_ep'], 'above', 'below')} it; {verdict}."))

    # 2: against target complexity, every problem
    fig, axes = new_figure(1, len(ms), width=3.2 * len(ms) + 0.6, height=3.4, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, ms):
        g = df[df["m"] == m]
        jitter = (g["split"] - (config["splits"] - 1) / 2) * 0.8
        hit = g["accepted"] > 0
        ax.errorbar(g["lz"][hit] + jitter[hit], g["ln_p_exact"][hit],
                    yerr=[g["ln_p_exact"][hit] - g["ln_p_exact_lo"][hit].clip(lower=-1e3),
                          g["ln_p_exact_hi"][hit] - g["ln_p_exact"][hit]],
                    fmt="D", ms=3, color="black", lw=0.6, label="exact (counted)")
        ax.scatter(g["lz"][~hit] + jitter[~hit], g["ln_p_exact_hi"][~hit], marker="$\\downarrow$", color="black",
                   s=30, label="exact: upper bound (0 accepted)")
        for stem in ("gp", "ep"):
            marker, color = STYLE[stem]
            ax.scatter(g["lz"] + jitter, g[f"ln_p_{stem}"], marker=marker, color=color, s=12, alpha=0.8, lw=0,
                       label=labels[stem])
        ax.axhline(-math.log(run["samples"]), color="grey", lw=0.6, ls=":")
        ax.set_title(f"m = {m}")
        ax.set_xlabel(r"target $K_{LZ}$")
    axes[0].set_ylabel(r"$\ln P(S)$")
    axes[0].legend(fontsize=5.5, loc="lower left")
    order = sorted(top["band"].unique(), key=_band_order)
    gap = lambda band: float((top[top["band"] == band]["ln_p_ep"] - top[top["band"] == band]["ln_p_gp"]).mean())  # noqa: E731
    low_gap, high_gap = gap(order[0]), gap(order[-1])
    out.figure("ln_ps_vs_complexity", fig, caption=(
        "ln P(S) against the target's K_LZ for every (target, training set): exact counts (black, with 95% "
        "intervals; arrows are upper bounds where nothing was accepted), the GP's hard-threshold orthant "
        "probability and EP; the dotted line is 1/samples, below which the exact value is not measurable. "
        f"At m = {max(ms)}, EP minus the GP orthant value averages {low_gap:+.1f} nats in the lowest K_LZ band "
        f"{order[0]} and {high_gap:+.1f} nats in the highest {order[-1]}."))

    # 3: PAC-Bayes bounds
    bound_gap = (top["bound_ep"] - top["bound_gp"]).to_numpy()
    fig, axes = new_figure(1, len(ms), width=3.2 * len(ms) + 0.6, height=3.2, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, ms):
        g = df[df["m"] == m].sort_values("lz")
        ok = g["accepted"] > 0
        ax.errorbar(g["lz"][ok], g["bound_exact"][ok],
                    yerr=[g["bound_exact"][ok] - g["bound_exact_lo"][ok], g["bound_exact_hi"][ok] - g["bound_exact"][ok]],
                    fmt="D", ms=3, color="black", lw=0.6, label="from exact P(S)")
        ax.scatter(g["lz"][~ok], g["bound_exact_lo"][~ok], marker="$\\uparrow$", color="black", s=30,
                   label="from exact: at least")
        for stem in ("gp", "ep"):
            marker, color = STYLE[stem]
            ax.scatter(g["lz"], g[f"bound_{stem}"], marker=marker, color=color, s=12, alpha=0.8, lw=0,
                       label=f"from {labels[stem]}")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"m = {m}")
        ax.set_xlabel(r"target $K_{LZ}$")
    axes[0].set_ylabel("PAC-Bayes bound on expected error")
    axes[0].legend(fontsize=5.5, loc="lower right")
    out.figure("pac_bayes_bounds", fig, caption=(
        f"PAC-Bayes bound (paper form, delta = 2^{math.log2(config['delta']):g}) on the posterior's expected "
        "test error from the exact P(S), the GP orthant estimate and EP. At m = "
        f"{max(ms)} EP moves the bound by {s64['dbound_ep']:+.3f} on average over the measurable problems "
        f"(GP orthant: {s64['dbound_gp']:+.3f}); over all {len(top)} problems, where the exact value is mostly out "
        f"of reach, the EP bound minus the GP-orthant bound ranges from {bound_gap.min():+.2f} to "
        f"{bound_gap.max():+.2f}, lower (more optimistic) for {int((bound_gap < 0).sum())} of them."))

    ci = [f"d_{s}" for s in ESTIMATES] + ["d_ep_vs_probit", "dbound_ep", "dbound_gp"]
    shown = summary[["m", "problems", "measurable"] + [c for v in ci for c in (v, f"{v}_lo", f"{v}_hi")]]
    out.table("errors", shown.replace([np.inf, -np.inf], np.nan), n="measurable", ci=ci, caption=(
        "Per m: mean (with its 95% t-interval over problems) of ln P_estimate - ln P_exact over the "
        f"problems with at least {config['min_accepted']} accepted draws, EP against the exact probit likelihood "
        "over all problems, and the change of the PAC-Bayes bound when EP or the GP orthant replaces the exact "
        "P(S)."))
    out.table("by_band", bands.replace([np.inf, -np.inf], np.nan), n="problems", inline=False, caption=(
        "Medians per m and K_LZ band: exact ln P(S) (measurable problems), the GP orthant and EP estimates, their "
        "differences from the exact value, and the PAC-Bayes bounds."))
    cols = ["function", "lz", "band", "m", "split", "train", "accepted", "samples", "ln_p_exact", "ln_p_exact_lo",
            "ln_p_exact_hi", "ln_p_gp", "ln_p_gp_lo", "ln_p_gp_hi", "ln_p_probit", "ln_p_probit_lo",
            "ln_p_probit_hi", "ln_p_ep", "ln_p_ep_scaled", "ep_converged", "bound_exact", "bound_exact_lo",
            "bound_exact_hi", "bound_gp", "bound_ep"]
    # -inf (nothing accepted: ln P and the interval's lower end) shows as a dash; the upper end stays a bound
    shown = df[cols].replace([np.inf, -np.inf], np.nan)
    out.table("problems", shown, n="samples", inline=False,
              ci=["ln_p_exact", "ln_p_gp", "ln_p_probit", "bound_exact"], caption=(
                  "Every (target, m, training split): accepted draws and the exact ln P(S) with its Clopper-Pearson "
                  "interval, the GP orthant and exact-probit estimates (minimax-tilted GHK, 95% intervals), EP, and "
                  "the PAC-Bayes bounds; train is the hex mask of the training inputs."))
    out.table("ladder", tables["ladder"], inline=False, caption=(
        "The target ladder: per K_LZ band, functions drawn from a network sample and from biased coins "
        "(seeded), with their K_LZ and number of ones."))
    timing = ["sample_seconds", "ep_seconds", "orthant_seconds"]
    out.record("compute_seconds", {c: round(float(tables["run"][c].iloc[0]), 3) for c in timing})
    out.table("run", tables["run"].drop(columns=timing), n="samples", caption=(
        "The exact sample behind every P(S) (7-40-40-1 ReLU, convention a); compute times are in the provenance."))


def _config(samples, per_band, splits, ghk, ladder_samples, coins):
    return {"domain": "bool:7", "hidden": [40, 40], "samples": samples, "ms": [16, 32, 64],
            "per_band": per_band, "splits": splits, "ghk_samples": ghk, "ladder_samples": ladder_samples,
            "coins_per_bias": coins, "kernel_scale": 100.0, "delta": 2.0**-10, "min_accepted": 10}


EXPERIMENT = Experiment(
    name="gp-vs-exact",
    title="EP and GP-orthant ln P(S) against exact counts for 7-40-40-1 ReLU, and the PAC-Bayes bounds they give",
    scales={"quick": _config(20_000, 1, 1, 400, 2_000, 50),
            "default": _config(10_000_000, 3, 2, 4_000, 100_000, 400),
            "paper": _config(100_000_000, 5, 4, 20_000, 1_000_000, 2_000)},
    compute=compute,
    render=render,
    seed=0,
)
