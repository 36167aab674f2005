"""Input domains (Boolean cubes, grids, point clouds), their canonical points and enumeration orders.

A domain has *canonical* points, in the lexicographic order of docs/definitions.md §1
(x_1 is the most significant bit or digit), and an *enumeration order*: the
sequence in which sequence-sensitive measures (LZ, compression) read a truth
table. Counts and hex truth tables always use the canonical order, so the same
function has the same name whatever the enumeration; measures receive tables
already permuted into the enumeration order (`Domain.order_index`).

Spec strings: ``bool:7``, ``pm1:7``, ``grid:2:64`` (64 points per axis on
[-1, 1]^2), ``gauss:2:500`` or ``gauss:2:500:SEED`` (500 standard-normal
points), each optionally followed by ``@lex``, ``@gray`` or ``@perm[:SEED]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from biasprobe.errors import UserError

KINDS = {
    "bool": "Boolean cube {0,1}^n: bool:N",
    "pm1": "Boolean cube {-1,+1}^n: pm1:N",
    "grid": "m points per axis on [-1,1]^d: grid:D:M",
    "gauss": "M seeded standard-normal points in R^d: gauss:D:M[:SEED]",
}
ORDERS = ("lex", "gray", "perm")
MAX_BOOLEAN_N = 24  # 2^24 points; the sampler checks memory separately
MAX_POINTS = 1 << 24
MAX_COORDINATES = 1 << 26  # points x dimensions of a cloud or grid held as float64 (512 MiB)
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Domain:
    kind: str
    dim: int
    size: int = 2  # points per axis (grid) or number of points (gauss); 2 for Boolean cubes
    seed: int = 0  # seed of the gauss points
    order: str = "lex"
    order_seed: int = 0  # seed of the perm order

    def __post_init__(self):
        if self.kind not in KINDS:
            raise UserError(f"unknown domain kind {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.order not in ORDERS:
            raise UserError(f"unknown enumeration order {self.order!r}; valid: {', '.join(ORDERS)}")
        if self.is_boolean and not 1 <= self.dim <= MAX_BOOLEAN_N:
            raise UserError(f"Boolean dimension must be 1..{MAX_BOOLEAN_N}, got {self.dim}")
        if not self.is_boolean:
            if self.dim < 1 or self.size < 1:
                raise UserError(f"domain {self} needs a positive dimension and size")
            if self.dim > 64 and self.kind == "grid" or self.n_points > MAX_POINTS:
                raise UserError(f"domain {self} has more than {MAX_POINTS} points")
            if self.n_points * self.dim > MAX_COORDINATES:
                raise UserError(f"domain {self}: {self.n_points} points x {self.dim} dimensions is more than "
                                f"{MAX_COORDINATES} coordinates")
        for what, value in (("seed", self.seed), ("order seed", self.order_seed)):
            if not 0 <= value <= MAX_SEED:
                raise UserError(f"domain {self.kind}: {what} {value} must be in 0..2^63-1")
        if self.kind == "gauss" and self.order == "gray":
            raise UserError("gray order needs a lattice (bool, pm1, grid); use lex or perm for gauss")

    # ---- identity -------------------------------------------------------------------------
    @property
    def is_boolean(self) -> bool:
        return self.kind in ("bool", "pm1")

    @property
    def family(self) -> str:
        """What measures declare they apply to: 'boolean', 'grid' or 'cloud'."""
        return {"bool": "boolean", "pm1": "boolean", "grid": "grid", "gauss": "cloud"}[self.kind]

    @property
    def n_points(self) -> int:
        if self.is_boolean:
            return 1 << self.dim
        if self.kind == "grid":
            return self.size ** min(self.dim, 64) if self.size > 1 else 1
        return self.size

    @property
    def shape(self) -> tuple[int, ...]:
        """Lattice shape of the canonical points (a grid:2:m table reshapes to an m x m image)."""
        if self.kind == "gauss":
            return (self.size,)
        return (self.size,) * self.dim

    def __str__(self) -> str:
        if self.is_boolean:
            base = f"{self.kind}:{self.dim}"
        elif self.kind == "grid":
            base = f"grid:{self.dim}:{self.size}"
        else:
            base = f"gauss:{self.dim}:{self.size}" + (f":{self.seed}" if self.seed else "")
        if self.order == "lex":
            return base
        if self.order == "perm":
            return f"{base}@perm:{self.order_seed}"
        return f"{base}@{self.order}"

    def with_order(self, order: str, order_seed: int = 0) -> "Domain":
        return dataclasses.replace(self, order=order, order_seed=order_seed)

    # ---- points ---------------------------------------------------------------------------
    @cached_property
    def digits(self) -> np.ndarray:
        """(N, dim) int64 lattice coordinates of the canonical points, first axis most significant."""
        if self.kind == "gauss":
            raise UserError("a gauss point cloud has no lattice digits")
        return _digits(np.arange(self.n_points), self.size, self.dim)

    @cached_property
    def points(self) -> np.ndarray:
        """(N, dim) float64 canonical points, read-only."""
        if self.kind == "bool":
            pts = self.digits.astype(np.float64)
        elif self.kind == "pm1":
            pts = 2.0 * self.digits - 1.0
        elif self.kind == "grid":
            pts = np.linspace(-1.0, 1.0, self.size)[self.digits]
        else:
            pts = np.random.default_rng(self.seed).standard_normal((self.size, self.dim))
        pts.setflags(write=False)
        return pts

    @cached_property
    def order_index(self) -> np.ndarray:
        """Enumeration position k reads canonical point order_index[k]."""
        n = self.n_points
        if self.order == "lex":
            idx = np.arange(n)
        elif self.order == "perm":
            idx = np.random.default_rng(self.order_seed).permutation(n)
        else:
            idx = _reflected_gray(n, self.size, self.dim)
        idx.setflags(write=False)
        return idx

    def enumerate(self, tables: np.ndarray) -> np.ndarray:
        """Canonical-order tables (..., N) -> enumeration-order tables."""
        return tables if self.order == "lex" else tables[..., self.order_index]

    @cached_property
    def neighbours(self) -> np.ndarray:
        """(N, dim) canonical index of the Hamming-1 neighbour across coordinate j (Boolean only)."""
        if not self.is_boolean:
            raise UserError(f"Hamming neighbours need a Boolean domain, not {self}")
        i = np.arange(self.n_points)[:, None]
        flip = 1 << (self.dim - 1 - np.arange(self.dim))[None, :]
        return i ^ flip


def _digits(index: np.ndarray, base: int, ndigits: int) -> np.ndarray:
    powers = base ** np.arange(ndigits - 1, -1, -1, dtype=np.int64)
    return (index[:, None] // powers[None, :]) % base


def _reflected_gray(n: int, base: int, ndigits: int) -> np.ndarray:
    """Canonical indices in reflected base-`base` Gray order: neighbours differ by one step on one axis.

    Digit j is reflected when the number formed by the digits above it is odd, which
    for base 2 is the familiar k ^ (k >> 1).
    """
    k = np.arange(n, dtype=np.int64)
    digits = _digits(k, base, ndigits)
    out = np.zeros(n, dtype=np.int64)
    for j in range(ndigits):
        prefix = k // base ** (ndigits - j)
        d = np.where(prefix % 2 == 1, base - 1 - digits[:, j], digits[:, j])
        out = out * base + d
    return out


def parse_domain(spec: str) -> Domain:
    """Parse 'bool:7', 'grid:2:64@gray', 'gauss:2:500:3@perm:1' into a Domain (UserError if bad)."""
    text = spec.strip()
    order, order_seed = "lex", 0
    if "@" in text:
        text, _, order_part = text.partition("@")
        order, _, seed_part = order_part.partition(":")
        if seed_part:
            order_seed = _int(seed_part, spec, "order seed")
    parts = text.split(":")
    kind = parts[0]
    if kind not in KINDS:
        raise UserError(f"bad domain {spec!r}: unknown kind {kind!r}; valid: " + "; ".join(KINDS.values()))
    want = {"bool": (2,), "pm1": (2,), "grid": (3,), "gauss": (3, 4)}[kind]
    if len(parts) not in want:
        raise UserError(f"bad domain {spec!r}; expected {KINDS[kind].split(': ')[1]}")
    nums = [_int(p, spec, "field") for p in parts[1:]]
    if kind in ("bool", "pm1"):
        return Domain(kind, nums[0], order=order, order_seed=order_seed)
    seed = nums[2] if len(nums) == 3 else 0
    return Domain(kind, nums[0], nums[1], seed=seed, order=order, order_seed=order_seed)


def _int(text: str, spec: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UserError(f"bad domain {spec!r}: {what} {text!r} is not an integer") from None


def describe_domains() -> str:
    lines = [f"  {kind:6s} {text}" for kind, text in KINDS.items()]
    lines.append("  orders: append @lex (default), @gray or @perm[:SEED], e.g. bool:7@gray")
    return "\n".join(lines)
