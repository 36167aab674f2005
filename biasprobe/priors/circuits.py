"""Random layered circuits of fan-in-2 gates on Boolean cubes (Fink 2026; docs/definitions.md §8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numba as nb
import numpy as np

from biasprobe.errors import UserError, unknown_name
from biasprobe.priors._stream import bounded, draw_keys, seed
from biasprobe.priors.base import Prior
from biasprobe.priors.packed import unpack_row, variable_masks

GATES = {"and": 0, "or": 1, "nand": 2, "nor": 3, "xor": 4, "xnor": 5}
MAX_WIDTH = 4096
MAX_DEPTH = 1024


def parse_gates(prior: str, text: str) -> tuple[int, ...]:
    """'and,or,xor' -> gate codes; duplicates are kept (they weight the draw), unknown names are a UserError."""
    names = [g.strip().lower() for g in str(text).replace(" ", ",").split(",") if g.strip()]
    if not names:
        raise UserError(f"prior {prior}: gates={text!r} names no gate; valid: {', '.join(GATES)}")
    for g in names:
        if g not in GATES:
            raise unknown_name(f"gate in prior {prior}", g, GATES)
    return tuple(GATES[g] for g in names)


@dataclass(frozen=True)
class Circuit(Prior):
    """A random layered circuit of fan-in-2 gates.

    Layer 0 is the n input variables; layers 1 .. depth-1 hold `width` gates each and
    layer `depth` is the single output gate. Every gate reads two *distinct* wires
    drawn uniformly from the layer below and computes a gate drawn uniformly from
    `gates` (a name listed twice is drawn twice as often). This is the model of
    random deep-layered Boolean machines (Fink 2026, "Deep-layered machines have a
    built-in Occam's razor"), whose bias towards simple functions grows with depth;
    that paper's exact wiring and gate law may differ, so name this one when citing.
    Draw order per gate: first wire, second wire, gate.
    """

    depth: int = 4
    width: int = 16
    gates: str = "and,or,nand,nor,xor"

    name: ClassVar[str] = "circuit"
    summary: ClassVar[str] = "random layered circuit of fan-in-2 gates on distinct wires of the layer below"
    field_help: ClassVar[dict[str, str]] = {
        "depth": f"gate layers including the output gate, 1..{MAX_DEPTH}",
        "width": f"gates per hidden layer, 2..{MAX_WIDTH} (unused when depth = 1)",
        "gates": f"comma-separated gate set drawn uniformly: {', '.join(GATES)}",
    }
    domains: ClassVar[tuple[str, ...]] = ("boolean",)

    def __post_init__(self):
        if not 1 <= self.depth <= MAX_DEPTH:
            raise UserError(f"prior circuit: depth={self.depth} must be 1..{MAX_DEPTH}")
        if not 2 <= self.width <= MAX_WIDTH:
            raise UserError(f"prior circuit: width={self.width} must be 2..{MAX_WIDTH} (a gate reads two distinct wires)")
        parse_gates(self.name, self.gates)

    def check_domain(self, domain) -> None:
        super().check_domain(domain)
        if domain.dim < 2:
            raise UserError(f"prior circuit: {domain} has one variable; a gate reads two distinct wires, so n >= 2")

    def draw_outputs(self, rng: np.random.Generator, count: int, domain) -> np.ndarray:
        keys = draw_keys(rng, count)
        out = np.empty((count, domain.n_points), np.float32)
        codes = np.asarray(parse_gates(self.name, self.gates), np.int64)
        _circuit(keys, variable_masks(domain.dim), self.depth, self.width, codes, out)
        return out


@nb.njit(cache=True, nogil=True, inline="always")
def _gate(code, a, b):
    if code == 0:
        return a & b
    if code == 1:
        return a | b
    if code == 2:
        return ~(a & b)
    if code == 3:
        return ~(a | b)
    if code == 4:
        return a ^ b
    return ~(a ^ b)


@nb.njit(cache=True, nogil=True)
def _circuit(keys, masks, depth, width, codes, out):
    n, nw = masks.shape
    big = max(n, width)
    prev = np.empty((big, nw), np.uint64)
    cur = np.empty((big, nw), np.uint64)
    s = np.empty(2, np.uint64)
    for i in range(keys.shape[0]):
        seed(s, keys[i, 0], keys[i, 1])
        prev[:n, :] = masks
        below = n
        for layer in range(depth):
            gates_here = 1 if layer == depth - 1 else width
            for g in range(gates_here):
                a = bounded(s, below)
                b = bounded(s, below - 1)
                if b >= a:  # an exactly uniform ordered pair of distinct wires
                    b += 1
                code = codes[bounded(s, codes.shape[0])]
                for w in range(nw):
                    cur[g, w] = _gate(code, prev[a, w], prev[b, w])
            prev, cur = cur, prev
            below = gates_here
        unpack_row(prev[0], out, i)
