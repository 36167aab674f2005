"""SGLD sampling of the localised tempered posterior and the LLC estimate λ̂ = nβ(E[L_n] − L_n(w*)), many chains at once.

Every scaling, written out once (Lau et al. 2023, "Quantifying degeneracy in singular models via the
learning coefficient"; docs/definitions.md §9):

* posterior   p(w) ∝ exp(−nβ L_n(w) − (γ/2)‖w − w*‖²),  β = 1/ln n unless given; L_n is the *mean*
  per-sample negative log-likelihood over the n samples (not a sum, not a batch mean scaled by the
  batch size: the nβ in front is the only place n enters).
* update      w ← w + (ε/2)·(−nβ ∇L_b(w) − γ (w − w*)) + √ε·ξ,  ξ ~ N(0, I),
  L_b the mean loss over a minibatch of b samples (b = n, the default for small data: the exact gradient).
* estimate    λ̂_c = nβ·(mean over the kept draws of L(w_t) − L_n(w*)) for chain c;
  λ̂ = mean_c λ̂_c and its standard error sd_c(λ̂_c)/√C over the C chains (batch means within the
  chain when C = 1). L_n(w*) is always the full-data loss.
* draws       every chain starts at w*, takes `burn_in` steps that are discarded, then `draws` steps
  that are all kept; L(w_t) is recorded after each step: the full-data loss when b = n, otherwise
  L_b(w_t) − L_b(w*) + L_n(w*) on the step's own batch (a control variate: unbiased for L_n(w_t),
  with the batch-to-batch noise of L_b largely cancelled).
* MALA check  for each step w → w' the Metropolis–Hastings acceptance probability
  min(1, p(w') q(w | w') / (p(w) q(w' | w))) with q(· | w) = N(w + (ε/2)∇log p(w), εI) is computed
  (never applied: the sampler is SGLD) on every `accept_every`-th kept step (with minibatches from one
  extra evaluation on that step's batch). Near 1 means the step resolves the posterior; devinterp's
  guidance and ours is ≳ 0.9.
* virial      at equilibrium E[(w − w*)·∇U(w)] = d for U = nβL_n + (γ/2)‖w − w*‖² (integration by
  parts), so its chain average over d (`virial`) is 1 once the chains have spread over the posterior
  and the step does not distort it; below 1 means not yet equilibrated. `localisation` is the part
  γE‖w − w*‖²/d that the localisation term carries (0: γ does not constrain the chains).
* seeding     chain c draws its noise and its minibatches from its own torch generators, seeded
  from ``SeedSequence(seed).spawn(C)[c]``; noise comes in blocks of NOISE_BLOCK steps (a constant),
  so chain c's path is the same whether it runs alone or beside 500 others.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from biasprobe.errors import UserError

NOISE_BLOCK = 16  # steps of Gaussian noise drawn per generator call (a constant: part of the stream's definition)
ACCEPT_GOOD = 0.9  # MALA acceptance we aim for
ACCEPT_WARN = 0.5  # below this the step is clearly too large
BELOW_WARN = 1.0  # a chain whose mean nβ(L − L*) over its last half is below −1 (one unit of tempered energy)


class LLCWarning(UserWarning):
    """A diagnostic of an LLC estimate (w* not a minimum, divergence, low acceptance, drift)."""


@dataclass(frozen=True)
class SGLDConfig:
    """The hyperparameters of one λ̂ estimate (see the module docstring for what each one scales).

    step: ε; gamma: γ; chains: C; draws: kept steps per chain; burn_in: discarded steps per chain;
    batch_size: b (None: full batch); beta: inverse temperature (None: 1/ln n); seed: root seed;
    accept_every: stride of the diagnostics (MALA acceptance, virial) over the kept steps.
    """

    step: float
    gamma: float
    chains: int = 8
    draws: int = 1000
    burn_in: int = 200
    batch_size: int | None = None
    beta: float | None = None
    seed: int = 0
    accept_every: int = 10

    def __post_init__(self):
        for name in ("step", "gamma"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise UserError(f"SGLD {name} must be a finite number > 0, got {v!r}")
        for name, low in (("chains", 1), ("draws", 1), ("burn_in", 0), ("seed", 0), ("accept_every", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise UserError(f"SGLD {name} must be an integer >= {low}, got {v!r}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or not isinstance(
                self.batch_size, (int, np.integer)) or self.batch_size < 1):
            raise UserError(f"SGLD batch_size must be a positive integer or None (full batch), got {self.batch_size!r}")
        if self.beta is not None and not (isinstance(self.beta, (int, float)) and math.isfinite(self.beta)
                                          and self.beta > 0):
            raise UserError(f"SGLD beta must be a finite number > 0 or None (1/ln n), got {self.beta!r}")

    def inverse_temperature(self, n: int) -> float:
        """β: as given, else 1/ln n (Watanabe's WBIC temperature)."""
        if self.beta is not None:
            return float(self.beta)
        if n < 2:
            raise UserError(f"beta = 1/ln n needs n >= 2 samples, got n={n}")
        return 1.0 / math.log(n)


@dataclass(frozen=True, eq=False)
class LLCResult:
    """One λ̂ estimate with its per-chain values and diagnostics."""

    llc: float
    llc_se: float
    chain_llc: np.ndarray  # (C,) λ̂ per chain (NaN for a diverged chain)
    loss_star: float  # L_n(w*)
    acceptance: np.ndarray  # (C,) mean MALA acceptance probability over the kept draws
    virial: np.ndarray  # (C,) mean (w − w*)·∇U / d over the kept draws: 1 at equilibrium
    localisation: np.ndarray  # (C,) mean γ‖w − w*‖² / d: the share of that virial the localisation carries
    trace: np.ndarray  # (C, burn_in + draws) recorded L(w_t)
    diverged: np.ndarray  # (C,) bool
    config: SGLDConfig
    n: int
    beta: float
    dim: int
    seconds: float
    warnings: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def nbeta(self) -> float:
        return self.n * self.beta

    def energy(self) -> np.ndarray:
        """(C, burn_in + draws) nβ(L(w_t) − L_n(w*)): the trace in the units λ̂ is measured in."""
        return self.nbeta * (self.trace - self.loss_star)

    def trace_frame(self):
        """Tidy loss traces: chain, step (1-based), phase (burn_in | draw), loss, energy = nβ(loss − L*)."""
        import pandas as pd

        C, T = self.trace.shape
        step = np.tile(np.arange(1, T + 1), C)
        return pd.DataFrame({"chain": np.repeat(np.arange(C), T), "step": step,
                             "phase": np.where(step <= self.config.burn_in, "burn_in", "draw"),
                             "loss": self.trace.ravel(), "energy": self.energy().ravel()})

    def summary(self) -> dict:
        """JSON-ready: the estimate, its SE, per-chain values, acceptance, hyperparameters and warnings."""
        return {"llc": _num(self.llc), "llc_se": _num(self.llc_se),
                "chain_llc": [_num(v) for v in self.chain_llc], "loss_star": _num(self.loss_star),
                "acceptance": _num(float(np.nanmean(self.acceptance)) if np.isfinite(self.acceptance).any()
                                   else math.nan),
                "chain_acceptance": [_num(v) for v in self.acceptance],
                "virial": _num(np.nanmean(self.virial)), "localisation": _num(np.nanmean(self.localisation)),
                "diverged_chains": int(self.diverged.sum()), "n": int(self.n), "beta": self.beta,
                "nbeta": self.nbeta, "dim": int(self.dim), "hyperparameters": asdict(self.config),
                "seconds": round(self.seconds, 4), "warnings": list(self.warnings), **self.extra}

    def plot_trace(self, ax=None):
        """Figure of nβ(L(w_t) − L_n(w*)) per chain against step, burn-in shaded, λ̂ dashed; returns the figure."""
        if ax is None:
            from biasprobe.results import new_figure

            fig, ax = new_figure(width=5.0, height=3.0)
        else:
            fig = ax.figure
        e = self.energy()
        steps = np.arange(1, e.shape[1] + 1)
        for c in range(e.shape[0]):
            ax.plot(steps, e[c], lw=0.6, alpha=0.7)
        if self.config.burn_in:
            ax.axvspan(0, self.config.burn_in, color="grey", alpha=0.15, lw=0)
        ax.axhline(self.llc, color="black", ls="--", lw=1, label=f"λ̂ = {self.llc:.3g} ± {self.llc_se:.2g}")
        ax.set_xlabel("SGLD step")
        ax.set_ylabel(r"$n\beta\,(L(w_t) - L_n(w^*))$")
        ax.legend(fontsize="small")
        return fig


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def chain_seeds(seed: int, chains: int) -> list[np.random.SeedSequence]:
    """Chain c's SeedSequence: the c-th child of SeedSequence(seed), whatever the number of chains."""
    return np.random.SeedSequence(int(seed)).spawn(int(chains))


def _generator(ss: np.random.SeedSequence, torch):
    return torch.Generator().manual_seed(int(ss.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1)))


