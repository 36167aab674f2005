"""distinct-vs-samples: distinct functions and the fraction of new draws against samples for 7-40-40-1 ReLU, extrapolated to 10^10."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.analysis import rank_frequency_steps, zipf_reference
from biasprobe.sweep import CONVENTION_LABELS, child_seed
from biasprobe.results import new_figure, wilson_ci

CONVENTION_NOTE = CONVENTION_LABELS
VALLE_PEREZ = (10**10, 1.77e9)  # draws and distinct functions they report (docs/definitions.md §4, §10)


def checkpoints(config: dict) -> list[int]:
    """10^4, then `per_decade` log-spaced points per decade, up to max_samples (always included)."""
    top = int(config["max_samples"])
    start, per = float(config["start"]), int(config["per_decade"])
    out = [int(round(start * 10 ** (k / per))) for k in range(1000) if start * 10 ** (k / per) <= top]
    return sorted(set(out) | {top})


def _prior(conv: str, config: dict):
    from biasprobe.priors import make_prior

    return make_prior("mlp", hidden=tuple(config["hidden"]), activation="relu", convention=conv)


def _run_dir(config: dict, conv: str, seed: int) -> tuple[Path, bool]:
    """Where the sharded run lives: kept under the cache (resumable, reusable by a longer run) or temporary."""
    if config.get("keep_run_dir"):
        from biasprobe.pipeline import cache_dir

        path = cache_dir() / "runs" / f"distinct-vs-samples-{conv}-seed{seed}-{config['max_samples']}"
        return path, False
    return Path(tempfile.mkdtemp(prefix="biasprobe-dvs-")) / "run", True


def _curve(conv: str, config: dict, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact D(S) and n_1(S) at every checkpoint, and the count levels at the largest S."""
    from biasprobe.domains import parse_domain
    from biasprobe.sampling import open_run, sample_run
    from biasprobe.sampling.growth import growth_curve, shard_growth

    domain, prior = parse_domain(config["domain"]), _prior(conv, config)
    points = checkpoints(config)
    split = config.get("run_dir_from")
    small = [s for s in points if split is None or s < split]
    parts, levels = [], None
    if small:
        curve, levels = growth_curve(prior, domain, seed, small)
        parts.append(curve[["samples", "distinct", "singletons", "nonfinite"]])
    if split is not None and points[-1] >= split:
        path, temporary = _run_dir(config, conv, seed)
        try:
            res = sample_run(prior, domain, points[-1], seed, path, executor=config["executor"],
                             shard_size=config["shard_size"], log=lambda m: None)
            per_shard = res.summary["samples"] / res.shards  # all shards but the last are full
            ks = sorted({min(res.shards, max(1, round(s / per_shard))) for s in points if s >= split} | {res.shards})
            parts.append(shard_growth(path, ks)[["samples", "distinct", "singletons", "nonfinite"]])
            levels = open_run(path).levels()
        finally:
            if temporary:
                shutil.rmtree(path.parent, ignore_errors=True)
    curve = pd.concat(parts, ignore_index=True).drop_duplicates("samples").sort_values("samples")
    curve.insert(0, "convention", conv)
    levels.insert(0, "convention", conv)
    return curve.reset_index(drop=True), levels


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    curves, levels = [], []
    for conv in config["conventions"]:
        c, lv = _curve(conv, config, child_seed(seed, conv))
        curves.append(c)
        levels.append(lv)
    return {"curve": pd.concat(curves, ignore_index=True), "levels": pd.concat(levels, ignore_index=True)}


def growth_table(curve: pd.DataFrame) -> pd.DataFrame:
    """Per checkpoint: distinct fraction, the fraction of the window's draws that were new (Wilson CI), Good-Turing n_1/S."""
    rows = []
    for conv, g in curve.groupby("convention", sort=False):
        prev_s, prev_d = 0, 0
        for r in g.itertuples():
            window, new = r.samples - prev_s, r.distinct - prev_d
            lo, hi = wilson_ci(new, window)
            rows.append({"convention": conv, "samples": r.samples, "distinct": r.distinct,
                         "distinct_per_sample": r.distinct / r.samples, "window": window, "new_in_window": new,
                         "new_fraction": new / window, "new_fraction_lo": lo, "new_fraction_hi": hi,
                         "good_turing": r.singletons / r.samples, "nonfinite": r.nonfinite})
            prev_s, prev_d = r.samples, r.distinct
    return pd.DataFrame(rows)


def fit_growth(curve: pd.DataFrame, decades: float) -> tuple[float, float]:
    """Least-squares power law D = A S^beta on the checkpoints within `decades` of the largest S: (beta, log10 A)."""
    s, d = curve["samples"].to_numpy(float), curve["distinct"].to_numpy(float)
    keep = s >= s.max() / 10**decades
    if keep.sum() < 2:
        return float("nan"), float("nan")
    beta, log_a = np.polyfit(np.log10(s[keep]), np.log10(d[keep]), 1)
    return float(beta), float(log_a)


def extrapolation(curve: pd.DataFrame, config: dict) -> pd.DataFrame:
    target, reference = VALLE_PEREZ
    rows = []
    for conv, g in curve.groupby("convention", sort=False):
        last = g.iloc[-1]
        for decades in config["fit_decades"]:
            beta, log_a = fit_growth(g, decades)
            predicted = 10 ** (log_a + beta * math.log10(target)) if np.isfinite(beta) else float("nan")
            rows.append({"convention": conv, "fit_window": f"[{last['samples'] / 10**decades:.3g}, "
                         f"{last['samples']:.3g}]", "checkpoints": int((g["samples"] >= last["samples"]
                                                                         / 10**decades).sum()),
                         "beta": beta, "largest_samples": int(last["samples"]), "distinct_there": int(last["distinct"]),
                         "predicted_distinct_1e10": predicted, "valle_perez_1e10": reference,
                         "ratio_to_valle_perez": predicted / reference})
    return pd.DataFrame(rows)


