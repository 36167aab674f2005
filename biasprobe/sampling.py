"""The seeded, streaming sampler: draws random functions in fixed blocks, evaluates them in batches and counts them exactly.

Seeding scheme (what makes results independent of batch size and worker count):
draws are grouped into fixed blocks of `block_size(...)` consecutive draws
(4096 for a 7-40-40-1 network; fewer only when a block's raw parameters would
exceed 64 MiB, a constant of the prior, never of the run). Block k is drawn from
its own stream seeded by ``SeedSequence(seed, spawn_key=(k,))``: a
``torch.Generator`` filling all the block's unit-variance parameters in one call
(network priors), or a ``np.random.Generator(PCG64)`` (other priors). A run of S
samples uses blocks 0, 1, ... and the last, partial block takes the first draws
of its block. Each network is evaluated alone by the numba kernel, so neither
the batch size nor the number of worker threads changes a single output bit.
CPU and CUDA use different random streams; each is deterministic on its own.
The kernel is compiled for the host CPU (fused multiply-adds where it has them),
so bit-identity is promised on one machine type, not across architectures.

Parallelism: `workers` threads (default: one per core) each take whole blocks;
torch's generator and the numba kernels release the GIL, torch runs one thread
per worker meanwhile, and one locked hash table counts for all of them.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from biasprobe import tables
from biasprobe.errors import UserError

BLOCK = 4096  # draws per seeding block (upper bound; see block_size)
BLOCK_BYTES = 64 << 20  # a block's raw parameters (or generic outputs) stay under this
BATCH_OUTPUT_BYTES = 32 << 20  # default batch: real outputs of one batch stay under this
MAX_LOAD = 0.7  # hash-table load factor before it doubles


@dataclass(frozen=True, eq=False)
class Counts:
    """Exact counts of the distinct functions drawn, sorted by count descending then function (canonical order)."""

    words: np.ndarray  # (D, W) uint64 packed canonical truth tables
    counts: np.ndarray  # (D,) int64
    samples: int  # draws requested
    nonfinite: int  # draws with a NaN/inf output somewhere: excluded from the counts
    domain: object
    prior: object
    seed: int = 0
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)  # engine details for provenance (device, workers, batch, block)
    rejected: int = 0  # finite draws a `condition` rejected (not in the counts)

    @property
    def n_bits(self) -> int:
        return self.domain.n_points

    @property
    def distinct(self) -> int:
        return int(self.counts.shape[0])

    def hex(self) -> list[str]:
        return tables.to_hex(self.words, self.n_bits)

    def bits(self) -> np.ndarray:
        """(D, N) uint8 canonical truth tables."""
        return tables.unpack(self.words, self.n_bits)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"function": self.hex(), "count": self.counts})


def block_size(prior, domain) -> int:
    """Draws per seeding block: a function of the prior and domain only (never of batch or workers)."""
    net = prior.network(domain)
    per_draw = 4 * (net.n_params if net is not None else domain.n_points)
    size = BLOCK
    while size > 1 and size * per_draw > BLOCK_BYTES:
        size //= 2
    return size


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve_device(device) -> str:
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise UserError(f"unknown device {device!r}; valid: cpu, cuda, auto")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {device!r} asked for, but torch finds no CUDA device; use --device cpu")
    return str(device)


def _check_run(samples, seed) -> int:
    if isinstance(samples, float) and samples.is_integer():
        samples = int(samples)
    if not isinstance(samples, (int, np.integer)) or isinstance(samples, bool) or samples < 1:
        raise UserError(f"samples must be a positive integer, got {samples!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {seed!r}")
    return int(samples)


def memory_budget() -> int:
    """Bytes the sampler lets itself use: 3/4 of physical memory."""
    try:
        return int(0.75 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 8 << 30


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


class _Engine:
    """Draws block k and evaluates any slice of it; one per run, shared by the worker threads."""

    def __init__(self, prior, domain, seed: int, device: str):
        self.prior, self.domain, self.seed, self.device = prior, domain, seed, device
        self.net = prior.network(domain)
        self.block = block_size(prior, domain)
        self.n_points = domain.n_points
        if self.net is not None:
            net = self.net
            n = self.n_points
            # Boolean cubes: a power-of-two tile <= N for the additive first layer
            self.tile = min(128, n) if net.cube else (128 if n >= 128 else max(16, -(-n // 16) * 16))
            self.cube = net.cube
            pad = -(-n // self.tile) * self.tile
            feats = np.zeros((net.features.shape[0], pad), np.float32)
            feats[:, :n] = net.features
            self.features = feats
            self.widths = np.asarray(net.widths, np.int64)
            self.codes = np.asarray(net.activations, np.int64)
            self.wscale = np.asarray(net.weight_scale, np.float32)
            self.bscale = np.asarray(net.bias_scale, np.float32)

    def stream_seed(self, block: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(block,))

    def bytes_per_worker(self, batch: int) -> int:
        n, w = self.n_points, tables.n_words(self.n_points)
        draws = 4 * self.block * self.net.n_params if self.net is not None else 0
        return draws + batch * (4 * n + 8 * w + 1)

    def new_buffers(self, batch: int):
        import torch

        params = None
        if self.net is not None:
            params = torch.empty((self.block, self.net.n_params), dtype=torch.float32, device=self.device)
        return {
            "params": params,
            "out": np.empty((batch, self.n_points), np.float32),
            "words": np.empty((batch, tables.n_words(self.n_points)), np.uint64),
            "finite": np.empty(batch, np.bool_),
        }

    def draw(self, block: int, count: int, buf):
        """Draw block `block` (its first `count` draws for generic priors); returns a handle for `evaluate`."""
        ss = self.stream_seed(block)
        if self.net is None:
            return self.prior.draw_outputs(np.random.Generator(np.random.PCG64(ss)), count, self.domain)
        import torch

        gen = torch.Generator(device=self.device)
        gen.manual_seed(int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        params = buf["params"]
        # Always the whole block, so a partial last block is a prefix of the full one.
        if self.net.distribution == "uniform":
            params.uniform_(-math.sqrt(3.0), math.sqrt(3.0), generator=gen)
        else:
            params.normal_(generator=gen)
        return params

    def evaluate(self, handle, start: int, stop: int, buf) -> np.ndarray:
        """Real outputs (stop - start, N) float32 of draws start..stop of a drawn block."""
        out = buf["out"][: stop - start]
        if self.net is None:
            out[:] = handle[start:stop]
        elif self.device == "cpu":
            from biasprobe import _kernels

            _kernels.forward(self.features, handle.numpy()[start:stop], self.widths, self.codes,
                             self.wscale, self.bscale, self.tile, self.cube, out)
        else:
            out[:] = _torch_forward(self, handle[start:stop]).cpu().numpy()
        return out


def _torch_forward(engine: _Engine, params):
    """The same network as the numba kernel in torch (CUDA path): outputs (B, N) on params' device."""
    import torch

    net = engine.net
    x = torch.as_tensor(net.features, device=params.device)  # (K, N)
    h = x.unsqueeze(0).expand(params.shape[0], -1, -1)  # (B, K, N)
    off = 0
    for layer in range(len(net.widths) - 1):
        fi, fo = net.widths[layer], net.widths[layer + 1]
        w = params[:, off : off + fi * fo].reshape(-1, fo, fi)
        b = params[:, off + fi * fo : off + fi * fo + fo]
        z = torch.bmm(w, h) * net.weight_scale[layer] + (b * net.bias_scale[layer]).unsqueeze(2)
        h = _torch_activation(z, net.activations[layer])
        off += fi * fo + fo
    return h[:, 0, :]