class _ChainNoise:
    """Per-chain N(0, I) noise in fixed blocks of NOISE_BLOCK steps from each chain's own generator."""

    def __init__(self, gens, dim, dtype, torch):
        self.gens, self.dim, self.dtype, self.torch = gens, dim, dtype, torch
        self.block, self.pos = None, NOISE_BLOCK

    def next(self):
        if self.pos == NOISE_BLOCK:
            t = self.torch
            self.block = t.stack([t.randn(NOISE_BLOCK, self.dim, generator=g, dtype=self.dtype) for g in self.gens], 1)
            self.pos = 0
        out = self.block[self.pos]
        self.pos += 1
        return out


class _ChainBatches:
    """Per-chain minibatch indices: shuffled epochs (without replacement), each chain with its own generator."""

    def __init__(self, gens, n, b, torch):
        self.gens, self.n, self.b, self.torch = gens, n, b, torch
        self.perms = [None] * len(gens)
        self.pos = [n] * len(gens)

    def next(self):
        rows = []
        for c, g in enumerate(self.gens):
            if self.pos[c] + self.b > self.n:
                self.perms[c] = self.torch.randperm(self.n, generator=g)
                self.pos[c] = 0
            rows.append(self.perms[c][self.pos[c]:self.pos[c] + self.b])
            self.pos[c] += self.b
        return self.torch.stack(rows)


