"""Seeded SGD training of several independent MLPs at once (one per seed / noise level), for width sweeps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biasprobe.errors import UserError
from biasprobe.runtime import thread_limits


@dataclass(frozen=True)
class TrainConfig:
    """SGD settings of Nakkiran et al. (2019) as docs/definitions.md §6 gives them for MNIST-1D.

    `threads` is the torch intra-op thread count used during training (set deliberately: the
    default would take every core of a shared machine); `record_every` is the epoch stride of
    the recorded learning curves (0: final epoch only).
    """

    epochs: int = 500
    lr: float = 0.01
    momentum: float = 0.9
    batch: int = 100
    hidden_layers: int = 2
    threads: int = 2
    record_every: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch", "hidden_layers", "threads"):
            if getattr(self, name) < 1:
                raise UserError(f"training {name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0 or not 0 <= self.momentum < 1:
            raise UserError(f"need lr > 0 and 0 <= momentum < 1, got lr={self.lr}, momentum={self.momentum}")


def _init_members(sizes: list[int], seeds: list[int], torch):
    """PyTorch's default nn.Linear init, U(±1/√fan_in) for weights and biases, one explicit generator per member.

    Each member's parameters depend only on its own seed, so adding members changes nothing.
    """
    weights = [[] for _ in sizes[1:]]
    biases = [[] for _ in sizes[1:]]
    for seed in seeds:
        gen = torch.Generator().manual_seed(int(seed))
        for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1.0 / np.sqrt(fan_in)
            weights[k].append((torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * bound)
            biases[k].append((torch.rand(1, fan_out, generator=gen) * 2 - 1) * bound)
    params = []
    for w, b in zip(weights, biases):
        params += [torch.stack(w).requires_grad_(), torch.stack(b).requires_grad_()]
    return params


def _forward(params, x, torch):
    """Batched MLP: x (M, B, in) -> (M, B, out), ReLU between layers, one weight stack per member."""
    from biasprobe.learning.stacked import forward

    layers = len(params) // 2
    return forward(params, x, [torch.relu] * (layers - 1) + [lambda z: z])


def train_members(x: np.ndarray, labels: np.ndarray, width: int, seeds, config: TrainConfig,
                  x_eval: dict[str, np.ndarray] | None = None, labels_eval: dict[str, np.ndarray] | None = None,
                  outputs: int | None = None) -> dict:
    """Train one MLP in → width → … → out per member with SGD + momentum on its own labels and seed.

    x: (n, in) shared inputs; labels: (M, n) integer class labels per member (noise may differ).
    outputs=None means classes = labels.max()+1 with cross-entropy; outputs=1 means binary labels
    with a single logit and logistic loss (the bit is 1 iff the output is > 0, docs/definitions.md §1).
    The members' losses are summed, so each member's gradient is that of its own mean loss: the
    result is M independent SGD runs sharing one batched computation. Each member shuffles with
    its own torch.Generator. Returns final train/eval errors, the learning curves (`history`)
    and the final outputs on every array in `x_eval`.
    """
    import torch
    import torch.nn.functional as F

    labels = np.asarray(labels)
    seeds = [int(s) for s in seeds]
    members, n = labels.shape
    if members != len(seeds):
        raise UserError(f"{members} label rows but {len(seeds)} seeds")
    if width < 1:
        raise UserError(f"MLP width must be >= 1, got {width}")
    binary = outputs == 1
    classes = 1 if binary else int(max([labels.max(), *(v.max() for v in (labels_eval or {}).values())])) + 1
    sizes = [x.shape[1]] + [width] * config.hidden_layers + [classes]
    x_eval = x_eval or {}
    labels_eval = labels_eval or {}
    history = []
    with thread_limits(torch_threads=config.threads):
        xt = torch.tensor(x, dtype=torch.float32)
        yt = torch.as_tensor(labels, dtype=torch.float32 if binary else torch.int64)
        params = _init_members(sizes, seeds, torch)
        opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum)
        shufflers = [torch.Generator().manual_seed(s + 1_000_003) for s in seeds]
        batch = min(config.batch, n)
        arange = torch.arange(members)[:, None]

        def member_losses(out, target):
            """(M,) mean loss of each member on its own batch."""
            if binary:
                return F.binary_cross_entropy_with_logits(out[..., 0], target, reduction="none").mean(1)
            return F.cross_entropy(out.reshape(-1, classes), target.reshape(-1), reduction="none").view(members, -1).mean(1)

        def errors(inputs: torch.Tensor, target: torch.Tensor) -> np.ndarray:
            """Per-member error rate of the models on shared inputs against (M, m) or (m,) targets."""
            with torch.no_grad():
                out = _forward(params, inputs.expand(members, *inputs.shape), torch)
                pred = (out[..., 0] > 0).to(target.dtype) if binary else out.argmax(-1)
                return (pred != target).double().mean(-1).numpy()

        eval_t = {k: (torch.tensor(v, dtype=torch.float32),
                      torch.as_tensor(labels_eval[k], dtype=torch.float32 if binary else torch.int64))
                  for k, v in x_eval.items() if k in labels_eval}

        def record(epoch: int, train_loss: np.ndarray):
            row = {"epoch": epoch, "train_error": errors(xt, yt), "train_loss": train_loss}
            for k, (xe, ye) in eval_t.items():
                row[f"{k}_error"] = errors(xe, ye)
            history.append(row)

        for epoch in range(1, config.epochs + 1):
            perms = torch.stack([torch.randperm(n, generator=g) for g in shufflers])
            for start in range(0, n - batch + 1, batch):
                idx = perms[:, start:start + batch]
                out = _forward(params, xt[idx], torch)
                loss = member_losses(out, yt[arange, idx]).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            if epoch == config.epochs or (config.record_every and epoch % config.record_every == 0):
                with torch.no_grad():
                    out = _forward(params, xt.expand(members, *xt.shape), torch)
                    record(epoch, member_losses(out, yt).double().numpy())
        with torch.no_grad():
            final_out = {k: _forward(params, torch.tensor(v, dtype=torch.float32).expand(members, *v.shape), torch).numpy()
                         for k, v in x_eval.items()}
    return {"history": history, "final": history[-1], "outputs": final_out, "params": sum(
        a * b + b for a, b in zip(sizes[:-1], sizes[1:]))}


def map_tasks(func, tasks: list[dict], workers: int = 1) -> list:
    """func(**task) for every task, in order; with workers > 1, in that many spawned single-threaded processes.

    Training these small MLPs is dominated by per-step overhead, so two intra-op threads barely
    help (and spin badly on a busy machine); two processes, one thread each, use both cores fully.
    Tasks are independent and seeded, so the result does not depend on `workers`. `func` must be
    importable (a module-level function) for the spawned workers.
    """
    if workers <= 1 or len(tasks) <= 1:
        return [func(**t) for t in tasks]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(func, **t) for t in tasks]
        return [f.result() for f in futures]
