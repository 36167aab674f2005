"""enumeration-and-encoding: which measures' "simpler than the counting measure" verdicts survive re-enumeration and {0,1} vs {±1} inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.sweep import child_seed, convention, sample_functions
from biasprobe.results import new_figure

Z_THRESHOLD = 3.0  # |z| of the difference of means for a verdict other than "same"
D_THRESHOLD = 0.2  # and at least this effect size, so that huge samples do not turn trivia into verdicts


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute as measure

    rows, priors = [], []
    for enc in config["encodings"]:
        base = parse_domain(enc)
        for spec in config["priors"]:
            # the functions do not depend on the enumeration order (tables are canonical), so one sample per
            # (encoding, prior) is measured under every order
            bits, counts, nonfinite, prior = sample_functions(spec, base, config["samples"],
                                                              child_seed(seed, enc, spec["label"]))
            w = counts.astype(float)
            priors.append({"encoding": enc, "prior": spec["label"], "convention": convention(prior),
                           "n": int(w.sum()), "nonfinite": nonfinite, "distinct": int(len(counts))})
            for order in config["orders"]:
                domain = parse_domain(enc if order == "lex" else f"{enc}@{order}")
                values = measure(config["measures"], bits, domain)
                for name, v in values.items():
                    mean = float(np.sum(w * v) / w.sum())
                    sd = float(np.sqrt(np.sum(w * (v - mean) ** 2) / max(w.sum() - 1, 1)))
                    rows.append({"encoding": enc, "order": order, "prior": spec["label"], "measure": name,
                                 "n": int(w.sum()), "mean": mean, "sd": sd})
    return {"stats": pd.DataFrame(rows), "priors": pd.DataFrame(priors)}


def verdicts(stats: pd.DataFrame) -> pd.DataFrame:
    """Each prior against the counting measure under the same encoding, order and measure.

    d is Cohen's d (difference of means over the pooled standard deviation), signed so that positive means
    "more complex"; the verdict is "simpler"/"more complex" when |z| > 3 and |d| > 0.2 (a "small" effect).
    """
    from biasprobe.measures import get_measure

    ref = stats[stats["prior"] == "counting"].set_index(["encoding", "order", "measure"])
    rows = []
    for rec in stats[stats["prior"] != "counting"].to_dict("records"):
        r = ref.loc[(rec["encoding"], rec["order"], rec["measure"])]
        sign = 1.0 if get_measure(rec["measure"]).higher_is_more_complex else -1.0
        diff = sign * (rec["mean"] - r["mean"])
        se = np.sqrt(rec["sd"] ** 2 / rec["n"] + r["sd"] ** 2 / r["n"])
        z = diff / se if se > 0 else (0.0 if diff == 0 else np.inf * np.sign(diff))
        pooled = np.sqrt((rec["sd"] ** 2 + r["sd"] ** 2) / 2)
        d = diff / pooled if pooled > 0 else 0.0
        if abs(z) > Z_THRESHOLD and abs(d) > D_THRESHOLD:
            verdict = "simpler" if diff < 0 else "more complex"
        else:
            verdict = "same"
        rows.append({**rec, "d": d, "z": z, "verdict": verdict})
    return pd.DataFrame(rows)


def survival(v: pd.DataFrame, config, priors: pd.DataFrame) -> pd.DataFrame:
    """One row per (measure, prior): d under each encoding and order class, and whether the verdict never changes."""
    weights = dict(zip(priors["prior"], priors["convention"]))
    rows = []
    for (measure, prior), g in v.groupby(["measure", "prior"], sort=False):
        row = {"measure": measure, "prior": prior, "weights": weights.get(prior, ""), "n": int(g["n"].min())}
        for enc in config["encodings"]:
            tag = enc.split(":")[0]
            for cls in ("lex", "gray", "perm"):
                sel = g[(g["encoding"] == enc) & g["order"].str.startswith(cls)]
                row[f"d_{tag}_{cls}"] = float(sel["d"].mean()) if len(sel) else np.nan
        counts = g["verdict"].value_counts()
        row["verdicts"] = ", ".join(f"{k} x{n}" for k, n in counts.items())
        lex = g[g["order"] == "lex"]
        row["same_across_orders"] = bool(g.groupby("encoding")["verdict"].nunique().max() == 1)
        row["same_across_encodings"] = bool(lex["verdict"].nunique() == 1)
        rows.append(row)
    return pd.DataFrame(rows)


def render(tables, config, out) -> None:
    v = verdicts(tables["stats"])
    surv = survival(v, config, tables["priors"])
    labels = [p["label"] for p in config["priors"] if p["label"] != "counting"]
    measures = config["measures"]
    variants = [(e, o) for e in config["encodings"] for o in config["orders"]]
    ncols = 2
    nrows = -(-len(labels) // ncols)
    fig, axes = new_figure(nrows, ncols, width=8.4, height=2.9 * nrows + 0.5)
    axes = np.atleast_1d(axes).ravel()
    import seaborn as sns

    for ax, lab in zip(axes, labels):
        g = v[v["prior"] == lab]
        mat = pd.DataFrame(np.nan, index=measures, columns=[f"{e}@{o}" for e, o in variants])
        for rec in g.to_dict("records"):
            mat.loc[rec["measure"], f"{rec['encoding']}@{rec['order']}"] = rec["d"]
        sns.heatmap(mat.clip(-5, 5), ax=ax, vmin=-5, vmax=5, cmap="vlag", annot=mat.round(1), fmt="",
                    annot_kws={"size": 4.5}, cbar=False)
        ax.set_title(lab, fontsize=7)
        ax.tick_params(labelsize=5)
    for ax in axes[len(labels):]:
        ax.set_axis_off()
    out.figure("effect_sizes", fig,
               caption="Shift of each measure from the counting measure (Cohen's d with pooled SD, negative = simpler, "
                       "colour clipped at +-5) for every prior under every input encoding and enumeration order.")
    out.table("survival", surv,
              caption="Per measure and prior: mean effect size d (Cohen's) against the counting measure for each encoding and "
                      "order class (perm = mean over the random permutations), the verdicts over all variants, and "
                      "whether the verdict is unchanged across orders and across encodings.", n="n")
    detail = v[["encoding", "order", "prior", "measure", "n", "mean", "sd", "d", "z", "verdict"]]
    out.table("verdicts", detail,
              caption="Every (encoding, order, prior, measure): mean and SD of the measure, effect size d and z "
                      "against the counting measure, and the verdict (|z| > 3 and |d| > 0.2).", n="n", inline=False)


def _priors():
    return [
        {"label": "counting", "prior": "counting"},
        {"label": "perceptron", "prior": "perceptron", "params": {"sigma_b": 1.0}},
        {"label": "relu 7-40-40-1", "prior": "mlp", "params": {"hidden": [40, 40], "activation": "relu"}},
        {"label": "tanh depth 5, sigma_w=4", "prior": "mlp",
         "params": {"hidden": [40] * 5, "activation": "tanh", "sigma_w": 4.0, "sigma_b": 0.1}},
        {"label": "degree-2 PTF", "prior": "polynomial", "params": {"family": "ptf", "degree": 2}},
    ]


MEASURES = ["lz", "zlib", "entropy", "sensitivity", "gc", "csr", "fourier_l1", "fourier_degree", "spectral_entropy"]


def _config(samples, n_perms=3):
    return {"encodings": ["bool:7", "pm1:7"], "orders": ["lex", "gray", *[f"perm:{i}" for i in range(1, n_perms + 1)]],
            "priors": _priors(), "measures": MEASURES, "samples": samples}


EXPERIMENT = Experiment(
    name="enumeration-and-encoding",
    title="Which measures' verdicts survive lex/Gray/random enumeration and {0,1} vs {±1} encoding",
    scales={"quick": _config(1_000, n_perms=1), "default": _config(20_000), "paper": _config(1_000_000, n_perms=10)},
    compute=compute,
    render=render,
    seed=0,
)