def torch_threads(count: int | None):
    """torch's intra-op thread count set to `count` for a block (None: leave it), then restored (biasprobe.runtime)."""
    from biasprobe.runtime import thread_limits

    return thread_limits(torch_threads=count)


def sample_llc(potential, w_star, config: SGLDConfig, *, threads: int | None = None, warn: bool = True) -> LLCResult:
    """Run `config.chains` SGLD chains from w* as one batched computation and return λ̂ with diagnostics.

    `potential` is any object with ``n`` (samples), ``dim`` (parameters), ``dtype`` and
    ``evaluate(theta (C, d), idx (C, b) | None, grad: bool) -> (loss (C,), grad (C, d) | None)``
    giving each chain's mean loss over the batch (idx None: all n samples); see
    `biasprobe.slt.potentials`. `w_star` is the (d,) point at which the LLC is estimated; it should
    be a local minimum of L_n (a warning says when the chains find clearly lower loss).
    """
    t0 = time.perf_counter()
    if not isinstance(config, SGLDConfig):
        raise TypeError("config must be an SGLDConfig")
    n, C = int(potential.n), config.chains
    beta = config.inverse_temperature(n)
    raw = run_chains(potential, w_star, np.full(C, float(config.step)), np.full(C, float(config.gamma)), n * beta,
                     config.burn_in, config.draws, chain_seeds(config.seed, C), config.batch_size,
                     config.accept_every, threads)
    return _finish(raw, config, n, beta, int(potential.dim), time.perf_counter() - t0, warn)