def render(tables, config, out) -> None:
    curve, levels = tables["curve"], tables["levels"]
    convs = list(dict.fromkeys(curve["convention"]))
    growth = growth_table(curve)
    ext = extrapolation(curve, config)
    target, reference = VALLE_PEREZ

    fig, (ax, ax2) = new_figure(1, 2, width=8.0, height=3.4)
    for conv in convs:
        g = curve.query("convention == @conv")
        line, = ax.loglog(g["samples"], g["distinct"], "o", ms=3, label=CONVENTION_NOTE.get(conv, conv))
        beta, log_a = fit_growth(g, max(config["fit_decades"]))
        if np.isfinite(beta):
            s = np.logspace(math.log10(g["samples"].min()), math.log10(target), 50)
            ax.loglog(s, 10 ** (log_a + beta * np.log10(s)), "--", lw=1, color=line.get_color(),
                      label=rf"fit $D \propto S^{{{beta:.3f}}}$")
        gg = growth.query("convention == @conv")
        ax2.semilogx(gg["samples"], gg["new_fraction"], "o-", ms=3, color=line.get_color(),
                     label=f"{CONVENTION_NOTE.get(conv, conv)}: new in window")
        ax2.semilogx(gg["samples"], gg["good_turing"], ":", color=line.get_color(), label=r"Good-Turing $n_1/S$")
    ax.loglog([target], [reference], "k*", ms=9, label="Valle-Perez et al.: 1.77e9 at 1e10")
    ax.loglog([1e4, target], [1e4, target], color="grey", lw=0.6, ls=":", label="every draw new")
    ax.set_xlabel("samples S")
    ax.set_ylabel("distinct functions D(S)")
    ax.legend(fontsize=6)
    ax2.set_xlabel("samples S")
    ax2.set_ylabel("fraction of draws that are new")
    ax2.set_ylim(0, 1)
    ax2.legend(fontsize=6)
    out.figure("distinct_vs_samples", fig,
               caption="Left: exact distinct functions D(S) of 7-40-40-1 ReLU networks against samples S (one run"
                       " per convention; every S is a prefix of it), the power law fitted over the largest"
                       " checkpoints extended to 10^10, and Valle-Perez et al.'s 1.77e9; right: the fraction of the"
                       " draws since the previous checkpoint that were new, with the Good-Turing estimate n_1/S.")

    fig, ax = new_figure(width=4.2, height=3.4)
    rmax = 1
    for conv in convs:
        lv = levels.query("convention == @conv")
        r, p = rank_frequency_steps(lv["count"].to_numpy(), lv["functions"].to_numpy())
        draws = int((lv["count"] * lv["functions"]).sum())
        ax.loglog(r, p, lw=1.2, label=f"{CONVENTION_NOTE.get(conv, conv)}, {draws:,} draws")
        rmax = max(rmax, int(r[-1]))
    n_log2 = 2 ** int(config["domain"].split(":")[1])
    r = np.logspace(0, math.log10(rmax), 50)
    ax.loglog(r, zipf_reference(r, n_log2), color="black", ls="--", lw=1, label=r"Zipf $1/(r\,\ln 2^{%d})$" % n_log2)
    ax.set_xlabel("rank r")
    ax.set_ylabel("P(r)")
    ax.legend(fontsize=6)
    out.figure("rank_frequency", fig,
               caption="Rank-frequency plot at the largest sample size of each convention's run, with Valle-Perez"
                       " et al.'s Zipf reference.")

    out.table("extrapolation", ext,
              caption="Power law D = A S^beta fitted to the distinct functions at the checkpoints within the last"
                      " one or two decades of samples, extrapolated to 10^10 draws and set against Valle-Perez et"
                      " al.'s 1.77e9 distinct functions at 10^10.")
    out.table("growth", growth, n="window", ci=["new_fraction"], inline=False,
              caption="Distinct functions at each checkpoint, the fraction of the draws since the previous"
                      " checkpoint that were new (95% Wilson interval over the window's draws) and the Good-Turing"
                      " estimate n_1/S of the probability that the next draw is new.")


def _config(max_samples, run_dir_from=None, executor="local", shard_size=1 << 20, keep=False, per_decade=4):
    return {"domain": "bool:7", "hidden": [40, 40], "conventions": ["a", "b"], "start": 10_000,
            "per_decade": per_decade, "max_samples": max_samples, "run_dir_from": run_dir_from,
            "executor": executor, "shard_size": shard_size, "keep_run_dir": keep, "fit_decades": [1, 2]}


EXPERIMENT = Experiment(
    name="distinct-vs-samples",
    title="Distinct functions and fraction of new draws against samples, 7-40-40-1 ReLU (a, b), extrapolated to 1e10",
    scales={
        # seconds: both code paths (in memory below 32,768 draws, a temporary run directory above)
        "quick": _config(60_000, run_dir_from=32_768, executor="inline", shard_size=16_384),
        # about 4 minutes on 2 quiet cores (~140k networks/s): one in-memory run of 1.6e7 draws per convention
        "default": _config(16_000_000),
        # a resumable run directory per convention under .cache/runs (hours on 2 cores; kill and re-run resumes)
        "paper": _config(1_000_000_000, run_dir_from=1 << 20, keep=True),
    },
    compute=compute,
    render=render,
    seed=0,
    sample_counts=lambda config: {f"samples_{c}": int(config["max_samples"]) for c in config["conventions"]},
)
