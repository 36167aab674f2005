"""continuous-inputs: random networks on a 2-D grid drawn as images; their mean frequency and LZ against depth and weight scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biasprobe.pipeline import Experiment
from biasprobe.results import mean_ci, new_figure
from biasprobe.sweep import build_prior, child_seed, convention

FREQUENCY = ["mean_frequency", "mean_frequency_teney"]
MEASURES = [*FREQUENCY, "lz"]
RESOLVED_TOL = 0.05  # a mean half-cycle count that moves by less than this when the grid is refined is resolved
ALIASED_SHARE = 0.9  # at this share of the white-noise value or above, a draw is indistinguishable from noise


def _spec(config, act, depth, scale):
    # Neural Redshift (Teney et al. 2024) scales weights and biases together: sigma_b = sigma_w
    return {"prior": "mlp", "params": {"hidden": [config["width"]] * depth, "activation": act,
                                       "sigma_w": scale, "sigma_b": scale}}


def _coarse(y: np.ndarray, side: int) -> np.ndarray:
    """Every other grid point: grid:2:side with side = 2m - 1 contains grid:2:m exactly (end points included)."""
    return y.reshape(len(y), side, side)[:, ::2, ::2].reshape(len(y), -1)


def _half_cycles(y: np.ndarray, side: int) -> np.ndarray:
    """mean_frequency x r_max on grid:2:side: the energy-weighted mean number of half-cycles across [-1, 1]."""
    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute
    from biasprobe.measures.continuous import max_radius

    domain = parse_domain(f"grid:2:{side}")
    return compute("mean_frequency", y, domain, workers=1)["mean_frequency"] * max_radius(domain)


def _oracles(side: int, seed: int) -> pd.DataFrame:
    """The frequency measures of reference functions on the experiment's own grid (docs/definitions.md §3 oracles)."""
    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute

    domain = parse_domain(f"grid:2:{side}")
    x1, x2 = domain.points[:, 0], domain.points[:, 1]
    rng = np.random.default_rng(np.random.SeedSequence([seed, side]))
    funcs = {"linear ramp x_1": x1, "bump exp(-|x|^2 / 0.18)": np.exp(-(x1**2 + x2**2) / (2 * 0.3**2)),
             "cos(pi (x_1 + 1) / 2), 1 half-cycle": np.cos(np.pi * (x1 + 1) / 2),
             "three-cycle sine sin(3 pi (x_1 + 1))": np.sin(3 * np.pi * (x1 + 1)),
             "cos(4 pi (x_1 + 1)), 8 half-cycles": np.cos(4 * np.pi * (x1 + 1))}
    names = list(funcs)
    noise = rng.standard_normal((8, domain.n_points))
    vals = compute(["mean_frequency", "mean_frequency_teney"], np.vstack([np.stack([funcs[n] for n in names]), noise]),
                   domain, workers=1)
    rows = [{"function": n, "draws": 1, **{m: float(vals[m][i]) for m in vals}} for i, n in enumerate(names)]
    rows.append({"function": "white noise N(0, 1) per grid point", "draws": len(noise),
                 **{m: float(vals[m][len(names):].mean()) for m in vals}})
    return pd.DataFrame(rows)


