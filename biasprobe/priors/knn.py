"""Random nearest-neighbour labellings: k anchor points with coin-flip labels, every point takes its nearest anchor's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numba as nb
import numpy as np

from biasprobe.errors import UserError
from biasprobe.priors._stream import bernoulli, bounded, draw_keys, next64, seed
from biasprobe.priors.base import Prior
from biasprobe.priors.packed import popcounts
from biasprobe.priors.trees import check_probability

# A Boolean cube uses brute force (N k Hamming distances by table lookup) while k <= this x n, else a
# breadth-first search (O(N n) whatever k): they cost about the same near k = 9n on bool:7 (measured).
BRUTE_FORCE_PER_VARIABLE = 8


@dataclass(frozen=True)
class KNN(Prior):
    """1-nearest-neighbour labelling by k random anchors (docs/definitions.md §8).

    The anchors are k distinct points of the domain drawn uniformly without
    replacement, as an ordered sequence; each is labelled 1 with probability p.
    Every point takes the label of its nearest anchor: Hamming distance on Boolean
    cubes, Euclidean distance on grids (on the integer lattice, so ties are exact)
    and point clouds. Ties go to the anchor drawn first; the draw order is uniformly
    random, so this is a uniformly random, seeded tie-break. k = 1 gives only
    constants; k = N anchors with p = 1/2 is exactly the counting measure.
    Draw order per draw: the anchors, then their labels.
    """

    k: int = 4
    p: float = 0.5

    name: ClassVar[str] = "knn"
    summary: ClassVar[str] = "label of the nearest of k random anchors (Hamming / Euclidean), anchors 1 w.p. p"
    field_help: ClassVar[dict[str, str]] = {
        "k": "number of anchors, 1..N (distinct points of the domain); ties go to the anchor drawn first",
        "p": "probability that an anchor is labelled 1",
    }

    def __post_init__(self):
        if self.k < 1:
            raise UserError(f"prior knn: k={self.k} must be >= 1")
        check_probability(self.name, "p", self.p)

    def check_domain(self, domain) -> None:
        super().check_domain(domain)
        if self.k > domain.n_points:
            raise UserError(f"prior knn: k={self.k} anchors exceed the {domain.n_points} points of {domain}; "
                            f"k must be 1..{domain.n_points}")

    def draw_outputs(self, rng: np.random.Generator, count: int, domain) -> np.ndarray:
        keys = draw_keys(rng, count)
        out = np.empty((count, domain.n_points), np.float32)
        if domain.is_boolean and self.k <= BRUTE_FORCE_PER_VARIABLE * domain.dim:
            _knn_cube_brute(keys, popcounts(domain.n_points), self.k, float(self.p), out)
        elif domain.is_boolean:
            _knn_cube(keys, np.ascontiguousarray(domain.neighbours, dtype=np.int64), self.k, float(self.p), out)
        else:
            coords = domain.digits if domain.kind == "grid" else domain.points
            _knn_points(keys, np.ascontiguousarray(coords, dtype=np.float64), self.k, float(self.p), out)
        return out


@nb.njit(cache=True, nogil=True, inline="always")
def _anchors(s, perm, k, label, p):
    """The first k entries of perm become k distinct points, exactly uniform (partial Fisher-Yates); then labels."""
    for j in range(k):
        r = j + bounded(s, perm.shape[0] - j)
        v = perm[r]
        perm[r] = perm[j]
        perm[j] = v
    if p == 0.5:
        word = np.uint64(0)
        for j in range(k):
            if j % 64 == 0:
                word = next64(s)
            label[j] = 1.0 if (word >> np.uint64(j % 64)) & np.uint64(1) else -1.0
    else:
        for j in range(k):
            label[j] = 1.0 if bernoulli(s, p) else -1.0


@nb.njit(cache=True, nogil=True)
def _knn_cube(keys, nbr, k, p, out):
    """Multi-source breadth-first search on the cube graph: O(N n) per draw whatever k.

    Exact: the anchors nearest to x are the union of those nearest to x's neighbours one
    step closer, so propagating the smallest anchor index level by level gives every
    point its nearest anchor, ties to the earliest drawn.
    """
    count, npts = out.shape
    n = nbr.shape[1]
    perm = np.arange(npts)
    label = np.empty(k, np.float32)
    owner = np.empty(npts, np.int64)
    dist = np.empty(npts, np.int64)
    frontier = np.empty(npts, np.int64)
    nxt = np.empty(npts, np.int64)
    s = np.empty(2, np.uint64)
    for i in range(count):
        seed(s, keys[i, 0], keys[i, 1])
        for x in range(npts):
            perm[x] = x
        _anchors(s, perm, k, label, p)
        owner[:] = -1
        for j in range(k):
            owner[perm[j]] = j
            dist[perm[j]] = 0
            frontier[j] = perm[j]
        size = k
        level = 0
        while size > 0:
            nsize = 0
            for f in range(size):
                v = frontier[f]
                for d in range(n):
                    u = nbr[v, d]
                    if owner[u] < 0:
                        owner[u] = owner[v]
                        dist[u] = level + 1
                        nxt[nsize] = u
                        nsize += 1
                    elif dist[u] == level + 1 and owner[v] < owner[u]:
                        owner[u] = owner[v]
            frontier, nxt = nxt, frontier
            size = nsize
            level += 1
        for x in range(npts):
            out[i, x] = label[owner[x]]


@nb.njit(cache=True, nogil=True)
def _knn_cube_brute(keys, popc, k, p, out):
    """The same draws as `_knn_cube`, by brute force: Hamming distance popcount(x XOR a) for every anchor."""
    count, npts = out.shape
    perm = np.arange(npts)
    label = np.empty(k, np.float32)
    s = np.empty(2, np.uint64)
    for i in range(count):
        seed(s, keys[i, 0], keys[i, 1])
        for x in range(npts):
            perm[x] = x
        _anchors(s, perm, k, label, p)
        for x in range(npts):
            best = 1 << 30
            who = 0
            for j in range(k):
                d = np.int64(popc[x ^ perm[j]])
                if d < best:  # strictly smaller: ties stay with the anchor drawn first
                    best = d
                    who = j
            out[i, x] = label[who]


@nb.njit(cache=True, nogil=True)
def _knn_points(keys, coords, k, p, out):
    """Brute force over the anchors in draw order; a strictly smaller distance is needed to displace one."""
    count, npts = out.shape
    dim = coords.shape[1]
    perm = np.arange(npts)
    label = np.empty(k, np.float32)
    s = np.empty(2, np.uint64)
    for i in range(count):
        seed(s, keys[i, 0], keys[i, 1])
        for x in range(npts):
            perm[x] = x
        _anchors(s, perm, k, label, p)
        for x in range(npts):
            best = np.inf
            who = 0
            for j in range(k):
                a = perm[j]
                d2 = 0.0
                for c in range(dim):
                    t = coords[x, c] - coords[a, c]
                    d2 += t * t
                if d2 < best:
                    best = d2
                    who = j
            out[i, x] = label[who]