def _torch_activation(z, code: int):
    import torch

    from biasprobe._kernels import POWER

    if code >= POWER:
        return z ** (code - POWER)
    return {
        0: lambda v: v,
        1: torch.relu,
        2: torch.tanh,
        3: torch.erf,
        4: torch.sigmoid,
        5: lambda v: torch.nn.functional.gelu(v),
        6: torch.sin,
    }[code](z)


class _Table:
    """Open-addressing hash table of packed truth tables -> counts; memory ~ distinct functions."""

    def __init__(self, n_words: int, budget: int, capacity: int = 1 << 12):
        self.n_words, self.budget = n_words, budget
        self.keys = np.zeros((capacity, n_words), np.uint64)
        self.counts = np.zeros(capacity, np.int64)
        self.used = 0

    def entry_bytes(self) -> int:
        return 8 * self.n_words + 8

    def insert(self, words, valid) -> None:
        from biasprobe import _kernels

        need = self.used + len(words)
        cap = self.keys.shape[0]
        if need > MAX_LOAD * cap:
            while need > MAX_LOAD * cap:
                cap *= 2
            grown = cap * self.entry_bytes()
            if grown + self.keys.shape[0] * self.entry_bytes() > self.budget:
                raise UserError(
                    f"{self.used} distinct functions so far; counting more needs a {_gib(grown)} table"
                    f" (over the {_gib(self.budget)} memory budget): use fewer samples or a smaller domain"
                )
            keys = np.zeros((cap, self.n_words), np.uint64)
            counts = np.zeros(cap, np.int64)
            _kernels.table_merge(keys, counts, self.keys, self.counts)
            self.keys, self.counts = keys, counts
        self.used += _kernels.table_insert(self.keys, self.counts, words, valid)

    def sorted(self):
        occupied = np.flatnonzero(self.counts)
        words, counts = self.keys[occupied], self.counts[occupied]
        # lexsort: last key is primary -> count descending, then the number ascending (word 0 most significant)
        order = np.lexsort([words[:, j] for j in range(self.n_words - 1, -1, -1)] + [-counts])
        return np.ascontiguousarray(words[order]), np.ascontiguousarray(counts[order])


