"""P_SGD(f | S): many networks trained at once from the prior's own initialisation until they fit S, and the functions they learn.

Mingard et al. (JMLR 2021, "Is SGD a Bayesian sampler?") define P_SGD(f | S) as
the frequency of each learned function over many runs, each started from a draw
of the prior and stopped at 100% training accuracy. Here:

* Initialisation: the prior's `Network` (widths, activations, weight_scale,
  bias_scale, distribution) exactly as the sampler uses it; run r draws its raw
  unit-variance parameters (same layout as the sampler) from its own
  ``torch.Generator`` seeded by ``SeedSequence(seed, spawn_key=(TRAIN_KEY, r))``,
  and trains the scaled weights W = weight_scale * raw, b = bias_scale * raw
  (standard parameterisation, as a Keras/PyTorch model would). Biases are
  trained even when sigma_b = 0 (Valle-Perez et al.'s code); a prior without
  biases (perceptron with bias=false) keeps them at 0.
* Minibatches: each epoch, run r visits its m training inputs in a permutation
  keyed by (run key, epoch) through a counter-based hash (splitmix64), in
  batches of `batch_size` (the last one smaller, as Keras does); full batch
  uses no permutation. So run r's numbers depend only on (seed, r), never on
  how many runs train beside it.
* Losses: ``ce`` is the logistic loss on one output (label 1 iff y > 0,
  docs/definitions.md §1); ``mse`` is the squared error against +-1 targets.
* Stopping: training accuracy is checked on the initialisation (epoch 0) and
  after every epoch; a run that fits trains `epochs_after_fit` more epochs and
  then leaves the stack; a run still not fitting after `max_epochs` is recorded
  as unfit; a run whose outputs turn non-finite leaves at once.
* Batching: all runs (and all training sets of one size) are one stacked
  computation (`biasprobe.learning.stacked`); finished runs are removed from the
  stack, so the work shrinks as runs fit. With `workers` > 1 the stack is split
  into interleaved chunks trained by that many threads, one torch thread each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from biasprobe import runtime, tables
from biasprobe.errors import UserError, unknown_name
from biasprobe.runtime import thread_limits

OPTIMIZERS = ("sgd", "adam")
LOSSES = ("ce", "mse")
TRAIN_KEY = 0x5452_4149  # spawn-key prefix: training streams never coincide with the sampler's block streams

FITTED, UNFIT, LOST_FIT, NONFINITE = 0, 1, 2, 3
STATUS = {FITTED: "fitted", UNFIT: "never fit", LOST_FIT: "lost fit after extra epochs", NONFINITE: "non-finite"}


@dataclass(frozen=True)
class TrainSpec:
    """How each run trains. `batch_size=None` is full batch; `momentum` is SGD's (Adam uses betas 0.9, 0.999)."""

    optimizer: str = "sgd"
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int | None = 10
    loss: str = "ce"
    max_epochs: int = 2000
    epochs_after_fit: int = 0

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise unknown_name("optimizer", self.optimizer, OPTIMIZERS)
        if self.loss not in LOSSES:
            raise unknown_name("loss", self.loss, LOSSES)
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise UserError(f"learning rate must be a positive number, got {self.lr!r}")
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise UserError(f"momentum must lie in [0, 1), got {self.momentum!r}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int)
                                            or self.batch_size < 1):
            raise UserError(f"batch size must be a positive integer or 'full', got {self.batch_size!r}")
        for name in ("max_epochs", "epochs_after_fit"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name == "max_epochs" else 0):
                raise UserError(f"{name} must be an integer >= {1 if name == 'max_epochs' else 0}, got {v!r}")

    def describe(self) -> dict:
        out = asdict(self)
        out["batch_size"] = "full" if self.batch_size is None else self.batch_size
        if self.optimizer == "adam":
            out.pop("momentum")
            out["betas"] = [0.9, 0.999]
            out["eps"] = 1e-8
        return out

    def label(self) -> str:
        batch = "full" if self.batch_size is None else self.batch_size
        return f"{self.optimizer} lr={self.lr:g} batch={batch} {self.loss}"


