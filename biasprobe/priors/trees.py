"""Random decision trees: complete trees of a given depth with random tests and coin-flip leaves (REFERENCES §8)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numba as nb
import numpy as np

from biasprobe.errors import UserError
from biasprobe.priors._stream import bernoulli, bounded, draw_keys, next64, seed, uniform
from biasprobe.priors.base import Prior

MAX_DEPTH = 24  # 2^24 leaves per draw is already 64 MiB of node state


def check_probability(prior: str, key: str, p: float) -> None:
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise UserError(f"prior {prior}: {key}={p} must be a probability in [0, 1]")


@dataclass(frozen=True)
class Tree(Prior):
    """A complete binary decision tree of depth ``depth`` with leaves labelled 1 with probability ``p``.

    Boolean cubes: every internal node tests a variable drawn uniformly from those
    not yet tested on its path (so depth <= n), left branch x_j = 0 (-1 on pm1).
    Depth n with p = 1/2 is exactly the counting measure: every input reaches its
    own leaf, and the leaves are independent fair coins.
    Grids and point clouds: every internal node splits its cell (the bounding box of
    the domain's points, cut by the tests above it) along a uniformly random axis at
    a threshold uniform over the cell's extent on that axis; a point goes left iff
    its coordinate is below the threshold (a Mondrian-like random partition).
    Draw order per draw: internal nodes in heap order, then the leaves.
    """

    depth: int = 3
    p: float = 0.5

    name: ClassVar[str] = "tree"
    summary: ClassVar[str] = "complete random decision tree: distinct variables on every path, leaves 1 w.p. p"
    field_help: ClassVar[dict[str, str]] = {
        "depth": f"levels of tests, 1..n on Boolean cubes (1..{MAX_DEPTH} on grids and clouds)",
        "p": "probability that a leaf is labelled 1",
    }

    def __post_init__(self):
        if not 1 <= self.depth <= MAX_DEPTH:
            raise UserError(f"prior tree: depth={self.depth} must be 1..{MAX_DEPTH} (at most n on a Boolean cube)")
        check_probability(self.name, "p", self.p)

    def check_domain(self, domain) -> None:
        super().check_domain(domain)
        if domain.is_boolean and self.depth > domain.dim:
            raise UserError(f"prior tree: depth={self.depth} exceeds the {domain.dim} variables of {domain}; "
                            f"a path cannot test a variable twice, so depth must be 1..{domain.dim}")

    def draw_outputs(self, rng: np.random.Generator, count: int, domain) -> np.ndarray:
        keys = draw_keys(rng, count)
        out = np.empty((count, domain.n_points), np.float32)
        if domain.is_boolean:
            _tree_cube(keys, domain.dim, self.depth, float(self.p), out)
        else:
            pts = np.ascontiguousarray(domain.points, dtype=np.float64)
            _tree_points(keys, pts, pts.min(axis=0), pts.max(axis=0), self.depth, float(self.p), out)
        return out


@nb.njit(cache=True, nogil=True, inline="always")
def _leaves(s, leaf, p):
    """Label the leaves +-1: 64 leaves per raw word when p = 1/2 (exact and cheaper), else one uniform each."""
    if p == 0.5:
        word = np.uint64(0)
        for j in range(leaf.shape[0]):
            if j % 64 == 0:
                word = next64(s)
            leaf[j] = 1.0 if (word >> np.uint64(j % 64)) & np.uint64(1) else -1.0
    else:
        for j in range(leaf.shape[0]):
            leaf[j] = 1.0 if bernoulli(s, p) else -1.0


@nb.njit(cache=True, nogil=True)
def _tree_cube(keys, n, depth, p, out):
    count, npts = out.shape
    internal = (1 << depth) - 1
    var = np.empty(internal, np.int64)
    leaf = np.empty(internal + 1, np.float32)
    used = np.zeros(n, np.bool_)
    s = np.empty(2, np.uint64)
    for i in range(count):
        seed(s, keys[i, 0], keys[i, 1])
        level = 0
        for node in range(internal):
            if node + 1 == 1 << (level + 1):
                level += 1
            a = node
            while a > 0:  # mark the variables tested above this node
                a = (a - 1) // 2
                used[var[a]] = True
            r = bounded(s, n - level)
            for v in range(n):  # the r-th untested variable
                if not used[v]:
                    if r == 0:
                        var[node] = v
                        break
                    r -= 1
            a = node
            while a > 0:
                a = (a - 1) // 2
                used[var[a]] = False
        _leaves(s, leaf, p)
        for x in range(npts):
            node = 0
            for _ in range(depth):
                node = 2 * node + 1 + ((x >> (n - 1 - var[node])) & 1)
            out[i, x] = leaf[node - internal]


@nb.njit(cache=True, nogil=True)
def _tree_points(keys, pts, lo0, hi0, depth, p, out):
    count, npts = out.shape
    dim = pts.shape[1]
    internal = (1 << depth) - 1
    axis = np.empty(internal, np.int64)
    thr = np.empty(internal, np.float64)
    lo = np.empty((internal, dim), np.float64)
    hi = np.empty((internal, dim), np.float64)
    leaf = np.empty(internal + 1, np.float32)
    s = np.empty(2, np.uint64)
    for i in range(count):
        seed(s, keys[i, 0], keys[i, 1])
        lo[0, :] = lo0
        hi[0, :] = hi0
        for node in range(internal):
            a = bounded(s, dim)
            t = lo[node, a] + (hi[node, a] - lo[node, a]) * uniform(s)
            axis[node] = a
            thr[node] = t
            left, right = 2 * node + 1, 2 * node + 2
            if right < internal:
                lo[left, :] = lo[node, :]
                hi[left, :] = hi[node, :]
                hi[left, a] = t
                lo[right, :] = lo[node, :]
                hi[right, :] = hi[node, :]
                lo[right, a] = t
        _leaves(s, leaf, p)
        for x in range(npts):
            node = 0
            for _ in range(depth):
                node = 2 * node + (1 if pts[x, axis[node]] < thr[node] else 2)
            out[i, x] = leaf[node - internal]
