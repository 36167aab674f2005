"""Random formulas on Boolean cubes: DNF (OR of ANDs) and CNF (AND of ORs) of random literals (docs/definitions.md §8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numba as nb
import numpy as np

from biasprobe.errors import UserError
from biasprobe.priors._stream import bernoulli, bounded, draw_keys, seed
from biasprobe.priors.base import Prior
from biasprobe.priors.packed import ALL as _ALL
from biasprobe.priors.packed import unpack_row, variable_masks
from biasprobe.priors.trees import check_probability


@dataclass(frozen=True)
class _Formula(Prior):
    """Shared fields of `dnf` and `cnf`: `terms` terms (clauses) of `literals` distinct variables each."""

    terms: int = 3
    literals: int = 3
    p_positive: float = 0.5

    domains: ClassVar[tuple[str, ...]] = ("boolean",)
    _cnf: ClassVar[bool] = False

    def __post_init__(self):
        if self.terms < 1:
            raise UserError(f"prior {self.name}: terms={self.terms} must be >= 1")
        if self.literals < 1:
            raise UserError(f"prior {self.name}: literals={self.literals} must be >= 1")
        check_probability(self.name, "p_positive", self.p_positive)

    def check_domain(self, domain) -> None:
        super().check_domain(domain)
        if self.literals > domain.dim:
            raise UserError(f"prior {self.name}: literals={self.literals} exceeds the {domain.dim} variables of "
                            f"{domain}; a term uses distinct variables, so literals must be 1..{domain.dim}")

    def draw_outputs(self, rng: np.random.Generator, count: int, domain) -> np.ndarray:
        keys = draw_keys(rng, count)
        out = np.empty((count, domain.n_points), np.float32)
        _formula(keys, variable_masks(domain.dim), self.terms, self.literals, float(self.p_positive), self._cnf, out)
        return out


_HELP = {
    "literals": "distinct variables per term, 1..n",
    "p_positive": "probability that a literal is x_j rather than its negation",
}


@dataclass(frozen=True)
class DNF(_Formula):
    """OR of `terms` ANDs, each of `literals` distinct variables drawn uniformly, each literal x_j with
    probability `p_positive`, else its negation. One term of width w has exactly 2^(n-w) ones."""

    name: ClassVar[str] = "dnf"
    summary: ClassVar[str] = "random DNF: OR of `terms` ANDs of `literals` random literals"
    field_help: ClassVar[dict[str, str]] = {"terms": "number of terms (ANDs)", **_HELP}


@dataclass(frozen=True)
class CNF(_Formula):
    """AND of `terms` ORs (clauses), each of `literals` distinct variables drawn uniformly, each literal x_j
    with probability `p_positive`, else its negation. One clause of width w has exactly 2^n - 2^(n-w) ones."""

    name: ClassVar[str] = "cnf"
    summary: ClassVar[str] = "random CNF: AND of `terms` clauses (ORs) of `literals` random literals"
    field_help: ClassVar[dict[str, str]] = {"terms": "number of clauses (ORs)", **_HELP}
    _cnf: ClassVar[bool] = True


@nb.njit(cache=True, nogil=True)
def _formula(keys, masks, terms, literals, p, cnf, out):
    n, nw = masks.shape
    acc = np.empty(nw, np.uint64)
    term = np.empty(nw, np.uint64)
    perm = np.empty(n, np.int64)
    s = np.empty(2, np.uint64)
    for i in range(keys.shape[0]):
        seed(s, keys[i, 0], keys[i, 1])
        acc[:] = _ALL if cnf else np.uint64(0)
        for _ in range(terms):
            term[:] = np.uint64(0) if cnf else _ALL
            for j in range(n):
                perm[j] = j
            for j in range(literals):  # partial Fisher-Yates: an exactly uniform ordered choice of distinct variables
                r = j + bounded(s, n - j)
                v = perm[r]
                perm[r] = perm[j]
                perm[j] = v
                positive = bernoulli(s, p)
                for w in range(nw):
                    lit = masks[v, w] if positive else ~masks[v, w]
                    term[w] = (term[w] | lit) if cnf else (term[w] & lit)
            for w in range(nw):
                acc[w] = (acc[w] & term[w]) if cnf else (acc[w] | term[w])
        unpack_row(acc, out, i)