def run_chains(potential, w_star, steps, gammas, nbeta: float, burn_in: int, draws: int, seeds, batch_size=None,
               accept_every: int = 10, threads: int | None = None) -> dict:
    """The SGLD loop for C chains with per-chain step ε_c and localisation γ_c (the tuner runs a γ sweep at once).

    `w_star` is (d,) (every chain at one point) or (C, d) (each chain its own point, e.g. one network
    per group of chains); `nbeta` a number or (C,). Returns numpy arrays: ``trace`` (C, burn_in +
    draws) recorded losses, ``loss_star`` (C,), and per
    diagnostic step (every `accept_every`-th kept step) ``acceptance``, ``virial`` and
    ``localisation`` (C, K).
    """
    import torch

    n, d = int(potential.n), int(potential.dim)
    if d < 1:
        raise UserError("the model has no parameters to sample")
    C = len(seeds)
    full = batch_size is None or batch_size >= n
    total = burn_in + draws
    with torch_threads(threads), torch.no_grad():
        w_star = torch.as_tensor(w_star, dtype=potential.dtype).detach()
        if w_star.shape[-1:] != (d,) or w_star.dim() > 2 or (w_star.dim() == 2 and w_star.shape[0] != C):
            raise UserError(f"w* has shape {tuple(w_star.shape)}; the model has {d} parameters and there are {C} chains")
        eps = torch.as_tensor(np.asarray(steps, dtype=np.float64), dtype=potential.dtype)[:, None]
        gam = torch.as_tensor(np.asarray(gammas, dtype=np.float64), dtype=potential.dtype)[:, None]
        nbeta = torch.as_tensor(np.broadcast_to(np.asarray(nbeta, dtype=np.float64), (C,)).copy(),
                                dtype=potential.dtype)[:, None]  # one inverse temperature per chain, or shared
        half_eps, sq = 0.5 * eps, eps.sqrt()
        streams = [ss.spawn(2) for ss in seeds]
        noise = _ChainNoise([_generator(s[0], torch) for s in streams], d, potential.dtype, torch)
        batches = None if full else _ChainBatches([_generator(s[1], torch) for s in streams], n, int(batch_size), torch)
        star = w_star.expand(C, d) if w_star.dim() == 1 else w_star
        # L_n(w*) at full precision: a float32 loss near 0 would round the small differences λ̂ is made of
        loss_star_t = potential.evaluate(star[:1] if w_star.dim() == 1 else star, None, False)[0]
        loss_star = loss_star_t.double().numpy()
        if w_star.dim() == 1:
            loss_star = np.full(C, loss_star[0])
        loss_star_t = torch.as_tensor(loss_star, dtype=potential.dtype)
        theta = star.clone()
        trace = torch.empty(C, total, dtype=potential.dtype)
        diag = []  # (acceptance, virial, localisation) per diagnostic step

        def log_density(diff, loss):
            return -nbeta[:, 0] * loss - 0.5 * gam[:, 0] * (diff * diff).sum(1)

        def accept(th0, lp0, dr0, th1, lp1, dr1):
            # log α = log p(w') − log p(w) + log q(w | w') − log q(w' | w), q(a | b) = N(b + (ε/2)∇log p(b), ε)
            fwd = th1 - th0 - half_eps * dr0
            bwd = th0 - th1 - half_eps * dr1
            la = lp1 - lp0 + ((fwd * fwd).sum(1) - (bwd * bwd).sum(1)) / (2 * eps[:, 0])
            return torch.exp(torch.clamp(la, max=0.0)).nan_to_num(0.0)

        pending = None  # full batch: a diagnostic step waiting for the next evaluation to score its acceptance
        for i in range(total + 1):
            idx = None if full else batches.next()
            with torch.enable_grad():
                loss, grad = potential.evaluate(theta, idx, i < total or pending is not None)
            if i >= 1:
                trace[:, i - 1] = loss if full else loss - potential.evaluate(star, idx, False)[0] + loss_star_t
            # diagnostics on every accept_every-th kept step: the MALA acceptance of the step taken from it
            # (full batch: scored at the next evaluation; minibatch: one extra evaluation on this batch)
            # and the virial (w − w*)·∇U with its localisation part γ‖w − w*‖²
            diagnostic = i < total and i >= burn_in and (i - burn_in) % accept_every == 0
            if grad is not None:
                diff = theta - star
                drift = torch.addcmul(grad * -nbeta, gam, diff, value=-1.0)  # ∇log p = −nβ∇L − γ(w − w*)
            if pending is not None:
                diag.append(torch.stack([accept(*pending[:3], theta, log_density(diff, loss), drift), *pending[3:]]))
                pending = None
            if i == total:
                break
            new = torch.addcmul(theta, half_eps, drift).addcmul_(sq, noise.next())
            if diagnostic:
                lp = log_density(diff, loss)
                vir = -(diff * drift).sum(1)
                loc = gam[:, 0] * (diff * diff).sum(1)
                if full:
                    pending = (theta, lp, drift, vir, loc)
                else:
                    with torch.enable_grad():
                        l1, g1 = potential.evaluate(new, idx, True)
                    d1 = new - star
                    dr1 = torch.addcmul(g1 * -nbeta, gam, d1, value=-1.0)
                    diag.append(torch.stack([accept(theta, lp, drift, new, log_density(d1, l1), dr1), vir, loc]))
            theta = new
    stacked = (torch.stack(diag, 2).double().numpy() if diag else np.full((3, C, 0), np.nan))
    return {"trace": trace.double().numpy(), "loss_star": loss_star, "acceptance": stacked[0],
            "virial": stacked[1] / d, "localisation": stacked[2] / d}


