"""Learning bench: conditioned against unconditioned sampling, batched training against a per-run torch loop, P(S) from a stored table.

Each comparison is measured in one run, alternating the two sides, so a busy
machine slows both alike; medians of repeats are reported. Targets (issue 11):
conditioned >= 90% of unconditioned networks/s; batched training >= 20x the
per-run loop; >= 10^7 stored functions checked per second.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

DOMAIN = "bool:7"
HIDDEN = (40, 40)


def _setup(m: int = 64, split_seed: int = 0, target_seed: int = 0):
    from biasprobe.domains import parse_domain
    from biasprobe.learning import make_condition
    from biasprobe.priors import make_prior

    domain = parse_domain(DOMAIN)
    target = np.random.default_rng(target_seed).integers(0, 2, domain.n_points)
    return make_prior("mlp", hidden=HIDDEN), domain, make_condition(domain, target, train_size=m,
                                                                    split_seed=split_seed)


def conditioned_sampling(samples: int = 1_000_000, repeats: int = 3, workers=None) -> dict:
    """Networks/s of `sample_counts` without and with a condition (m = 64, random target), alternated."""
    from biasprobe.runtime import cores as default_workers
    from biasprobe.sampling import sample_counts

    prior, domain, cond = _setup()
    sample_counts(prior, domain, samples=8192, seed=0, workers=workers, condition=cond)  # load the kernels
    plain, conditioned = [], []
    for r in range(repeats):
        c = sample_counts(prior, domain, samples=samples, seed=r, workers=workers)
        plain.append(samples / c.wall_time)
        k = sample_counts(prior, domain, samples=samples, seed=r, workers=workers, condition=cond)
        conditioned.append(samples / k.wall_time)
    accept_ns = _accept_cost(cond)
    cores = workers or default_workers()
    return {"samples": samples, "m": cond.m, "unconditioned_runs": plain, "conditioned_runs": conditioned,
            "accept_ns_per_draw": accept_ns,
            # the acceptance test's share of a worker's time per draw: a deterministic view of the overhead
            "accept_share": accept_ns * 1e-9 * statistics.median(plain) / cores,
            "unconditioned": statistics.median(plain), "conditioned": statistics.median(conditioned),
            "ratio": statistics.median(conditioned) / statistics.median(plain),
            "accepted_last_run": int(k.counts.sum())}


def _accept_cost(cond, batch: int = 4096, repeats: int = 5, loops: int = 200) -> float:
    """Nanoseconds per draw of the acceptance test on a sampler-sized batch of packed functions (median)."""
    words = np.random.Generator(np.random.PCG64(1)).integers(0, 2**63, (batch, 2), dtype=np.uint64)
    finite = np.ones(batch, bool)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(loops):
            finite & cond.accepts(words)
        times.append((time.perf_counter() - t) / loops / batch * 1e9)
    return statistics.median(times)


def _naive_training(prior, domain, cond, runs: int, epochs: int, spec) -> float:
    """The straightforward loop: one nn.Sequential and one torch.optim.SGD per run, Python loops over runs,
    epochs and minibatches, the fit test after every epoch. Returns run-epochs per second (1 thread)."""
    import torch

    from biasprobe.learning.training import init_parameters, run_streams

    x_all = torch.tensor(domain.points, dtype=torch.float32)
    mask = torch.from_numpy(cond.mask_bits())
    x, y = x_all[mask], torch.from_numpy(cond.target_bits()[cond.mask_bits()]).float()
    net = prior.network(domain)
    init, _ = run_streams(0, range(runs))
    raw = init_parameters(net, init)
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    t = time.perf_counter()
    try:
        for r in range(runs):
            gen = torch.Generator().manual_seed(r)
            layers, off = [], 0
            for i in range(len(net.widths) - 1):
                fi, fo = net.widths[i], net.widths[i + 1]
                lin = torch.nn.Linear(fi, fo)
                with torch.no_grad():
                    lin.weight.copy_(raw[r, off:off + fi * fo].view(fo, fi) * net.weight_scale[i])
                    lin.bias.copy_(raw[r, off + fi * fo:off + fi * fo + fo] * net.bias_scale[i])
                off += fi * fo + fo
                layers += [lin, torch.nn.ReLU()]
            model = torch.nn.Sequential(*layers[:-1])
            opt = torch.optim.SGD(model.parameters(), lr=spec.lr, momentum=spec.momentum)
            for _ in range(epochs):
                perm = torch.randperm(len(x), generator=gen)
                for s in range(0, len(x), spec.batch_size):
                    idx = perm[s:s + spec.batch_size]
                    opt.zero_grad()
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x[idx])[:, 0], y[idx])
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    if ((model(x)[:, 0] > 0).float() == y).all():
                        break
    finally:
        torch.set_num_threads(saved)
    return runs * epochs / (time.perf_counter() - t)


def _batched_training(prior, domain, cond, runs: int, epochs: int, spec, workers: int, threads: int) -> float:
    import dataclasses

    from biasprobe.learning import train_runs

    t = time.perf_counter()
    r = train_runs(prior, domain, cond, runs, dataclasses.replace(spec, max_epochs=epochs), seed=0,
                   workers=workers, threads=threads)
    wall = time.perf_counter() - t
    if (r.fit_epoch >= 0).any():  # then fewer run-epochs were done than counted: say so rather than flatter
        raise RuntimeError("bench target was fitted within the bench's epochs; use a harder target")
    return runs * epochs / wall


def batched_training(runs: int = 2000, naive_runs: int = 40, epochs: int = 5, repeats: int = 3) -> dict:
    """Run-epochs/s of Valle-Perez et al.'s setup (7-40-40-1, SGD lr 1e-3 momentum 0.9, batch 10, CE, m = 64,
    a random target that no run fits within `epochs`): per-run loop against the batched trainer, alternated."""
    from biasprobe.learning import VALLE_PEREZ
    from biasprobe.runtime import cores as default_workers

    prior, domain, cond = _setup()
    cores = default_workers()
    _batched_training(prior, domain, cond, 50, 1, VALLE_PEREZ, 1, 1)  # warm up both sides (first calls
    _naive_training(prior, domain, cond, 2, 1, VALLE_PEREZ)  # pay torch's one-time autograd/optim costs)
    naive, one, many = [], [], []
    for _ in range(repeats):
        naive.append(_naive_training(prior, domain, cond, naive_runs, epochs, VALLE_PEREZ))
        one.append(_batched_training(prior, domain, cond, runs, epochs, VALLE_PEREZ, 1, 1))
        many.append(_batched_training(prior, domain, cond, runs, epochs, VALLE_PEREZ, cores, 1))
    med = statistics.median
    return {"setup": "7-40-40-1 relu, conv a, sgd lr 1e-3 momentum 0.9 batch 10 ce, m = 64",
            "runs": runs, "naive_runs": naive_runs, "epochs": epochs, "cores": cores,
            "naive_runs_epochs_per_s": naive, "batched_1_thread": one, "batched_all_cores": many,
            "naive": med(naive), "batched_1": med(one), "batched": med(many),
            "speedup_1_thread": med(one) / med(naive), "speedup": med(many) / med(naive)}


def stored_evidence(functions: int = 4_000_000, conditions: int = 16, repeats: int = 3) -> dict:
    """Stored functions checked per second against one training set and against `conditions` at once."""
    from biasprobe.learning import make_condition
    from biasprobe.learning.stored import accepted_counts
    from biasprobe.domains import parse_domain

    domain = parse_domain(DOMAIN)
    rng = np.random.Generator(np.random.PCG64(0))
    words = rng.integers(0, 2**63, (functions, 2), dtype=np.uint64, endpoint=True)
    counts = np.ones(functions, np.int64)
    conds = [make_condition(domain, rng.integers(0, 2, 128), train_size=m, split_seed=i)
             for i, m in enumerate(np.resize([16, 32, 64], conditions))]
    accepted_counts(words[:1000], counts[:1000], conds)  # compile
    one, many = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        accepted_counts(words, counts, conds[:1])
        one.append(functions / (time.perf_counter() - t))
        t = time.perf_counter()
        accepted_counts(words, counts, conds)
        many.append(functions * conditions / (time.perf_counter() - t))
    return {"functions": functions, "conditions": conditions, "one_set_runs": one, "many_sets_runs": many,
            "functions_per_s": statistics.median(one), "function_checks_per_s_many": statistics.median(many)}


def run(out_dir: Path, quick: bool = False) -> dict:
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    log("bench: conditioned sampling ...")
    cond = conditioned_sampling(200_000 if quick else 1_000_000, 2 if quick else 3)
    log("bench: batched training vs a per-run loop ...")
    train = batched_training(runs=500 if quick else 2000, naive_runs=10 if quick else 40, repeats=1 if quick else 3)
    log("bench: P(S) from a stored table ...")
    stored = stored_evidence(1_000_000 if quick else 4_000_000, repeats=2 if quick else 3)
    result = {"load_average_at_start": os.getloadavg()[0], "conditioned_sampling": cond, "training": train,
              "stored_evidence": stored, "quick": quick}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "learning.json").write_text(json.dumps(result, indent=2) + "\n")
    log(markdown(result))
    return result


def markdown(r: dict) -> str:
    c, t, s = r["conditioned_sampling"], r["training"], r["stored_evidence"]
    return "\n".join([
        "## Learning: conditioned sampling, batched training, P(S) from a stored table",
        "",
        "| | median | target |",
        "|---|---:|---:|",
        f"| sampling 7-40-40-1 ReLU, unconditioned (networks/s) | {c['unconditioned']:,.0f} | |",
        f"| the same, conditioned on S (m = {c['m']}) (networks/s) | {c['conditioned']:,.0f} |"
        f" {c['ratio']:.0%} of unconditioned (>= 90%) |",
        f"| acceptance test alone (ns per draw) | {c['accept_ns_per_draw']:.0f} |"
        f" {c['accept_share']:.2%} of a worker's time per draw |",
        f"| training, per-run torch loop, 1 thread (run-epochs/s) | {t['naive']:,.0f} | |",
        f"| training, batched, 1 thread (run-epochs/s) | {t['batched_1']:,.0f} |"
        f" {t['speedup_1_thread']:.1f}x |",
        f"| training, batched, {t['cores']} worker threads (run-epochs/s) | {t['batched']:,.0f} |"
        f" {t['speedup']:.1f}x (>= 20x) |",
        f"| P(S) from a stored table, one S (functions/s) | {s['functions_per_s']:.3g} | >= 1e7 |",
        f"| the same, {s['conditions']} training sets in one pass (function-checks/s) |"
        f" {s['function_checks_per_s_many']:.3g} | |",
        "",
        f"Training setup: {t['setup']}; {t['runs']} batched runs and {t['naive_runs']} per-run-loop runs, "
        f"{t['epochs']} epochs each (the target is not fitted in that time, so both do the same work). "
        f"Load average at start: {r['load_average_at_start']:.2f} (shared machine; each comparison alternates its"
        " two sides within one run).",
    ])


if __name__ == "__main__":
    run(Path(sys.argv[1] if len(sys.argv) > 1 else "results/bench"), quick="--quick" in sys.argv)