def _point(config: dict, seed: int, act: str, depth: int, scale: float):
    """One sweep point: its draws' measures on the grid and its subgrid, and (when that moved) a finer-grid check."""
    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute as measure
    from biasprobe.sampling import sample_outputs

    side = int(config["domain"].split(":")[2])
    domain = parse_domain(config["domain"])
    prior = build_prior(_spec(config, act, depth, scale))
    point_seed = child_seed(seed, act, depth, scale)
    y = sample_outputs(prior, domain, config["samples"], point_seed).astype(np.float64)
    finite = np.isfinite(y).all(axis=1)
    # LZ reads sign(y); centring each draw at its median binarises it into two equal halves (a quantisation
    # in the spirit of Teney et al.), so a draw that never crosses 0 is not simply "constant". The frequency
    # measures drop the zero frequency, so the centring does not change them.
    centred = y - np.median(y, axis=1, keepdims=True)
    vals = measure(FREQUENCY, centred, domain, workers=1)
    coarse_side = (side + 1) // 2
    frame = pd.DataFrame({"activation": act, "depth": depth, "sigma_w": float(scale), "draw": np.arange(len(y)),
                          "finite": finite, "convention": convention(prior), **vals,
                          "half_cycles": _half_cycles(y, side), "half_cycles_coarse": _half_cycles(_coarse(y, side),
                                                                                                   coarse_side)})
    # Refinement check: where halving the grid moved the value, evaluate the first draws on the grid with
    # twice the resolution (the same networks: the draws do not depend on the points) and compare.
    check = pd.DataFrame()
    moved = np.abs(frame["half_cycles"] / frame["half_cycles_coarse"] - 1)[finite]
    if config["check_samples"] and len(moved) and float(np.median(moved)) > RESOLVED_TOL:
        fine_side = 2 * side - 1
        k = min(config["check_samples"], len(y))
        y_fine = sample_outputs(prior, parse_domain(f"grid:2:{fine_side}"), k, point_seed).astype(np.float64)
        check = pd.DataFrame({"activation": act, "depth": depth, "sigma_w": float(scale), "draw": np.arange(k),
                              "half_cycles": _half_cycles(_coarse(y_fine, fine_side), side),
                              "half_cycles_fine": _half_cycles(y_fine, fine_side)})
    gallery = pd.DataFrame()
    if depth in config["gallery_depths"] and scale in config["gallery_sigma_w"]:
        gallery = pd.DataFrame({"activation": act, "depth": depth, "sigma_w": float(scale),
                                "pixel": np.arange(y.shape[1]), "value": y[0]})
    return frame, check, gallery, centred


def compute(config: dict, seed: int) -> dict[str, pd.DataFrame]:
    from concurrent.futures import ThreadPoolExecutor

    from biasprobe import runtime

    from biasprobe.errors import UserError

    if int(config["domain"].split(":")[2]) % 2 == 0:
        raise UserError(f"continuous-inputs needs an odd grid size 2m - 1 (its every other point is grid:2:m), "
                        f"got {config['domain']}")
    points = [(act, depth, scale) for act in config["activations"] for depth in config["depths"]
              for scale in config["sigma_w"]]
    # Sweep points are independent (each has its own seed): the numba kernel releases the GIL, so threads
    # fill both cores. torch's generator stays single-threaded inside each point.
    from biasprobe.domains import parse_domain
    from biasprobe.measures import compute as measure

    domain = parse_domain(config["domain"])
    draws, checks, gallery = [], [], []
    with runtime.thread_limits(torch_threads=1), ThreadPoolExecutor(runtime.cores()) as pool:
        for frame, check, image, centred in pool.map(lambda p: _point(config, seed, *p), points):
            # LZ's compiled kernel runs its own threads: called here, in one thread, never from two at once
            frame["lz"] = measure("lz", centred, domain)["lz"]
            draws.append(frame)
            checks.append(check)
            gallery.append(image)
    side = int(config["domain"].split(":")[2])
    return {"draws": pd.concat(draws, ignore_index=True), "refinement": pd.concat(checks, ignore_index=True),
            "gallery": pd.concat(gallery, ignore_index=True), "oracles": _oracles(side, seed)}


