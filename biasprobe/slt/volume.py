"""Prior volume against degeneracy on Boolean functions: pick functions by exact prior counts, train networks to them, estimate λ̂ and flatness.

The pipeline behind the `volume-vs-degeneracy` experiment, as plain functions:
`select_functions` (functions at log-spaced prior probabilities, the simplest and the most complex
K_LZ at each level), `fit_networks` (networks drawn from the prior and trained, all at once, to each
function on all inputs or on a training subset), `llc_at_solutions` (λ̂ at every trained network
with one shared ε and γ, so the values are comparable), and `spearman_ci` (rank correlation with a
bootstrap over functions).
"""

from __future__ import annotations

import math

import numpy as np

from biasprobe.errors import UserError


def select_functions(counts: np.ndarray, lz: np.ndarray, levels: int, min_count: int,
                     per_level: int = 2, spread: float = 2.0, head: int = 0) -> np.ndarray:
    """Indices of the `head` most frequent functions, then functions at `levels` log-spaced counts below them.

    The levels run from the largest count after the head down to `min_count`. At each level the
    functions whose count lies within a factor √spread of it are candidates; the one with the
    lowest K_LZ and (per_level ≥ 2) the one with the highest are taken, then further ones at evenly
    spaced K_LZ ranks, so that probability and complexity are not confounded by construction. A
    function is taken once. (Under convention (a) the two constant functions hold 73% of the prior and
    the next function under 0.1%: `head=2` keeps them without spending the levels on the gap.)
    """
    counts = np.asarray(counts)
    if len(counts) == 0:
        raise UserError("no functions were sampled")
    order = np.lexsort((np.arange(len(counts)), -counts))
    chosen = [int(i) for i in order[:head]]
    taken = set(chosen)
    rest = counts[order[head:]]
    if rest.size == 0:
        return np.asarray(chosen, dtype=np.int64)
    top = int(rest.max())
    if min_count < 1 or min_count > top:
        raise UserError(f"min_count must lie in 1..{top} (the largest count after the head), got {min_count}")
    targets = np.unique(np.round(np.geomspace(top, min_count, levels)).astype(np.int64))[::-1]
    half = math.sqrt(spread)
    for c in targets:
        cand = np.flatnonzero((counts >= c / half) & (counts <= c * half))
        cand = np.array([i for i in cand if i not in taken], dtype=np.int64)
        if cand.size == 0:
            continue
        ranked = cand[np.lexsort((cand, lz[cand]))]  # by K_LZ, ties by index (deterministic)
        picks = [ranked[0]] if per_level == 1 else [ranked[int(round(j))] for j in
                                                    np.linspace(0, len(ranked) - 1, min(per_level, len(ranked)))]
        for i in picks:
            if int(i) not in taken:
                taken.add(int(i))
                chosen.append(int(i))
    return np.asarray(chosen, dtype=np.int64)


def spearman_ci(x, y, groups=None, reps: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Spearman ρ(x, y) with a percentile bootstrap interval, resampling whole groups (functions) when given."""
    from scipy import stats

    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    g = np.arange(len(x)) if groups is None else np.asarray(groups)[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, math.nan
    rho = float(stats.spearmanr(x, y).statistic)
    labels = np.unique(g)
    members = [np.flatnonzero(g == lab) for lab in labels]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EA2]))
    boots = []
    for _ in range(reps):
        idx = np.concatenate([members[k] for k in rng.integers(0, len(labels), len(labels))])
        if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
            boots.append(stats.spearmanr(x[idx], y[idx]).statistic)
    if not boots:
        return rho, math.nan, math.nan
    lo, hi = np.nanpercentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return rho, float(lo), float(hi)


def fit_networks(net, targets_pm1: np.ndarray, masks: np.ndarray, x: np.ndarray, seeds, *, steps: int,
                 lr: float, final_lr: float, tol: float, threads: int | None = None, chunk: int = 256):
    """Draw one network per row from the prior (its own seed) and train it to its ±1 targets on its mask.

    Returns (theta (R, d) float32, train loss (R,), initial loss (R,)); rows are trained in chunks of
    `chunk` networks (each chunk one batched computation).
    """
    import torch

    from biasprobe.slt.mlp import MLPPotential, train

    thetas, losses, init_losses = [], [], []
    for start in range(0, len(seeds), chunk):
        sl = slice(start, start + chunk)
        th0 = net.init(seeds[sl])
        pot = MLPPotential(net, x, targets_pm1[sl], masks[sl])
        init_losses.append(pot.evaluate(th0)[0])
        th, loss, _ = train(net, th0, x, targets_pm1[sl], masks[sl], steps=steps, lr=lr, final_lr=final_lr,
                            tol=tol, threads=threads)
        thetas.append(th)
        losses.append(loss)
    return torch.cat(thetas), torch.cat(losses).double().numpy(), torch.cat(init_losses).double().numpy()


def llc_at_solutions(net, thetas, targets_pm1, masks, x, step: float, gamma: float, *, chains: int,
                     burn_in: int, draws: int, seed: int, threads: int | None = None, chunk: int = 512,
                     accept_every: int = 10) -> dict:
    """λ̂ (mean over `chains` chains) and its SE at every trained network, all with the same ε and γ.

    Network r's chains are seeded by SeedSequence([seed, r]) children, so a network's estimate does not
    depend on which others run beside it. Networks are grouped by training-set size n (β = 1/ln n per group).
    """
    from biasprobe.slt.mlp import MLPPotential
    from biasprobe.slt.sgld import chain_seeds, run_chains

    R = thetas.shape[0]
    n_of = np.asarray(masks).sum(1)
    llc, se, acc, vir, below = (np.full(R, np.nan) for _ in range(5))
    per_chunk = max(1, chunk // chains)
    for n in np.unique(n_of):
        rows = np.flatnonzero(n_of == n)
        nbeta = n / math.log(n)
        for start in range(0, len(rows), per_chunk):
            sel = rows[start:start + per_chunk]
            rep = np.repeat(sel, chains)
            pot = MLPPotential(net, x, targets_pm1[rep], masks[rep])
            seeds = [s for r in sel for s in chain_seeds(int(np.random.SeedSequence([seed, int(r)]).generate_state(1)[0]),
                                                         chains)]
            raw = run_chains(pot, thetas[rep], np.full(len(rep), step), np.full(len(rep), gamma), nbeta, burn_in,
                             draws, seeds, None, accept_every, threads)
            energy = nbeta * (raw["trace"][:, burn_in:] - raw["loss_star"][:, None])
            per_chain = energy.mean(1).reshape(len(sel), chains)
            finite = np.isfinite(per_chain)
            llc[sel] = np.where(finite.all(1), per_chain.mean(1), np.nan)
            se[sel] = per_chain.std(1, ddof=1) / math.sqrt(chains) if chains > 1 else np.nan
            acc[sel] = np.nanmean(raw["acceptance"].reshape(len(sel), chains, -1), axis=(1, 2))
            vir[sel] = np.nanmean(raw["virial"].reshape(len(sel), chains, -1), axis=(1, 2))
            below[sel] = energy[:, energy.shape[1] // 2:].mean(1).reshape(len(sel), chains).min(1)
    return {"llc": llc, "llc_se": se, "acceptance": acc, "virial": vir, "min_late_energy": below}
