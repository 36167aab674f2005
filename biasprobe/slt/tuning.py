"""Automatic SGLD hyperparameters: a γ sweep run as one batched computation, ε set per γ by the MALA acceptance, scored by the virial.

The procedure (`auto_config`), so that nobody tunes by hand:

1. γ takes the values nβ·f^(−k), k = 0 … levels−1 (f = `gamma_factor`): from a localisation as
   stiff as a unit-curvature direction of the tempered loss down to a weak one. Smaller γ means
   less localisation bias (λ̂ rises towards λ) but chains that must travel further to equilibrate.
2. Every γ gets `pilot_chains` chains and its own step ε, and all of them run together (one
   batched computation with per-chain ε and γ). For `rounds` short rounds each ε is moved
   multiplicatively (×4, ×2 after an overshoot) until the mean MALA acceptance of its chains lies in
   [accept_low, accept_high].
3. A measuring run of the final length (burn_in + draws) gives, per γ, λ̂(γ) and the virial ratio
   v = E[(w − w*)·∇U]/d over the second half of the draws. v = 1 exactly at equilibrium
   (integration by parts, U = nβL_n + (γ/2)‖w − w*‖²); v < 1 means the chains have not spread over
   the posterior yet, v > 1 that the step inflates it (for a Gaussian, v = 1/(1 − εP/4)). A γ whose
   measurement has acceptance below accept_low or v above 1 + virial_tol gets ε halved and is
   measured again (at most `remeasure` times).
4. γ is *stable* when no chain diverged, the acceptance is at least accept_low with at most
   `max_rejections` of the steps below 1/2 (rare large rejections flag stiff corners the step
   jumps over), |v − 1| ≤ virial_tol + 2 SE(v), and the chains show no drift between the halves of
   their draws (|z| ≤ 4). The choice is the smallest stable γ: the least localised posterior that
   the chains resolve within the run's length. If the next γ down was unstable only because its
   chains had not equilibrated, and its λ̂ was higher (by 2% and one combined SE), the sweep says so
   in `notes` and `estimate` may retry with twice the draws (up to `max_draws`).

The pilots use chain seeds disjoint from the final run's (a fixed offset in the seed tree), so the
whole choice is deterministic and the final chains are fresh.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from biasprobe.errors import UserError
from biasprobe.slt.sgld import LLCWarning, SGLDConfig, run_chains, sample_llc

PILOT_SEED_OFFSET = 1_000_003


def _group_stats(raw: dict, groups: int, per: int, burn_in: int, nbeta: float) -> list[dict]:
    """Per γ group: acceptance (mean, and the share of steps below 1/2), λ̂ and SE, virial and its SE, drift."""
    energy = nbeta * (raw["trace"] - raw["loss_star"][:, None])
    kept = energy[:, burn_in:]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for g in range(groups):
            rows = slice(g * per, (g + 1) * per)
            k = kept[rows]
            diverged = bool((~np.isfinite(energy[rows])).any() or (np.abs(energy[rows]) > 1e12).any())
            acc_steps = raw["acceptance"][rows]
            acc = float(np.nanmean(acc_steps)) if not diverged else 0.0
            rare = float(np.mean(acc_steps < 0.5)) if acc_steps.size and not diverged else 1.0
            vir_steps = raw["virial"][rows]
            vir_chain = np.nanmean(vir_steps[:, vir_steps.shape[1] // 2:], 1) if vir_steps.shape[1] else np.full(per, np.nan)
            chain = k.mean(1)
            half = k.shape[1] // 2
            drift = math.nan
            if half >= 1:
                diff = k[:, half:].mean(1) - k[:, :half].mean(1)
                sd = diff.std(ddof=1) / math.sqrt(per)
                drift = float(diff.mean() / sd) if sd > 0 else 0.0
            out.append({"acceptance": acc, "rejections": rare, "llc": float(chain.mean()),
                        "llc_se": float(chain.std(ddof=1) / math.sqrt(per)),
                        "virial": float(vir_chain.mean()), "virial_se": float(vir_chain.std(ddof=1) / math.sqrt(per)),
                        "drift_z": drift, "localisation": float(np.nanmean(raw["localisation"][rows]))
                        if raw["localisation"].size else math.nan, "diverged": diverged})
    return out


def auto_config(potential, w_star, *, chains: int = 8, draws: int = 1000, burn_in: int | None = None,
                batch_size: int | None = None, beta: float | None = None, seed: int = 0,
                gamma_top: float | None = None, gamma_factor: float = 10 ** 0.5, levels: int = 10,
                accept=(0.9, 0.98), virial_tol: float = 0.05, max_rejections: float = 0.01,
                pilot_chains: int = 8, rounds: int = 8,
                round_steps: int = 150, remeasure: int = 2, threads: int | None = None):
    """(SGLDConfig, sweep): ε and γ for C chains × draws, chosen by the procedure in the module docstring.

    The sweep is a dict with ``rows`` (one per γ: step, acceptance, λ̂, SE, virial, drift, stable,
    chosen), ``notes`` (what limited the choice) and the pilot settings.
    """
    # half as many burn-in steps as draws: at singular w* the chains' spread out from w* is the slow part
    burn_in = burn_in if burn_in is not None else max(100, draws // 2)
    base = SGLDConfig(step=1.0, gamma=1.0, chains=chains, draws=draws, burn_in=burn_in, batch_size=batch_size,
                      beta=beta, seed=seed)
    if not gamma_factor > 1 or levels < 1 or pilot_chains < 2 or rounds < 0 or round_steps < 4:
        raise UserError("auto_config needs gamma_factor > 1, levels >= 1, pilot_chains >= 2, rounds >= 0 and "
                        "round_steps >= 4")
    lo, hi = accept
    nbeta = potential.n * base.inverse_temperature(potential.n)
    top = float(gamma_top) if gamma_top is not None else nbeta
    gammas = top / gamma_factor ** np.arange(levels)
    steps = 0.5 / (nbeta + gammas)  # a unit-curvature direction at acceptance ≈ 1; the rounds correct it
    factor = np.full(levels, 4.0)
    last = np.zeros(levels)
    per = pilot_chains
    seeds = np.random.SeedSequence([int(seed), PILOT_SEED_OFFSET]).spawn(levels * per)

    def run(total_burn, total_draws):
        raw = run_chains(potential, w_star, np.repeat(steps, per), np.repeat(gammas, per), nbeta, total_burn,
                         total_draws, seeds, batch_size, 1 if total_draws <= 400 else 5, threads)
        return _group_stats(raw, levels, per, total_burn, nbeta)

    for _ in range(rounds):
        stats = run(round_steps // 2, round_steps - round_steps // 2)
        for g, st in enumerate(stats):
            a = st["acceptance"]
            if lo <= a <= hi:
                continue
            direction = 1.0 if a > hi else -1.0
            if last[g] and direction != last[g]:
                factor[g] = max(math.sqrt(factor[g]), 1.5)
            last[g] = direction
            steps[g] = steps[g] * factor[g] if direction > 0 else steps[g] / factor[g]
    for attempt in range(remeasure + 1):
        stats = run(burn_in, draws)
        bad = [g for g, st in enumerate(stats) if st["acceptance"] < lo or st["rejections"] > max_rejections
               or st["virial"] - 2 * st["virial_se"] > 1 + virial_tol]
        if not bad or attempt == remeasure:
            break
        steps[bad] /= 2.0
    rows = []
    for g, st in enumerate(stats):
        stable = (not st["diverged"] and st["acceptance"] >= lo and st["rejections"] <= max_rejections
                  and abs(st["virial"] - 1) <= virial_tol + 2 * st["virial_se"]
                  and not abs(st["drift_z"]) > 4)
        rows.append({"gamma": float(gammas[g]), "step": float(steps[g]), **st, "stable": bool(stable)})
    chosen = None
    for g, row in enumerate(rows):  # the least localised γ whose chains are equilibrated and undistorted
        if row["stable"]:
            chosen = g
    notes, rising = [], False
    if chosen is None:
        chosen = 0
        notes.append("no γ in the sweep gave equilibrated, undistorted chains (even the stiffest, γ = nβ); the "
                     "estimate is unreliable: check that w* is a minimum and the loss a per-sample NLL")
    elif chosen + 1 < levels:
        nxt, cur = rows[chosen + 1], rows[chosen]
        unequilibrated = nxt["virial"] < 1 - virial_tol and not nxt["diverged"]
        if unequilibrated and nxt["llc"] > 1.02 * cur["llc"] + math.hypot(cur["llc_se"], nxt["llc_se"]):
            rising = True
            notes.append(f"λ̂ was still rising as γ fell (to {nxt['llc']:.3g} at γ = {nxt['gamma']:.3g}, whose chains had "
                         f"not equilibrated in {burn_in + draws} steps): expect λ̂ biased low by localisation; more "
                         "draws let a smaller γ in")
    for g, row in enumerate(rows):
        row["chosen"] = g == chosen
    cfg = SGLDConfig(step=rows[chosen]["step"], gamma=rows[chosen]["gamma"], chains=chains, draws=draws,
                     burn_in=burn_in, batch_size=batch_size, beta=beta, seed=seed)
    sweep = {"rows": rows, "notes": notes, "rising": rising, "draws": draws, "pilot_chains": per, "rounds": rounds, "round_steps": round_steps,
             "accept": [lo, hi], "virial_tol": virial_tol}
    return cfg, sweep


def estimate(potential, w_star, *, chains: int = 8, draws: int = 1000, burn_in: int | None = None,
             batch_size: int | None = None, beta: float | None = None, seed: int = 0, threads: int | None = None,
             warn: bool = True, max_draws: int | None = None, **tuning):
    """auto_config, then the final run: λ̂ with its sweep in ``result.extra['auto']``.

    With `max_draws` above `draws`, a sweep whose λ̂ was still rising at a γ the chains could not
    equilibrate in time is repeated with twice the draws (and burn-in), up to max_draws: the run
    length is then chosen too, by the same equilibrium test. A final run with diverged chains or
    acceptance below accept_low is repeated at half the step (at most twice).
    """
    max_draws = draws if max_draws is None else max(int(max_draws), draws)
    while True:
        cfg, sweep = auto_config(potential, w_star, chains=chains, draws=draws, burn_in=burn_in,
                                 batch_size=batch_size, beta=beta, seed=seed, threads=threads, **tuning)
        if not sweep.get("rising") or draws * 2 > max_draws:
            break
        draws *= 2
        burn_in = None if burn_in is None else burn_in * 2
    lo = tuning.get("accept", (0.9, 0.98))[0]
    for _ in range(3):  # the final chains are fresh: if they meet a stiffer corner than the pilots did, halve ε
        res = sample_llc(potential, w_star, cfg, threads=threads, warn=False)
        if not res.diverged.any() and float(np.nanmean(res.acceptance)) >= lo:
            break
        sweep["notes"].append(f"final run at ε = {cfg.step:.3g} had diverged chains or acceptance below {lo}; "
                              "repeated at ε/2")
        cfg = SGLDConfig(**{**cfg.__dict__, "step": cfg.step / 2})
    res.extra["auto"] = sweep
    if warn:
        for note in [*res.warnings, *sweep["notes"]]:
            warnings.warn(note, LLCWarning, stacklevel=2)
    return res
