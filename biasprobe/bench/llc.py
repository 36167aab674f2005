"""`make bench` LLC section: one λ̂ for a 7-40-40-1 ReLU network on 128 inputs, 8 chains × 1000 draws, ours against devinterp.

Three timings of the same estimate (same network, data, ε, γ, nβ = n/ln n, chains and draws, no
burn-in, full batch): the stacked-MLP potential (`biasprobe.slt.mlp`, one `bmm` per layer for all
chains), the generic path for any torch module (`ModelPotential`: `torch.func.functional_call` +
`vmap`), and devinterp's `devinterp.slt.llc.llc` (its 2.x API) when devinterp is installed (an
optional extra: never needed by `make test`; `pip install devinterp` leaves torch 2.13 in place). Medians of repeats, torch at 2 threads.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 10.0
TARGET_VS_DEVINTERP = 10.0
CHAINS, DRAWS = 8, 1000


def _trained_network(seed: int = 0):
    """A 7-40-40-1 ReLU network from the convention-(a) prior trained to the majority function on all 128 inputs."""
    import torch

    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior
    from biasprobe.slt.mlp import StackedMLP, train

    dom = parse_domain("bool:7")
    net = StackedMLP.from_prior(make_prior("mlp", convention="a"), dom)
    x = dom.points.astype(np.float32)
    y = np.where(x.sum(1) > 3.5, 1.0, -1.0).astype(np.float32)[None]
    theta, loss, _ = train(net, net.init([np.random.SeedSequence(seed)]), x, y, steps=2000, lr=3e-3, final_lr=3e-5)
    return net, x, y, theta[0], float(loss[0]), torch


def _module(net, theta, torch):
    """The same network as an nn.Sequential (weights copied from the flat vector)."""
    layers = []
    for i in range(len(net.widths) - 1):
        layers.append(torch.nn.Linear(net.widths[i], net.widths[i + 1]))
        if i < len(net.widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for (w, b), lin in zip(net.layers(theta[None]), [m for m in model if isinstance(m, torch.nn.Linear)]):
            lin.weight.copy_(w[0])
            lin.bias.copy_(b[0, :, 0])
    return model


def _version(package: str):
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _median_seconds(func, repeats: int):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def _devinterp(model, x, y, step, gamma, nbeta, torch, draws=DRAWS):
    """devinterp's λ̂ (its 2.x API, `devinterp.slt.llc.llc`) with the same hyperparameters, or None if not installed.

    devinterp 2 expects a Hugging Face dataset of token ids and a per-token loss; each sample is one
    'token' (the index of its input) and the loss looks the input up, so the model, data, loss
    (f − y)²/2, ε, γ, nβ, chains and draws are the same as ours.
    """
    try:
        from datasets import Dataset
        from devinterp.slt.llc import llc
    except ImportError:
        return None
    xs, ys = torch.as_tensor(x), torch.as_tensor(y[0])

    def loss_fn(m, input_ids):
        idx = input_ids[:, 0]
        return 0.5 * (m(xs[idx])[:, 0] - ys[idx])[:, None] ** 2  # (batch, 1) "per-token" loss

    data = Dataset.from_dict({"input_ids": [[i, 0] for i in range(len(x))]}).with_format("torch")  # length >= 2
    out = llc(model, data, {}, lr=step, n_beta=nbeta, loss_fn=loss_fn, localization=gamma, num_chains=CHAINS,
              num_draws=draws, num_burnin_steps=0, batch_size=len(x), num_init_loss_batches=1, device="cpu")
    return float(out["llc_mean"])


def run(out_dir: Path | None = None, quick: bool = False) -> dict:
    """Measure and return the figures (out_dir is accepted for the bench driver)."""
    from biasprobe.slt.mlp import MLPPotential
    from biasprobe.slt.potentials import ModelPotential
    from biasprobe.slt.sgld import SGLDConfig, sample_llc, torch_threads
    from biasprobe.slt.tuning import auto_config

    repeats = 1 if quick else 3
    draws = 100 if quick else DRAWS
    net, x, y, theta, train_loss, torch = _trained_network()
    pot = MLPPotential(net, x, y)
    nbeta = pot.n / np.log(pot.n)
    with torch_threads(2):
        t0 = time.perf_counter()
        cfg, sweep = auto_config(pot, theta, chains=CHAINS, draws=draws, burn_in=0, threads=2,
                                 levels=3, pilot_chains=4, rounds=3, round_steps=100, remeasure=0)
        tune_s = time.perf_counter() - t0
        cfg = SGLDConfig(step=cfg.step, gamma=cfg.gamma, chains=CHAINS, draws=draws, burn_in=0)
        ours_s, ours = _median_seconds(lambda: sample_llc(pot, theta, cfg, threads=2, warn=False), repeats)
        model = _module(net, theta, torch)
        generic = ModelPotential(model, torch.as_tensor(x), torch.as_tensor(y[0])[:, None], "gaussian", 1.0)
        generic_s, gen = _median_seconds(lambda: sample_llc(generic, generic.flat(), cfg, threads=2, warn=False),
                                         repeats)
        dev_s, dev = _median_seconds(lambda: _devinterp(_module(net, theta, torch), x, y, cfg.step, cfg.gamma,
                                                        nbeta, torch, draws), 1)
    dev_llc = dev
    report = {
        "network": "7-40-40-1 ReLU, convention (a), trained to majority-of-7 (Gaussian NLL, targets ±1)",
        "train_loss": train_loss, "n": int(pot.n), "nbeta": float(nbeta), "chains": CHAINS, "draws": draws,
        "burn_in": 0, "step": cfg.step, "gamma": cfg.gamma, "auto_config_s": round(tune_s, 2),
        "ours_stacked_s": round(ours_s, 3), "ours_stacked_llc": round(ours.llc, 3), "ours_stacked_se": round(ours.llc_se, 3),
        "ours_generic_s": round(generic_s, 3), "ours_generic_llc": round(gen.llc, 3),
        "devinterp_s": round(dev_s, 3) if dev is not None else None, "devinterp_llc": dev_llc,
        "devinterp_version": _version("devinterp"),
        "devinterp_vs_ours": round(dev_s / ours_s, 1) if dev is not None else None,
        "load_average_1min": round(os.getloadavg()[0], 2), "cores": os.cpu_count(), "repeats": repeats,
        "threads": 2,
    }
    print(f"LLC: ours {ours_s:.2f} s (stacked), {generic_s:.2f} s (generic torch.func)"
          + (f", devinterp {dev_s:.2f} s" if dev is not None else ", devinterp not installed"))
    return report


def markdown(f: dict) -> str:
    lines = [
        "## LLC estimate",
        "",
        f"One λ̂ for a {f['network']}, n = {f['n']} inputs, {f['chains']} chains × {f['draws']} draws, no burn-in, "
        f"full batch, ε = {f['step']:.3g}, γ = {f['gamma']:.3g} (chosen by `auto_config` in {f['auto_config_s']} s), "
        f"torch at {f['threads']} threads; medians of {f['repeats']} repeats (1-min load average "
        f"{f['load_average_1min']} on {f['cores']} cores):",
        "",
        "| implementation | seconds | λ̂ |",
        "|---|---:|---:|",
        f"| biasprobe, stacked MLP (`bmm`) | {f['ours_stacked_s']} | {f['ours_stacked_llc']} ± {f['ours_stacked_se']} |",
        f"| biasprobe, any torch module (`functional_call` + `vmap`) | {f['ours_generic_s']} | {f['ours_generic_llc']} |",
    ]
    if f["devinterp_s"] is not None:
        lines.append(f"| devinterp {f['devinterp_version']} `slt.llc.llc` (chains one after another) | {f['devinterp_s']} | "
                     f"{f['devinterp_llc']:.3f} |")
    lines += ["", f"Target under {TARGET_SECONDS:g} s: {'yes' if f['ours_stacked_s'] < TARGET_SECONDS else 'NO'}"
              + (f"; devinterp / ours = **{f['devinterp_vs_ours']}x** (target >= {TARGET_VS_DEVINTERP:g}x)."
                 if f["devinterp_s"] is not None else "; devinterp not installed (optional: `pip install devinterp`).")]
    return "\n".join(lines)
