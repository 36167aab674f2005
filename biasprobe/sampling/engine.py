"""The seeded engine: block k of a run drawn from its own stream, and its draws evaluated on the domain's points.

Seeding scheme (what makes results independent of batch size, worker count and sharding):
draws are grouped into fixed blocks of `block_size(...)` consecutive draws
(4096 for a 7-40-40-1 network; fewer only when a block's raw parameters would
exceed 64 MiB, a constant of the prior, never of the run). Block k is drawn from
its own stream seeded by ``SeedSequence(seed, spawn_key=(k,))``: a
``torch.Generator`` filling all the block's unit-variance parameters in one call
(network priors), or a ``np.random.Generator(PCG64)`` (other priors). A run of S
samples uses blocks 0, 1, ... and the last, partial block takes the first draws
of its block. Each network is evaluated alone by the numba kernel, so neither
the batch size nor the number of workers changes a single output bit.
CPU and CUDA use different random streams; each is deterministic on its own.
Torch's CPU generator and the numba kernel follow the host's instruction set, so
bit-identity across machine types needs pinned settings (see `canary`).
"""

from __future__ import annotations

import math

import numpy as np

from biasprobe import activations, runtime, tables
from biasprobe.errors import UserError

BLOCK = 4096  # draws per seeding block (upper bound; see block_size)
BLOCK_BYTES = 64 << 20  # a block's raw parameters (or generic outputs) stay under this
BATCH_OUTPUT_BYTES = 32 << 20  # default batch: real outputs of one batch stay under this
# Largest run the engine accepts: counts are int64 and block indices int64 with room to spare; at
# ~10^5 draws/s per core, 10^15 draws is already centuries of one machine.
MAX_SAMPLES = 10**15
MAX_SEED = 2**128  # SeedSequence takes any non-negative int; bounded so seeds stay printable and JSON-exact


def block_size(prior, domain) -> int:
    """Draws per seeding block: a function of the prior and domain only (never of batch, workers or shards)."""
    net = prior.network(domain)
    per_draw = 4 * (net.n_params if net is not None else domain.n_points)
    size = BLOCK
    while size > 1 and size * per_draw > BLOCK_BYTES:
        size //= 2
    return size


def resolve_device(device) -> str:
    if device == "cpu":
        return "cpu"  # without importing torch: a run directory's driver never needs it
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise UserError(f"unknown device {device!r}; valid: cpu, cuda, auto")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {device!r} asked for, but torch finds no CUDA device; use --device cpu")
    return str(device)


def check_samples(samples, what: str = "samples") -> int:
    """A positive integer no larger than MAX_SAMPLES; floats only when they are exact integers below 2^53."""
    if isinstance(samples, float):
        if not (math.isfinite(samples) and samples.is_integer() and abs(samples) < 2**53):
            raise UserError(f"{what} must be a positive integer, got {samples!r} (pass an int, not a float)")
        samples = int(samples)
    if not isinstance(samples, (int, np.integer)) or isinstance(samples, bool) or samples < 1:
        raise UserError(f"{what} must be a positive integer, got {samples!r}")
    if samples > MAX_SAMPLES:
        raise UserError(f"{what}={samples} is beyond what the engine runs (at most 10^15 draws, centuries of"
                        " one machine); use fewer samples")
    return int(samples)


def check_seed(seed) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < MAX_SEED:
        raise UserError(f"seed must be an integer in [0, 2^128), got {seed!r}")
    return int(seed)


def check_run(samples, seed) -> int:
    check_seed(seed)
    return check_samples(samples)


def memory_budget() -> int:
    """Bytes the sampler lets itself use: 3/4 of physical memory."""
    return runtime.memory_budget(0.75)


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


class Engine:
    """Draws block k and evaluates any slice of it; one per run, shared by the worker threads."""

    def __init__(self, prior, domain, seed: int, device: str):
        prior.check_domain(domain)  # a prior declares the domain families it is defined on
        self.prior, self.domain, self.seed, self.device = prior, domain, seed, device
        self.net = prior.network(domain)
        self.block = block_size(prior, domain)
        self.n_points = domain.n_points
        self.n_words = tables.n_words(domain.n_points)
        if self.net is not None:
            net = self.net
            n = self.n_points
            # Boolean cubes: a power-of-two tile <= N for the additive first layer
            self.tile = min(128, n) if net.cube else (128 if n >= 128 else max(16, -(-n // 16) * 16))
            self.cube = net.cube
            pad = -(-n // self.tile) * self.tile
            if pad == n and net.features.dtype == np.float32 and net.features.flags.c_contiguous:
                self.features = net.features  # no copy: on bool:24 these are 1.6 GB
            else:
                feats = np.zeros((net.features.shape[0], pad), np.float32)
                feats[:, :n] = net.features
                self.features = feats
            self.widths = np.asarray(net.widths, np.int64)
            self.codes = np.asarray(net.activations, np.int64)
            self.wscale = np.asarray(net.weight_scale, np.float32)
            self.bscale = np.asarray(net.bias_scale, np.float32)

    def n_blocks(self, samples: int) -> int:
        return -(-samples // self.block)

    def block_draws(self, block: int, samples: int) -> int:
        """Draws of block `block` that belong to a run of `samples` draws (the last block may be partial)."""
        return max(0, min(self.block, samples - block * self.block))

    def stream_seed(self, block: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(block,))

    def bytes_per_worker(self, batch: int) -> int:
        n, w = self.n_points, self.n_words
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
            "words": np.empty((batch, self.n_words), np.uint64),
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
            out[:] = torch_forward(self, handle[start:stop]).cpu().numpy()
        return out


def torch_forward(engine: Engine, params):
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
        h = activations.torch_apply(z, net.activations[layer])
        off += fi * fo + fo
    return h[:, 0, :]


def single_thread_torch():
    """One torch thread per worker while sampling (workers = cores); restored afterwards."""
    return runtime.thread_limits(torch_threads=1)


def plan_batch(engine: Engine, batch_size, workers: int, budget: int) -> int:
    """Draws per kernel call: as many as fit BATCH_OUTPUT_BYTES and the memory budget (never more than a block)."""
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
            f"{engine.prior.name} on {engine.domain} needs about {gib(need)} for {workers} worker(s)"
            f" even one draw at a time (memory budget {gib(budget)}); use a smaller domain or fewer workers"
        )
    return batch