def _finish(raw: dict, config: SGLDConfig, n: int, beta: float, d: int, seconds: float, warn: bool) -> LLCResult:
    trace, loss_star = raw["trace"], float(raw["loss_star"][0])
    nbeta = n * beta
    energy = nbeta * (trace - loss_star)
    kept = energy[:, config.burn_in:]
    # a chain is lost when its loss stops being a number or runs away far past anything an LLC allows
    runaway = 200.0 * max(d, 1)
    diverged = ~np.isfinite(energy).all(1) | (np.abs(np.nan_to_num(energy, nan=np.inf)) > runaway).any(1)
    chain = np.where(diverged, np.nan, kept.mean(1))
    good = chain[~diverged]
    C = len(chain)
    if good.size >= 2:
        llc, se = float(good.mean()), float(good.std(ddof=1) / math.sqrt(good.size))
    elif good.size == 1:
        llc, se = float(good[0]), _batch_means_se(kept[~diverged][0])
    else:
        llc, se = math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows of diverged chains
        acceptance = np.nanmean(raw["acceptance"], 1) if raw["acceptance"].shape[1] else np.full(C, np.nan)
        virial = np.nanmean(raw["virial"], 1) if raw["virial"].shape[1] else np.full(C, np.nan)
        localisation = np.nanmean(raw["localisation"], 1) if raw["localisation"].shape[1] else np.full(C, np.nan)
    notes = diagnose(kept, diverged, llc, se, acceptance, config, d)
    if warn:
        for note in notes:
            warnings.warn(note, LLCWarning, stacklevel=3)
    return LLCResult(llc=llc, llc_se=se, chain_llc=chain, loss_star=float(loss_star), acceptance=acceptance,
                     virial=virial, localisation=localisation, trace=trace, diverged=diverged, config=config,
                     n=int(n), beta=float(beta), dim=int(d), seconds=float(seconds), warnings=tuple(notes))


def diagnose(kept, diverged, llc, se, acceptance, config, d) -> list[str]:
    """The warnings of one estimate: divergence, loss below L_n(w*), drift, low acceptance, λ̂ above d/2."""
    notes = []
    C = len(diverged)
    if diverged.any():
        notes.append(f"{int(diverged.sum())} of {C} chains diverged (non-finite or runaway loss) and were dropped: "
                     f"lower the step (ε = {config.step:.3g})")
    half = kept.shape[1] // 2
    if half >= 1:
        late = kept[:, half:].mean(1)
        below = np.flatnonzero(~diverged & (late < -BELOW_WARN))
        if below.size:
            notes.append(f"w* is not a local minimum: chain(s) {', '.join(map(str, below[:5]))} settled at loss "
                         f"below L_n(w*) (mean nβ(L − L*) = {late[below].min():.3g} over the last half); "
                         "train w* further before estimating")
        ok = ~diverged
        if ok.sum() >= 2:
            diff = kept[ok, half:].mean(1) - kept[ok, :half].mean(1)
            se_diff = diff.std(ddof=1) / math.sqrt(diff.size)
            if abs(diff.mean()) > 4 * se_diff and abs(diff.mean()) > 0.1 * max(abs(llc), 0.05):
                notes.append(f"chains are not stationary: the mean of nβ(L − L*) moved {diff.mean():+.3g} between the "
                             "first and second half of the draws; use more burn-in, a larger γ or a smaller step")
    acc = float(np.nanmean(acceptance)) if np.isfinite(acceptance).any() else math.nan
    if math.isfinite(acc) and acc < ACCEPT_WARN:
        notes.append(f"MALA acceptance {acc:.2f} < {ACCEPT_WARN}: the step ε = {config.step:.3g} is too large for "
                     f"this posterior (aim for >= {ACCEPT_GOOD}); try auto_config or a smaller step")
    if math.isfinite(llc) and llc - 3 * (se if math.isfinite(se) else 0) > 1.1 * d / 2:
        notes.append(f"λ̂ = {llc:.3g} exceeds d/2 = {d / 2:g}, the regular-model maximum: the chains are not resolving "
                     "the posterior (step too large or γ too small)")
    return notes


def _batch_means_se(x: np.ndarray, batches: int = 10) -> float:
    """Standard error of a single chain's mean by batch means (autocorrelation-robust)."""
    m = len(x) // batches
    if m < 1:
        return math.nan
    means = x[: m * batches].reshape(batches, m).mean(1)
    return float(means.std(ddof=1) / math.sqrt(batches))
