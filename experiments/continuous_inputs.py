"""continuous-inputs: random networks on a 2-D grid drawn as images, and their mean frequency and LZ against depth and weight scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.sweep import build_prior, child_seed, convention
from biasprobe.results import mean_ci, new_figure

MEASURES = ["mean_frequency", "lz"]


def _spec(config, act, depth, scale):
    # Neural Redshift (Teney et al. 2024) scales weights and biases together: sigma_b = sigma_w
    return {"prior": "mlp", "params": {"hidden": [config["width"]] * depth, "activation": act,
                                       "sigma_w": scale, "sigma_b": scale}}


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute as measure
    from biasprobe.sampling import sample_outputs

    domain = parse_domain(config["domain"])
    draws, gallery = [], []
    for act in config["activations"]:
        for depth in config["depths"]:
            for scale in config["sigma_w"]:
                prior = build_prior(_spec(config, act, depth, scale))
                y = sample_outputs(prior, domain, config["samples"], child_seed(seed, act, depth, scale))
                # LZ reads sign(y); centring each draw at its median binarises it into two equal halves (a
                # quantisation in the spirit of Teney et al.), so a draw that never crosses 0 is not simply
                # "constant". The FFT's zero frequency is dropped, so mean frequency is unaffected.
                vals = measure(MEASURES, y - np.median(y, axis=1, keepdims=True), domain)
                frame = pd.DataFrame({"activation": act, "depth": depth, "sigma_w": float(scale),
                                      "draw": np.arange(len(y)), "finite": np.isfinite(y).all(axis=1),
                                      "convention": convention(prior), **vals})
                draws.append(frame)
                if depth in config["gallery_depths"] and scale in config["gallery_sigma_w"]:
                    gallery.append(pd.DataFrame({"activation": act, "depth": depth, "sigma_w": float(scale),
                                                 "pixel": np.arange(y.shape[1]), "value": y[0]}))
    return {"draws": pd.concat(draws, ignore_index=True), "gallery": pd.concat(gallery, ignore_index=True)}


def summary(draws: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (act, depth, scale), g in draws.groupby(["activation", "depth", "sigma_w"], sort=False):
        g = g[g["finite"]]
        row = {"activation": act, "depth": depth, "sigma_w": scale, "weights": g["convention"].iloc[0] if len(g) else "",
               "n": len(g)}
        for m in MEASURES:
            row[m], row[f"{m}_lo"], row[f"{m}_hi"] = mean_ci(g[m].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


def render(tables, config, out) -> None:
    side = int(config["domain"].split(":")[2])
    gal = tables["gallery"]
    acts = config["activations"]
    cols = [(d, s) for s in config["gallery_sigma_w"] for d in config["gallery_depths"]]
    fig, axes = new_figure(len(acts), len(cols), width=0.95 * len(cols) + 0.8, height=1.0 * len(acts) + 0.6)
    axes = np.atleast_2d(axes)
    for i, act in enumerate(acts):
        for j, (depth, scale) in enumerate(cols):
            ax = axes[i, j]
            g = gal.query("activation == @act and depth == @depth and sigma_w == @scale").sort_values("pixel")
            img = g["value"].to_numpy().reshape(side, side)
            # canonical order has x_1 most significant: rows are x_1, so x_2 runs along the image's width
            ax.imshow(img, cmap="viridis", origin="lower", extent=(-1, 1, -1, 1), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"depth {depth}\nsigma_w={scale:g}", fontsize=5.5)
            if j == 0:
                ax.set_ylabel(act, fontsize=7)
    out.figure("gallery", fig,
               caption=f"One random width-{config['width']} network per activation (rows), depth and weight scale "
                       f"(columns) evaluated on {config['domain']} over [-1, 1]^2, each image on its own colour scale.")

    table = summary(tables["draws"])
    fig, axes = new_figure(2, len(acts), width=2.3 * len(acts) + 0.6, height=4.6, sharey="row")
    axes = np.atleast_2d(axes)
    for j, act in enumerate(acts):
        for r, m in enumerate(MEASURES):
            ax = axes[r, j]
            for scale in config["sigma_w"]:
                t = table.query("activation == @act and sigma_w == @scale").sort_values("depth")
                ax.errorbar(t["depth"], t[m], yerr=[t[m] - t[f"{m}_lo"], t[f"{m}_hi"] - t[m]], marker="o", ms=2.5,
                            capsize=1.5, lw=1, label=f"sigma_w={scale:g}")
            ax.set_xscale("log", base=2)
            ax.set_xlabel("depth" if r == 1 else "")
            if j == 0:
                ax.set_ylabel({"mean_frequency": "mean frequency", "lz": r"$K_{LZ}$ of y > median"}[m])
            if r == 0:
                ax.set_title(act)
    axes[0, 0].legend(fontsize=5)
    out.figure("complexity_vs_depth", fig,
               caption="Mean frequency (top) and LZ complexity of the output binarised at its median (bottom) against depth for "
                       "each activation and weight scale, with 95% CIs.")
    out.table("summary", table,
              caption="Mean frequency and K_LZ of (y > median y) per activation, depth and weight scale (sigma_b = sigma_w), "
                      "with 95% CIs over independent draws.", n="n", ci=MEASURES, inline=False)


def _config(side, samples, depths=(1, 2, 4, 8), sigma_w=(0.5, 1.0, 2.0, 4.0, 8.0)):
    return {"domain": f"grid:2:{side}", "width": 40, "binarise_at": "median", "activations": ["relu", "tanh", "sin", "gelu"],
            "depths": list(depths), "sigma_w": list(sigma_w), "samples": samples,
            "gallery_depths": [d for d in (1, 2, 8) if d in depths] or list(depths)[:1],
            "gallery_sigma_w": [s for s in (1.0, 4.0) if s in sigma_w] or list(sigma_w)[:1]}


EXPERIMENT = Experiment(
    name="continuous-inputs",
    title="Random networks on grid:2:N as images; mean frequency and LZ vs depth and weight scale (Neural Redshift)",
    scales={"quick": _config(32, 4, depths=(1, 4), sigma_w=(1.0, 4.0)), "default": _config(64, 24),
            "paper": _config(256, 200, depths=(1, 2, 4, 8, 16), sigma_w=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0))},
    compute=compute,
    render=render,
    seed=0,
)