def summary(draws: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (act, depth, scale), g in draws.groupby(["activation", "depth", "sigma_w"], sort=False):
        g = g[g["finite"]]
        row = {"activation": act, "depth": depth, "sigma_w": scale, "weights": g["convention"].iloc[0] if len(g) else "",
               "n": len(g)}
        for m in MEASURES:
            row[m], row[f"{m}_lo"], row[f"{m}_hi"] = mean_ci(g[m].to_numpy())
        row["half_cycles"] = float(g["half_cycles"].mean())
        row["half_cycles_coarse"] = float(g["half_cycles_coarse"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def resolution(table: pd.DataFrame, refinement: pd.DataFrame, noise_value: float, config: dict) -> pd.DataFrame:
    """Per sweep point: the mean half-cycle count on the coarse, main and (if checked) finer grid, and a verdict.

    resolved: the count moves by at most RESOLVED_TOL between the two finest grids compared;
    aliased: the main grid's value is at least ALIASED_SHARE of white noise's and refining does not lower it
    (the draws look like noise because the grid cannot follow them); otherwise not converged.
    """
    side = int(config["domain"].split(":")[2])
    out = table[["activation", "depth", "sigma_w", "mean_frequency", "half_cycles_coarse", "half_cycles"]].copy()
    fine = (refinement.groupby(["activation", "depth", "sigma_w"])[["half_cycles", "half_cycles_fine"]].mean()
            .rename(columns={"half_cycles": "half_cycles_checked"}) if len(refinement) else
            pd.DataFrame(columns=["half_cycles_checked", "half_cycles_fine"]))
    out = out.join(fine, on=["activation", "depth", "sigma_w"])
    verdicts = []
    for r in out.to_dict("records"):
        if np.isfinite(r["half_cycles_fine"]):
            change = r["half_cycles_fine"] / r["half_cycles_checked"] - 1
        else:
            change = r["half_cycles"] / r["half_cycles_coarse"] - 1
        if abs(change) <= RESOLVED_TOL:
            verdicts.append("resolved")
        elif r["mean_frequency"] >= ALIASED_SHARE * noise_value and change > 0.5:
            verdicts.append("aliased")
        else:
            verdicts.append("not converged")
    out["verdict"] = verdicts
    out = out.rename(columns={"half_cycles_coarse": f"half_cycles_m{(side + 1) // 2}",
                              "half_cycles": f"half_cycles_m{side}",
                              "half_cycles_checked": f"checked_draws_m{side}",
                              "half_cycles_fine": f"checked_draws_m{2 * side - 1}"})
    return out


def _trend(table: pd.DataFrame, res: pd.DataFrame, act: str, config: dict) -> dict:
    """One activation's numbers: depth and weight-scale effects, the base point, the top resolved point, beyond-grid points."""
    lo_s, hi_s = min(config["sigma_w"]), max(config["sigma_w"])
    lo_d, hi_d = min(config["depths"]), max(config["depths"])
    t = table[table.activation == act].set_index(["depth", "sigma_w"])
    v = res[res.activation == act].set_index(["depth", "sigma_w"])["verdict"]
    resolved = t[v.reindex(t.index).to_numpy() == "resolved"]
    base = t.loc[(lo_d, lo_s)]
    top_at = resolved["mean_frequency"].idxmax() if len(resolved) else (lo_d, lo_s)
    top = t.loc[top_at]
    beyond = v[v != "resolved"]
    rises = bool((top["mean_frequency_lo"] > base["mean_frequency_hi"] and top["mean_frequency"] >= 2 * base["mean_frequency"])
                 or (beyond == "aliased").any())
    return {"act": act, "base": base["mean_frequency"], "top": top["mean_frequency"], "top_at": top_at,
            "depth_lo": t.loc[(lo_d, hi_s), "mean_frequency"], "depth_hi": t.loc[(hi_d, hi_s), "mean_frequency"],
            "scale_lo": t.loc[(hi_d, lo_s), "mean_frequency"], "scale_hi": t.loc[(hi_d, hi_s), "mean_frequency"],
            "beyond": beyond, "rises": rises, "lo_s": lo_s, "hi_s": hi_s, "lo_d": lo_d, "hi_d": hi_d}


def _describe(table: pd.DataFrame, res: pd.DataFrame, config: dict) -> str:
    """What the data shows per activation, in words and numbers computed from the table (for the caption)."""
    parts = []
    for act in config["activations"]:
        r = _trend(table, res, act, config)
        beyond = ""
        if len(r["beyond"]):
            where = ", ".join(f"depth {d} sigma_w {s:g}: {verdict}" for (d, s), verdict in r["beyond"].items())
            beyond = f"; beyond this grid ({where})"
        parts.append(f"{act}: depth {r['lo_d']} to {r['hi_d']} at sigma_w {r['hi_s']:g} {r['depth_lo']:.3g} to "
                     f"{r['depth_hi']:.3g}, sigma_w {r['lo_s']:g} to {r['hi_s']:g} at depth {r['hi_d']} "
                     f"{r['scale_lo']:.3g} to {r['scale_hi']:.3g}, highest resolved {r['top']:.3g} (depth "
                     f"{r['top_at'][0]}, sigma_w {r['top_at'][1]:g}) against {r['base']:.3g} at depth {r['lo_d']}, "
                     f"sigma_w {r['lo_s']:g}{beyond}")
    return "; ".join(parts)


def _verdict(table: pd.DataFrame, res: pd.DataFrame, config: dict) -> str:
    """Teney et al.'s claim against the data: ReLU stays low-frequency, the others become high-frequency.

    An activation "becomes high-frequency" when its highest resolved point is at least twice the value at the
    smallest depth and weight scale with disjoint 95% CIs, or when some point aliases (beyond the grid).
    """
    agree, disagree = [], []
    for act in config["activations"]:
        rises = _trend(table, res, act, config)["rises"]
        (agree if rises == (act != "relu") else disagree).append(f"{act} ({'rises' if rises else 'stays low'})")
    return (f"against Teney et al.'s claim (ReLU stays low-frequency; tanh, GELU and sin become high-frequency with "
            f"depth and weight scale), with 'rises' meaning at least twice the shallowest, smallest-scale value "
            f"with disjoint CIs or aliasing, the data agree for {', '.join(agree) or 'none'}"
            + (f" and disagree for {', '.join(disagree)}" if disagree else ""))


def _oracle_sentence(oracles: pd.DataFrame) -> str:
    """Which ordering each frequency measure gives the reference functions (computed, not asserted)."""
    o = oracles.set_index("function")
    ramp = o.filter(like="ramp", axis=0).iloc[0]
    bump = o.filter(like="bump", axis=0).iloc[0]
    sine = o.filter(like="three-cycle", axis=0).iloc[0]
    noise = o.filter(like="white noise", axis=0).iloc[0]
    out = []
    for m, label in (("mean_frequency", "the cosine-series mean frequency"), ("mean_frequency_teney", "Teney et al.'s")):
        below = ramp[m] < sine[m] and bump[m] < sine[m]
        top = noise[m] >= o[m].max()
        out.append(f"{label} puts ramp ({ramp[m]:.3g}) and bump ({bump[m]:.3g}) "
                   f"{'below' if below else 'not both below'} the three-cycle sine ({sine[m]:.3g}) and white noise "
                   f"({noise[m]:.3g}) {'highest' if top else 'not highest'}")
    return "; ".join(out)


def render(tables, config, out) -> None:
    from matplotlib.ticker import NullLocator

    from biasprobe.doubledescent.plotting import log_count_axis

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

    oracles = tables["oracles"]
    noise_value = float(oracles.loc[oracles.function.str.startswith("white noise"), "mean_frequency"].iloc[0])
    table = summary(tables["draws"])
    res = resolution(table, tables["refinement"], noise_value, config)
    flagged = {verdict: set(map(tuple, res.loc[res.verdict == verdict, ["activation", "depth", "sigma_w"]].to_numpy()))
               for verdict in ("aliased", "not converged")}
    marks = {"aliased": ("o", "aliased (noise-like on this grid)"),
             "not converged": ("s", "not converged (grows with the grid)")}
    rows = [("mean_frequency", "mean frequency\n(cosine series, log)"),
            ("mean_frequency_teney", "mean frequency\n(FFT, Teney et al.)"), ("lz", "$K_{LZ}$ of y > median")]
    fig, axes = new_figure(len(rows), len(acts), width=2.3 * len(acts) + 1.9, height=2.0 * len(rows) + 0.7,
                           sharey="row")
    axes = np.atleast_2d(axes)
    for j, act in enumerate(acts):
        for r, (m, label) in enumerate(rows):
            ax = axes[r, j]
            for k, scale in enumerate(config["sigma_w"]):
                t = table.query("activation == @act and sigma_w == @scale").sort_values("depth")
                ax.errorbar(t["depth"], t[m], yerr=[t[m] - t[f"{m}_lo"], t[f"{m}_hi"] - t[m]], marker="o", ms=2.5,
                            capsize=1.5, lw=1, color=f"C{k}", label=f"sigma_w = sigma_b = {scale:g}")
                for verdict, (marker, text) in marks.items():
                    bad = t[[(act, d, scale) in flagged[verdict] for d in t["depth"]]]
                    ax.plot(bad["depth"], bad[m], ls="none", marker=marker, ms=6, mfc="none", mec="k", mew=0.8,
                            label=text if k == 0 else None)
            if m in ("mean_frequency", "mean_frequency_teney"):
                ax.axhline(oracles.set_index("function")[m].filter(like="white noise").iloc[0], color="0.4",
                           lw=0.8, ls=":", label="white noise")
            ax.set_xscale("log", base=2)
            ax.set_xticks(config["depths"], [str(d) for d in config["depths"]])
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xlabel("depth (hidden layers)" if r == len(rows) - 1 else "")
            if j == 0:
                ax.set_ylabel(label)
            if r == 0:
                ax.set_title(act)
    for ax in axes[0]:  # resolved values span two decades (ramp-like to noise-like): log scale, 1-2-5 labels
        log_count_axis(ax, "y")
    seen = {}
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen.keys()), loc="outside right upper", fontsize=6)
    describe = _describe(table, res, config)
    out.figure("complexity_vs_depth", fig,
               caption=f"Mean frequency of the cosine-series power spectrum (top; docs/definitions.md §3), Teney et "
                       f"al.'s FFT mean frequency (middle) and K_LZ of the output binarised at its median (bottom) "
                       f"against depth for each activation and weight scale on {config['domain']}, mean and 95% CI "
                       f"over {config['samples']} networks, circled where the draws alias on this grid and boxed where "
                       f"their value still grows with the grid (white noise dotted); {describe}; {_verdict(table, res, config)}.")
    out.table("summary", table.drop(columns=["half_cycles", "half_cycles_coarse"]),
              caption=f"Mean frequency (cosine series; Teney et al.'s FFT version beside it) and K_LZ of "
                      f"(y > median y) per activation, depth and weight scale (sigma_b = sigma_w) on {config['domain']}, "
                      f"with 95% CIs over independent draws.", n="n", ci=MEASURES, inline=False)
    counts = res["verdict"].value_counts()
    out.table("resolution", res,
              caption=f"Is each sweep point resolved by the grid: the mean number of half-cycles across [-1, 1] "
                      f"(mean_frequency x r_max) on the subgrid of every other point, on {config['domain']} and, "
                      f"where those differ by more than {RESOLVED_TOL:.0%}, for the first {config['check_samples']} "
                      f"draws on that grid and on one twice as fine; resolved = within {RESOLVED_TOL:.0%}, aliased = "
                      f"at least {ALIASED_SHARE:g} of the white-noise value and still growing with the grid "
                      f"({', '.join(f'{v} {k}' for k, v in counts.items())}).", inline=False)
    out.table("oracles", oracles,
              caption=f"Both frequency measures of reference functions on {config['domain']}: "
                      f"{_oracle_sentence(oracles)}.", n="draws")


def _config(side, samples, depths=(1, 2, 4, 8), sigma_w=(0.5, 1.0, 2.0, 4.0, 8.0), check_samples=2):
    return {"domain": f"grid:2:{side}", "width": 40, "binarise_at": "median",
            "activations": ["relu", "tanh", "sin", "gelu"], "depths": list(depths), "sigma_w": list(sigma_w),
            "samples": samples, "check_samples": check_samples,
            "gallery_depths": [d for d in (1, 2, 8) if d in depths] or list(depths)[:1],
            "gallery_sigma_w": [s for s in (1.0, 4.0) if s in sigma_w] or list(sigma_w)[:1]}


EXPERIMENT = Experiment(
    name="continuous-inputs",
    title="Random networks on grid:2:N as images; mean frequency and LZ vs depth and weight scale (Neural Redshift)",
    # 129 points per axis resolve every sweep point that any affordable grid resolves (sin at depth 4, sigma_w 4
    # converges there); the points beyond it are flagged, not averaged in silently (see the resolution table).
    scales={"quick": _config(33, 4, depths=(1, 4), sigma_w=(1.0, 4.0)), "default": _config(129, 12),
            "paper": _config(257, 100, depths=(1, 2, 4, 8, 16), sigma_w=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
                             check_samples=8)},
    compute=compute,
    render=render,
    seed=0,
)