# The published setups of docs/definitions.md §7 (the prior must match too: Valle-Perez et al. use sigma_b = 0).
VALLE_PEREZ = TrainSpec(optimizer="sgd", lr=1e-3, momentum=0.9, batch_size=10, loss="ce")
MINGARD_2025 = TrainSpec(optimizer="adam", lr=5e-4, momentum=0.0, batch_size=None, loss="mse")
PRESETS = {"valle-perez": VALLE_PEREZ, "mingard-2025": MINGARD_2025}


@dataclass(frozen=True, eq=False)
class TrainResult:
    """One training set's runs: the function each run learned (on all inputs), its status and fit epoch."""

    runs: np.ndarray  # (R,) run numbers
    words: np.ndarray  # (R, W) uint64 learned functions (canonical order); meaningless where status is NONFINITE
    status: np.ndarray  # (R,) int8, see STATUS
    fit_epoch: np.ndarray  # (R,) int64: first epoch with 100% training accuracy (0: the initialisation), -1 never
    condition: object
    spec: TrainSpec
    prior: object = None
    domain: object = None
    seed: int = 0
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def fitted(self) -> np.ndarray:
        return self.status == FITTED

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(words (D, W), counts (D,)) of the fitted runs' functions, count descending then function."""
        words = self.words[self.fitted]
        if not len(words):
            return np.zeros((0, self.words.shape[1]), np.uint64), np.zeros(0, np.int64)
        uniq, counts = np.unique(words, axis=0, return_counts=True)
        order = np.lexsort([uniq[:, j] for j in range(uniq.shape[1] - 1, -1, -1)] + [-counts])
        return np.ascontiguousarray(uniq[order]), counts[order].astype(np.int64)

    def to_frame(self) -> pd.DataFrame:
        """function, count, test_error of the fitted runs: the same shape as the posterior's table."""
        words, counts = self.counts()
        return pd.DataFrame({"function": tables.to_hex(words, self.condition.n_points), "count": counts,
                             "test_error": self.condition.test_errors(words)})

    def summary(self) -> dict:
        fitted = self.fitted
        fe = self.fit_epoch[self.fit_epoch >= 0]
        err = self.condition.test_errors(self.words[fitted]) if fitted.any() else np.zeros(0)
        q = (lambda p: float(np.quantile(fe, p))) if len(fe) else (lambda p: None)  # noqa: E731
        from biasprobe.learning.posterior import mean_interval

        mean, lo, hi = mean_interval(err.sum(), (err**2).sum(), len(err))
        return {**self.condition.describe(), "runs": int(len(self.runs)), "fitted": int(fitted.sum()),
                "never_fit": int((self.status == UNFIT).sum()), "lost_fit": int((self.status == LOST_FIT).sum()),
                "nonfinite": int((self.status == NONFINITE).sum()),
                "distinct": int(len(np.unique(self.words[fitted], axis=0))) if fitted.any() else 0,
                "fit_epochs": {"median": q(0.5), "q10": q(0.1), "q25": q(0.25), "q75": q(0.75), "q90": q(0.9),
                               "max": int(fe.max()) if len(fe) else None,
                               "at_initialisation": int((fe == 0).sum())},
                "test_error_mean": _finite(mean), "test_error_lo": _finite(lo), "test_error_hi": _finite(hi),
                "training": self.spec.describe()}


def _finite(x):
    return float(x) if x is not None and math.isfinite(x) else None


# ---- seeding --------------------------------------------------------------------------------

def run_streams(seed: int, runs) -> tuple[np.ndarray, np.ndarray]:
    """(init seeds (R,) int64 for torch.Generator, shuffle keys (R,) uint64): a function of (seed, run) only."""
    init = np.empty(len(runs), np.int64)
    keys = np.empty(len(runs), np.uint64)
    for i, r in enumerate(runs):
        state = np.random.SeedSequence(int(seed), spawn_key=(TRAIN_KEY, int(r))).generate_state(2, np.uint64)
        init[i] = int(state[0] >> np.uint64(1))
        keys[i] = state[1]
    return init, keys


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def permutations(keys: np.ndarray, epoch: int, m: int) -> np.ndarray:
    """(R, m) int64: the order in which each run visits its training inputs in `epoch` (counter-based, per run)."""
    keys = np.asarray(keys, np.uint64)
    with np.errstate(over="ignore"):
        base = _mix(keys ^ _mix(np.full(1, epoch, np.uint64) * _GOLDEN + _GOLDEN))
        vals = _mix(base[:, None] + (np.arange(1, m + 1, dtype=np.uint64) * _GOLDEN)[None, :])
    return np.argsort(vals, axis=1, kind="stable")


