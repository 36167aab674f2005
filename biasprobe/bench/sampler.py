"""Sampler bench: a naive per-network torch loop, the engine, and this machine's sgemm and normal-variate ceilings."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from biasprobe import runtime
from biasprobe.runtime import thread_limits

DOMAIN = "bool:7"
HIDDEN = (40, 40)


def _median_rate(fn, repeats: int) -> tuple[float, list[float]]:
    rates = [fn() for _ in range(repeats)]
    return statistics.median(rates), rates


def sgemm_gflops(threads: int = 1, size: int = 2048, repeats: int = 5) -> tuple[float, list[float]]:
    """Large float32 matrix product, GFLOP/s on `threads` threads."""
    import torch

    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen)
    b = torch.randn(size, size, generator=gen)
    c = torch.empty(size, size)

    def once():
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        return 2 * size**3 / (time.perf_counter() - t) / 1e9

    with thread_limits(torch_threads=threads):
        torch.mm(a, b, out=c)
        return _median_rate(once, repeats)


def normal_rate(n: int = 1 << 23, repeats: int = 5) -> tuple[float, list[float]]:
    """torch float32 normal variates per second on one thread (the engine's generator)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    x = torch.empty(n)

    def once():
        t = time.perf_counter()
        x.normal_(generator=gen)
        return n / (time.perf_counter() - t)

    with thread_limits(torch_threads=1):
        x.normal_(generator=gen)
        return _median_rate(once, repeats)


def naive_rate(networks: int, repeats: int) -> tuple[float, list[float]]:
    """Baseline: one torch module per sampled network (W ~ N(0, 1/fan_in), b ~ N(0, 1)), counted in a Counter.

    Runs on one torch thread: for products this small, more threads only add overhead
    (and contention), so this is the kinder baseline.
    """
    import torch

    from biasprobe.domains import parse_domain

    x = torch.tensor(parse_domain(DOMAIN).points, dtype=torch.float32)
    gen = torch.Generator().manual_seed(0)
    powers = 1 << np.arange(63, -1, -1, dtype=np.uint64)

    def once():
        counter = Counter()
        t = time.perf_counter()
        with torch.no_grad():
            for _ in range(networks):
                layers = [torch.nn.Linear(7, HIDDEN[0]), torch.nn.ReLU(), torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
                          torch.nn.ReLU(), torch.nn.Linear(HIDDEN[1], 1)]
                model = torch.nn.Sequential(*layers)
                for layer in model:
                    if isinstance(layer, torch.nn.Linear):
                        layer.weight.normal_(0.0, layer.in_features**-0.5, generator=gen)
                        layer.bias.normal_(0.0, 1.0, generator=gen)
                bits = (model(x)[:, 0] > 0).numpy().astype(np.uint64)
                key = (int((bits[:64] * powers).sum()), int((bits[64:] * powers).sum()))
                counter[key] += 1
        return networks / (time.perf_counter() - t)

    with thread_limits(torch_threads=1):
        return _median_rate(once, repeats)


def _engine_child(samples: int, repeats: int, workers: int) -> dict:
    """Runs in a fresh process so that its peak RSS is the engine's own."""
    import resource

    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior
    from biasprobe.sampling import sample_counts

    prior, domain = make_prior("mlp", hidden=HIDDEN), parse_domain(DOMAIN)
    sample_counts(prior, domain, samples=8192, seed=0, workers=workers)  # load the compiled kernels
    rates, distinct = [], 0
    for r in range(repeats):
        c = sample_counts(prior, domain, samples=samples, seed=r, workers=workers)
        rates.append(samples / c.wall_time)
        distinct = c.distinct
    return {"rates": rates, "distinct": distinct,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def engine_rate(samples: int, repeats: int, workers: int) -> dict:
    code = ("import json, sys; from biasprobe.bench.sampler import _engine_child; "
            f"print(json.dumps(_engine_child({samples}, {repeats}, {workers})))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["median"] = statistics.median(out["rates"])
    return out


def breakdown(blocks: int = 6) -> dict:
    """Single-thread seconds per network spent drawing parameters, in the forward kernel, and packing+counting."""
    from biasprobe import _kernels, sampling
    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior

    eng = sampling._Engine(make_prior("mlp", hidden=HIDDEN), parse_domain(DOMAIN), 0, "cpu")
    buf = eng.new_buffers(eng.block)
    table = sampling._Table(2, 1 << 34)
    t_draw, t_fwd, t_count = [], [], []
    with thread_limits(torch_threads=1):
        for blk in range(blocks):
            t0 = time.perf_counter()
            handle = eng.draw(blk, eng.block, buf)
            t1 = time.perf_counter()
            out = eng.evaluate(handle, 0, eng.block, buf)
            t2 = time.perf_counter()
            _kernels.threshold_pack(out, buf["words"], buf["finite"])
            table.insert(buf["words"], buf["finite"])
            t3 = time.perf_counter()
            if blk:  # the first block pays for loading kernels
                t_draw.append(t1 - t0), t_fwd.append(t2 - t1), t_count.append(t3 - t2)
    per = lambda ts: statistics.median(ts) / eng.block * 1e6  # noqa: E731
    return {"draw_us": per(t_draw), "forward_us": per(t_fwd), "pack_count_us": per(t_count)}


def run(out_dir: Path, quick: bool = False) -> dict:
    from biasprobe.domains import parse_domain
    from biasprobe.priors import make_prior
    cores = runtime.cores()
    net = make_prior("mlp", hidden=HIDDEN).network(parse_domain(DOMAIN))
    reps = 3 if quick else 5
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    log("bench: ceilings (sgemm, normal variates) ...")
    gflops, gflops_all = sgemm_gflops(repeats=reps)
    normals, normals_all = normal_rate(repeats=reps)
    per_core_bound = 1.0 / (net.n_params / normals + net.flops / (gflops * 1e9))
    bound = cores * per_core_bound

    log("bench: naive per-network torch loop ...")
    naive, naive_all = naive_rate(300 if quick else 1500, 3)
    log("bench: engine, breakdown ...")
    parts = breakdown()
    samples = 200_000 if quick else 1_000_000
    log(f"bench: engine, {cores} worker(s), {samples} samples x {reps - 2} ...")
    eng = engine_rate(samples, max(1, reps - 2), cores)
    log("bench: engine, 1 worker ...")
    eng1 = engine_rate(samples // 2, 1, 1)

    result = {
        "machine": {"cores": cores, "cpu": platform.processor() or platform.machine(),
                    "load_average_at_start": os.getloadavg()[0]},
        "network": {"domain": DOMAIN, "hidden": list(HIDDEN), "activation": "relu", "weights": "gaussian",
                    "parameters": net.n_params, "flops_per_network": net.flops},
        "ceilings": {"sgemm_gflops_per_core": gflops, "sgemm_runs": gflops_all,
                     "normals_per_s_per_core": normals, "normals_runs": normals_all},
        "bound_networks_per_s": bound,
        "naive_networks_per_s": naive, "naive_runs": naive_all,
        "engine_networks_per_s": eng["median"], "engine_runs": eng["rates"],
        "engine_1worker_networks_per_s": eng1["median"],
        "engine_samples_per_run": samples, "engine_distinct_last_run": eng["distinct"],
        "speedup_over_naive": eng["median"] / naive,
        "fraction_of_bound": eng["median"] / bound,
        "peak_rss_mib": eng["peak_rss_mib"],
        "single_thread_us_per_network": parts,
        "quick": quick,
    }
    (out_dir / "sampler.json").write_text(json.dumps(result, indent=2) + "\n")
    log(markdown(result))
    return result


def markdown(r: dict) -> str:
    c, p = r["ceilings"], r["single_thread_us_per_network"]
    rows = [
        ("naive: one torch module per network (1 thread)", f"{r['naive_networks_per_s']:,.0f}", "1.0x"),
        (f"engine, {r['machine']['cores']} worker(s)", f"{r['engine_networks_per_s']:,.0f}",
         f"{r['speedup_over_naive']:.1f}x"),
        ("engine, 1 worker", f"{r['engine_1worker_networks_per_s']:,.0f}",
         f"{r['engine_1worker_networks_per_s'] / r['naive_networks_per_s']:.1f}x"),
        ("bound: cores / (params/normal rate + FLOPs/sgemm rate)", f"{r['bound_networks_per_s']:,.0f}", ""),
    ]
    lines = [
        "## Sampler: 7-40-40-1 ReLU on bool:7, Gaussian weights, exact counting included",
        "",
        "| | networks/s (median) | vs naive |",
        "|---|---:|---:|",
        *[f"| {a} | {b} | {s} |" for a, b, s in rows],
        "",
        f"Engine at {r['fraction_of_bound']:.0%} of the bound; peak memory {r['peak_rss_mib']:.0f} MiB"
        f" ({r['engine_samples_per_run']:,} samples per run, {r['engine_distinct_last_run']:,} distinct functions).",
        f"Ceilings per core: sgemm {c['sgemm_gflops_per_core']:.1f} GFLOP/s, torch normal_"
        f" {c['normals_per_s_per_core']:.3g} variates/s; a network has {r['network']['parameters']} parameters and"
        f" {r['network']['flops_per_network'] / 1e6:.2f} MFLOP on 128 inputs.",
        f"One thread, microseconds per network: drawing parameters {p['draw_us']:.2f}, forward kernel"
        f" {p['forward_us']:.2f}, threshold+pack+count {p['pack_count_us']:.2f}.",
        f"Load average at start: {r['machine']['load_average_at_start']:.2f} (the machine is shared; medians of"
        " repeats, ratios from one run).",
    ]
    return "\n".join(lines)
