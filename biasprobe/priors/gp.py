"""The `gp` prior: a Gaussian process on the domain's points, thresholded at 0, sampled exactly (docs/definitions.md §8)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from biasprobe.errors import UserError
from biasprobe.gp import kernels, sampling
from biasprobe.priors.base import Prior

METHODS = ("auto", "cholesky", "walsh")
# which fields each kernel reads (the others are ignored for that kernel)
KERNEL_FIELDS = {
    "rbf": ("length_scale",),
    "laplace": ("length_scale",),
    "matern": ("nu", "length_scale"),
    "polynomial": ("degree", "offset"),
    "nngp": ("activation", "depth", "sigma_w", "sigma_b", "bias_scaling"),
}


@dataclass(frozen=True)
class GP(Prior):
    """f ~ GP(0, k) on every point of the domain, 1 iff f(x) > 0.

    Exact sampling, once per (prior, domain) a factor and then one matrix product or
    transform per batch of draws from the explicit generator (`biasprobe.gp.sampling`):
    ``method=walsh`` diagonalises a kernel that depends only on the Hamming distance
    (rbf, laplace, matern on bool:n and pm1:n; nngp and polynomial on pm1:n) in the
    Walsh basis, exactly and without jitter; ``method=cholesky`` factors
    K + jitter * mean(diag K) * I on any domain (at most 8192 points); ``auto``
    takes walsh where it applies and cholesky elsewhere. ``kernel=nngp`` is the
    infinite-width limit of ``mlp`` with ``depth`` hidden layers of ``activation``
    and the same sigma_w, sigma_b (Lee et al. 2018).
    """

    kernel: str = "rbf"
    length_scale: float = 1.0
    nu: float = 1.5
    degree: int = 2
    offset: float = 1.0
    activation: str = "relu"
    depth: int = 2
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    bias_scaling: str = "fixed"
    jitter: float = 1e-6
    method: str = "auto"

    name: ClassVar[str] = "gp"
    summary: ClassVar[str] = "Gaussian process thresholded at 0; kernel rbf | laplace | matern | polynomial | nngp"
    field_help: ClassVar[dict[str, str]] = {
        "kernel": "rbf | laplace | matern | polynomial | nngp (the mlp prior's infinite-width limit)",
        "length_scale": "rbf, laplace, matern: Euclidean length scale (on bool:n |x - x'|^2 is the Hamming distance)",
        "nu": "matern: smoothness (1/2 is laplace; 3/2, 5/2 closed forms; any 0 < nu <= 100)",
        "degree": "polynomial: (x.x' + offset)^degree, integer >= 1",
        "offset": "polynomial: offset >= 0",
        "activation": "nngp: " + " | ".join(kernels.ACTIVATIONS),
        "depth": "nngp: hidden layers (0 is the perceptron's kernel)",
        "sigma_w": "nngp: W ~ N(0, sigma_w^2/fan_in)",
        "sigma_b": "nngp: b ~ N(0, sigma_b^2)",
        "bias_scaling": "nngp: fixed | fan_in (b ~ N(0, sigma_b^2/fan_in): in the limit only the first layer's bias)",
        "jitter": "cholesky: K + jitter * mean(diag K) * I (relative; decides signs only where K is degenerate)",
        "method": "auto | cholesky | walsh (exact Walsh diagonalisation, Hamming-distance kernels on cubes)",
    }

    def __post_init__(self):
        kernels.check_kernel(self.kernel, **self.kernel_params())
        if not (np.isfinite(self.jitter) and self.jitter >= 0):
            raise UserError(f"prior gp: jitter={self.jitter} must be a finite number >= 0")
        if self.method not in METHODS:
            raise UserError(f"prior gp: method={self.method!r}; valid: {', '.join(METHODS)}")

    def kernel_params(self) -> dict:
        """The fields the chosen kernel reads, as keyword arguments of `biasprobe.gp.kernels`."""
        if self.kernel not in KERNEL_FIELDS:
            kernels.check_kernel(self.kernel)  # raises the unknown-name UserError
        return {f: getattr(self, f) for f in KERNEL_FIELDS[self.kernel]}

    def kernel_matrix(self, domain) -> np.ndarray:
        """The (N, N) kernel matrix on the domain's canonical points."""
        return kernels.kernel_matrix(self.kernel, domain.points, **self.kernel_params())

    def resolved_method(self, domain) -> str:
        walsh_ok = kernels.hamming_only(self.kernel, domain)
        if self.method == "walsh" and not walsh_ok:
            raise UserError(f"prior gp: method=walsh needs a kernel that depends only on the Hamming distance"
                            f" (rbf, laplace, matern on a cube; nngp, polynomial on pm1), not {self.kernel} on"
                            f" {domain}; use method=cholesky or auto")
        if self.method == "auto":
            return "walsh" if walsh_ok else "cholesky"
        return self.method

    def draw_outputs(self, rng: np.random.Generator, count: int, domain) -> np.ndarray:
        _, factor = _factor(self, domain)
        return sampling.draw(rng, factor, count).astype(np.float32)


_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _factor(prior: GP, domain) -> tuple[str, np.ndarray]:
    """(method, factor) for a prior on a domain, computed once: the sampler calls draw_outputs per block."""
    key = (prior, domain.kind, domain.dim, domain.size, domain.seed)  # the enumeration order leaves points alone
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    method = prior.resolved_method(domain)
    pts = domain.points
    if method == "walsh":
        row = kernels.kernel_cross(prior.kernel, pts, pts[:1], **prior.kernel_params())[:, 0]
        factor = sampling.walsh_factor(row)
    else:
        factor = sampling.cholesky_factor(prior.kernel_matrix(domain), prior.jitter)
    factor.setflags(write=False)
    with _CACHE_LOCK:
        _CACHE[key] = (method, factor)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return method, factor