def init_parameters(net, init_seeds) -> np.ndarray:
    """(R, n_params) float32 raw unit-variance parameters in the sampler's layout, one generator per run."""
    import torch

    raw = torch.empty((len(init_seeds), net.n_params), dtype=torch.float32)
    for i, s in enumerate(init_seeds):
        gen = torch.Generator().manual_seed(int(s))
        if net.distribution == "uniform":
            raw[i].uniform_(-math.sqrt(3.0), math.sqrt(3.0), generator=gen)
        else:
            raw[i].normal_(generator=gen)
    return raw


def _scaled_layers(net, raw, train_bias: bool):
    """[W_1 (R, in, out), b_1 (R, 1, out), ...] as leaf tensors: the prior's scales applied to the raw draws."""
    params, off = [], 0
    r = raw.shape[0]
    for layer in range(len(net.widths) - 1):
        fi, fo = net.widths[layer], net.widths[layer + 1]
        w = raw[:, off:off + fi * fo].reshape(r, fo, fi).transpose(1, 2) * float(net.weight_scale[layer])
        b = raw[:, off + fi * fo:off + fi * fo + fo].reshape(r, 1, fo) * float(net.bias_scale[layer])
        params += [w.contiguous().requires_grad_(), b.contiguous().requires_grad_(train_bias)]
        off += fi * fo + fo
    return params


# ---- the batched loop -----------------------------------------------------------------------