class _single_thread_torch:
    """One torch thread per worker while sampling (workers = cores); restored afterwards."""

    def __enter__(self):
        import torch

        self.saved = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.saved)


def _plan_batch(engine: _Engine, batch_size, workers: int, budget: int) -> int:
    n = engine.n_points
    if batch_size is None:
        batch = max(1, min(engine.block, BATCH_OUTPUT_BYTES // (4 * n)))
    else:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise UserError(f"batch size must be a positive integer, got {batch_size!r}")
        batch = min(int(batch_size), engine.block)
    fixed = engine.features.nbytes if engine.net is not None else 0
    while batch > 1 and fixed + workers * engine.bytes_per_worker(batch) > budget:
        batch //= 2
    need = fixed + workers * engine.bytes_per_worker(batch)
    if need > budget:
        raise UserError(
            f"{engine.prior.name} on {engine.domain} needs about {_gib(need)} for {workers} worker(s)"
            f" even one draw at a time (memory budget {_gib(budget)}); use a smaller domain or fewer workers"
        )
    return batch


def sample_counts(prior, domain, samples: int = 10**6, seed: int = 0, batch_size=None, workers=None,
                  device=None, progress: bool = False, condition=None) -> Counts:
    """Draw `samples` functions from `prior` on `domain` and count every distinct truth table exactly.

    Same seed => bit-identical counts for any batch_size and workers (see the module docstring).
    Draws whose output is NaN or infinite at any point are counted in `.nonfinite`, not in the table.
    With a `condition` (an object with ``accepts(words) -> (B,) bool``, e.g. `biasprobe.learning.Condition`),
    only the finite draws it accepts are counted; the others are counted in `.rejected`.
    """
    samples = _check_run(samples, seed)
    device = resolve_device(device)
    workers = default_workers() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise UserError(f"workers must be a positive integer, got {workers!r}")
    engine = _Engine(prior, domain, int(seed), device)
    n_blocks = -(-samples // engine.block)
    workers = int(min(workers, n_blocks)) if device == "cpu" else 1
    budget = memory_budget()
    batch = _plan_batch(engine, batch_size, workers, budget)
    table = _Table(tables.n_words(domain.n_points), budget)
    lock = threading.Lock()
    state = {"next": 0, "nonfinite": 0, "rejected": 0, "error": None}

    from tqdm import tqdm

    bar = tqdm(total=samples, disable=not progress, unit="fn", unit_scale=True, smoothing=0.1)

    def work():
        buf = engine.new_buffers(batch)
        try:
            while True:
                with lock:
                    if state["error"] is not None or state["next"] >= n_blocks:
                        return
                    blk = state["next"]
                    state["next"] += 1
                count = min(engine.block, samples - blk * engine.block)
                handle = engine.draw(blk, count, buf)
                for start in range(0, count, batch):
                    stop = min(count, start + batch)
                    out = engine.evaluate(handle, start, stop, buf)
                    from biasprobe import _kernels

                    words, finite = buf["words"][: stop - start], buf["finite"][: stop - start]
                    _kernels.threshold_pack(out, words, finite)
                    keep = finite if condition is None else finite & condition.accepts(words)
                    with lock:
                        table.insert(words, keep)
                        state["nonfinite"] += int(len(finite) - finite.sum())
                        state["rejected"] += int(finite.sum() - keep.sum())
                        bar.update(stop - start)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            with lock:
                state["error"] = err

    t0 = time.perf_counter()
    try:
        with _single_thread_torch():
            if workers == 1:
                work()
            else:
                threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
    finally:
        bar.close()
    if state["error"] is not None:
        raise state["error"]
    words, counts = table.sorted()
    wall = time.perf_counter() - t0
    info = {"device": device, "workers": workers, "batch_size": batch, "block_size": engine.block}
    return Counts(words=words, counts=counts, samples=samples, nonfinite=state["nonfinite"], domain=domain,
                  prior=prior, seed=int(seed), wall_time=wall, info=info, rejected=state["rejected"])


def sample_outputs(prior, domain, samples: int = 16, seed: int = 0, device=None) -> np.ndarray:
    """(samples, N) float32 real outputs on the canonical points: the same draws as `sample_counts` with this seed."""
    samples = _check_run(samples, seed)
    device = resolve_device(device)
    engine = _Engine(prior, domain, int(seed), device)
    batch = _plan_batch(engine, None, 1, memory_budget())
    out = np.empty((samples, domain.n_points), np.float32)
    buf = engine.new_buffers(batch)
    with _single_thread_torch():
        for blk in range(-(-samples // engine.block)):
            first = blk * engine.block
            count = min(engine.block, samples - first)
            handle = engine.draw(blk, count, buf)
            for start in range(0, count, batch):
                stop = min(count, start + batch)
                out[first + start : first + stop] = engine.evaluate(handle, start, stop, buf)
    return out
