"""Random decision trees: complete trees of a given depth with random tests and coin-flip leaves (docs/definitions.md §8)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numba as nb
import numpy as np

from biasprobe.errors import UserError
from biasprobe.priors._stream import bernoulli, bounded, draw_keys, next64, seed, uniform
from biasprobe.priors.base import Prior
from biasprobe.priors.packed import ALL as _ALL
from biasprobe.priors.packed import unpack_row, variable_masks

MAX_DEPTH = 24  # 2^24 leaves per draw is already 64 MiB of node state
PACKED_BITS = 1 << 26  # node tables up to 8 MiB: bottom-up on packed words, else a walk per input


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
        if domain.is_boolean and (2 << self.depth) * domain.n_points <= PACKED_BITS:
            _tree_cube_packed(keys, variable_masks(domain.dim), self.depth, float(self.p), out)
        elif domain.is_boolean:
            _tree_cube_walk(keys, domain.dim, self.depth, float(self.p), out)
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


@nb.njit(cache=True, nogil=True, inline="always")
def _choose_variables(s, n, var, used):
    """Heap-ordered tests: node k takes the r-th variable not tested above it, r uniform (exact)."""
    level = 0
    for node in range(var.shape[0]):
        if node + 1 == 1 << (level + 1):
            level += 1
        if node > 0:
            parent = (node - 1) // 2
            used[node] = used[parent] | (1 << var[parent])  # bit v set: v is tested above this node
        r = bounded(s, n - level)
        for v in range(n):
            if not (used[node] >> v) & 1:
                if r == 0:
                    var[node] = v
                    break
                r -= 1


@nb.njit(cache=True, nogil=True)
def _tree_cube_packed(keys, masks, depth, p, out):
    """Truth tables bottom-up as packed words: node = (x_v AND right) OR (NOT x_v AND left), all inputs at once.

    A few word operations per node instead of a walk per input; memory 2^(depth+1) x N/64 words.
    """
    n, nw = masks.shape
    internal = (1 << depth) - 1
    var = np.empty(internal, np.int64)
    used = np.zeros(internal, np.int64)
    leaf = np.empty(internal + 1, np.float32)
    table = np.empty((2 * internal + 1, nw), np.uint64)
    s = np.empty(2, np.uint64)
    for i in range(keys.shape[0]):
        seed(s, keys[i, 0], keys[i, 1])
        _choose_variables(s, n, var, used)
        _leaves(s, leaf, p)
        for j in range(internal + 1):
            fill = _ALL if leaf[j] > 0 else np.uint64(0)
            for w in range(nw):
                table[internal + j, w] = fill
        for node in range(internal - 1, -1, -1):
            left, right, v = 2 * node + 1, 2 * node + 2, var[node]
            for w in range(nw):
                m = masks[v, w]
                table[node, w] = (m & table[right, w]) | (~m & table[left, w])
        unpack_row(table[0], out, i)


@nb.njit(cache=True, nogil=True)
def _tree_cube_walk(keys, n, depth, p, out):
    """The same draws, each input walked from the root: memory O(2^depth), for cubes too large to pack per node."""
    count, npts = out.shape
    internal = (1 << depth) - 1
    var = np.empty(internal, np.int64)
    used = np.zeros(internal, np.int64)
    leaf = np.empty(internal + 1, np.float32)
    s = np.empty(2, np.uint64)
    for i in range(count):
        seed(s, keys[i, 0], keys[i, 1])
        _choose_variables(s, n, var, used)
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