def train_stack(net, train_idx, labels, init_seeds, shuffle_keys, spec: TrainSpec, train_bias: bool = True,
                threads: int | None = 1) -> dict:
    """Train R stacked runs; run i fits labels[i] (R, m) 0/1 at canonical inputs train_idx[i] (R, m).

    Returns outputs (R, N) float32 on every canonical input at the end, fit_epoch (R,) and
    status (R,) before the final fit test (UNFIT, NONFINITE or FITTED for runs that fitted once).
    `threads`: torch's intra-op thread count meanwhile (None: leave it as it is).
    """
    import torch

    from biasprobe.learning import stacked

    train_idx = np.asarray(train_idx, np.int64)
    labels = np.asarray(labels, np.float32)
    total, m = train_idx.shape
    out_all = np.full((total, net.features.shape[1]), np.nan, np.float32)
    fit_epoch = np.full(total, -1, np.int64)
    status = np.full(total, UNFIT, np.int8)
    acts = [stacked.activation(int(c)) for c in net.activations]
    full = spec.batch_size is None or spec.batch_size >= m
    with thread_limits(torch_threads=threads) if threads else contextlib.nullcontext():
        with torch.no_grad():
            x_all = torch.from_numpy(np.ascontiguousarray(net.features.T, dtype=np.float32))  # (N, K)
            # A stack of one takes another product kernel in torch (other bits): a lone run gets a twin.
            alive = np.arange(total) if total > 1 else np.array([0, -1])
            rows = np.maximum(alive, 0)
            params = _scaled_layers(net, init_parameters(net, init_seeds)[torch.from_numpy(rows)], train_bias)
            y = torch.from_numpy(labels[rows])
            xt = x_all[torch.from_numpy(train_idx[rows])]  # (R, m, K): each run's training inputs
            goal = y if spec.loss == "ce" else 2 * y - 1
            keys = np.asarray(shuffle_keys)[rows]
        trainable = [p for p in params if p.requires_grad]
        opt = (stacked.SGD(trainable, spec.lr, spec.momentum) if spec.optimizer == "sgd"
               else stacked.Adam(trainable, spec.lr))
        loss_fn = _loss(spec.loss)
        epoch = 0
        while True:
            # The fit test at the epoch boundary; with full batches its forward pass is also the next step's.
            with torch.set_grad_enabled(full):
                z = stacked.forward(params, xt, acts)[..., 0]
            zd = z.detach()
            finite = torch.isfinite(zd).all(1).numpy()
            fits = ((zd > 0) == (y > 0.5)).all(1).numpy() & finite
            live = alive >= 0
            fe = fit_epoch[rows]
            first = live & fits & (fe < 0)
            fit_epoch[alive[first]] = epoch
            fe = np.where(first, epoch, fe)
            done = live & (~finite | ((fe >= 0) & (epoch >= fe + spec.epochs_after_fit)) | (epoch >= spec.max_epochs))
            grads = None
            if full and not done[live].all():
                grads = torch.autograd.grad(loss_fn(z, goal) / m, trainable)
            if done.any():
                sel = torch.from_numpy(np.flatnonzero(done))
                with torch.no_grad():
                    fin = stacked.forward([p[sel] for p in params], x_all.expand(len(sel), -1, -1), acts)[..., 0]
                ids = alive[done]
                out_all[ids] = fin.numpy()
                bad = ~finite[done] | ~np.isfinite(out_all[ids]).all(1)
                status[ids] = np.where(bad, NONFINITE, np.where(fit_epoch[ids] >= 0, FITTED, UNFIT))
                keep = np.flatnonzero(live & ~done)
                if not len(keep):
                    break
                alive = alive[keep] if len(keep) > 1 else np.array([alive[keep[0]], -1])
                keep = keep if len(keep) > 1 else keep[[0, 0]]
                kt = torch.from_numpy(keep)
                with torch.no_grad():
                    params = [p[kt].requires_grad_(p.requires_grad) for p in params]
                    xt, y, goal = xt[kt], y[kt], goal[kt]
                trainable = [p for p in params if p.requires_grad]
                opt.select(kt)
                grads = None if grads is None else [g[kt] for g in grads]
                rows, keys = np.maximum(alive, 0), keys[keep]
            epoch += 1
            if full:
                opt.step(trainable, grads)
                continue
            perm = torch.from_numpy(permutations(keys, epoch, m))
            rr = torch.arange(len(alive))[:, None]
            for start in range(0, m, spec.batch_size):
                sel = perm[:, start:start + spec.batch_size]
                zb = stacked.forward(params, xt[rr, sel], acts)[..., 0]
                # the sum over runs of each run's mean loss: run i's gradient is its own
                opt.step(trainable, torch.autograd.grad(loss_fn(zb, goal.gather(1, sel)) / sel.shape[1], trainable))
    return {"outputs": out_all, "fit_epoch": fit_epoch, "status": status}


def _loss(name: str):
    import torch

    if name == "ce":
        return lambda z, t: torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="sum")
    return lambda z, t: ((z - t) ** 2).sum()


def _train_parallel(net, idx, lab, init, keys, spec, train_bias, workers: int, threads: int) -> list[dict]:
    """Contiguous chunks of the stack, one per worker thread, each a one-thread torch computation.

    Threads rather than processes: torch releases the GIL inside its kernels, and a stack of
    hundreds of runs spends its time there, so threads run in parallel without the seconds a
    spawned process needs to import torch. A run's result does not depend on the chunking.
    """

    total = len(idx)
    n_chunks = max(1, min(workers, total // 2))
    if n_chunks == 1:
        return [train_stack(net, idx, lab, init, keys, spec, train_bias, threads)]
    from concurrent.futures import ThreadPoolExecutor

    # interleaved rows balance the chunks when the training sets differ in difficulty
    chunks = [np.arange(k, total, n_chunks) for k in range(n_chunks)]
    with thread_limits(torch_threads=1), ThreadPoolExecutor(n_chunks) as pool:
        futures = [pool.submit(train_stack, net, idx[c], lab[c], init[c], keys[c], spec, train_bias, None)
                   for c in chunks]
        parts = [f.result() for f in futures]
    order = np.argsort(np.concatenate(chunks), kind="stable")
    return [{key: np.concatenate([p[key] for p in parts])[order] for key in parts[0]}]


def trainable_network(prior, domain):
    """The prior's Network on a Boolean domain, or a one-line UserError saying why it cannot be trained."""
    if not getattr(domain, "is_boolean", False):
        raise UserError(f"training needs a Boolean domain (bool:n or pm1:n), got {domain}")
    net = prior.network(domain)
    if net is None:
        raise UserError(f"prior {prior.name} is not a network (it has no parameters to train); "
                        f"use mlp, perceptron or polynomial family=network")
    return net


def train_conditions(prior, domain, conditions, runs: int, spec: TrainSpec, seed: int = 0, workers: int | None = None,
                     threads: int = 1, first_run: int = 0) -> list[TrainResult]:
    """Train `runs` runs on each training set, all in one stacked computation per training-set size.

    Run r (r = first_run, first_run + 1, ...) starts from the same initialisation for every
    training set, and its result depends only on (seed, r, S, spec): not on `runs`, `workers`,
    `threads` or the other training sets. `workers` threads (default: one per core) each train
    an interleaved share of the stack with `threads` torch threads (1: more spin on a busy machine).
    """

    conditions = list(conditions)
    net = trainable_network(prior, domain)
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise UserError(f"runs must be a positive integer, got {runs!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {seed!r}")
    workers = runtime.resolve_workers(workers)
    threads = int(threads)
    for c in conditions:
        if c.n_points != domain.n_points:
            raise UserError(f"training set on {c.n_points} inputs, domain {domain} has {domain.n_points}")
    train_bias = bool(getattr(prior, "bias", True))
    run_ids = np.arange(first_run, first_run + runs, dtype=np.int64)
    init, keys = run_streams(seed, run_ids)
    results: list[TrainResult | None] = [None] * len(conditions)
    by_m: dict[int, list[int]] = {}
    for i, c in enumerate(conditions):
        by_m.setdefault(c.m, []).append(i)
    t0 = time.perf_counter()
    for m, members in by_m.items():
        idx = np.concatenate([np.repeat(np.flatnonzero(conditions[i].mask_bits())[None, :], runs, 0)
                              for i in members])
        lab = np.concatenate([np.repeat(conditions[i].target_bits()[conditions[i].mask_bits()][None, :], runs, 0)
                              for i in members])
        init_all, keys_all = np.tile(init, len(members)), np.tile(keys, len(members))
        part = _train_parallel(net, idx, lab, init_all, keys_all, spec, train_bias, workers, threads)[0]
        outputs, fit_epoch, status = part["outputs"], part["fit_epoch"], part["status"]
        n_chunks = max(1, min(workers, len(idx) // 2))
        words = tables.pack((outputs > 0).astype(np.uint8))
        for j, i in enumerate(members):
            sl = slice(j * runs, (j + 1) * runs)
            st = status[sl].copy()
            w = words[sl]
            still = conditions[i].accepts(w)
            st[(st == FITTED) & ~still] = LOST_FIT
            results[i] = TrainResult(runs=run_ids, words=w, status=st, fit_epoch=fit_epoch[sl],
                                     condition=conditions[i], spec=spec, prior=prior, domain=domain, seed=int(seed),
                                     info={"workers": n_chunks, "threads": threads, "stacked_runs": len(idx)})
    wall = time.perf_counter() - t0
    return [dataclasses.replace(r, wall_time=wall) for r in results]


def train_runs(prior, domain, condition, runs: int, spec: TrainSpec, seed: int = 0, workers: int | None = None,
               threads: int = 1, first_run: int = 0) -> TrainResult:
    """Train `runs` networks from the prior's initialisation on one training set (see the module docstring)."""
    return train_conditions(prior, domain, [condition], runs, spec, seed, workers, threads, first_run)[0]


def train_jobs(jobs: list[dict], workers: int | None = None) -> list[list[TrainResult]]:
    """Several `train_conditions(**job)` calls at once, one per worker thread (each single-threaded), results in order.

    For many independent stacks (priors x optimizers) this keeps both cores busy even while one
    stack is down to its last few slow runs. Put the costliest jobs first.
    """

    workers = runtime.resolve_workers(workers)
    jobs = [{**job, "workers": 1, "threads": 1} for job in jobs]
    if workers <= 1 or len(jobs) <= 1:
        return [train_conditions(**job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with thread_limits(torch_threads=1), ThreadPoolExecutor(min(workers, len(jobs))) as pool:
        futures = [pool.submit(train_conditions, **job) for job in jobs]
        return [f.result() for f in futures]
