"""Polynomial priors: networks with activation x^k, and polynomial threshold functions of degree <= d."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from biasprobe.errors import UserError
from biasprobe import activations
from biasprobe.priors.base import Network, Prior, cube_code, input_features
from biasprobe.priors.networks import BIAS_SCALINGS, check_hidden, check_sigma, check_weights, dense_network

FAMILIES = ("network", "ptf")


@dataclass(frozen=True)
class Polynomial(Prior):
    """Two families of polynomial random functions.

    ``family=network``: an MLP (same conventions as ``mlp``) whose activation is
    x^degree; outputs overflow easily, and such draws are reported as non-finite.
    ``family=ptf``: a polynomial threshold function, 1 iff sum_S c_S x^S > 0 over
    every monomial of total degree <= degree (constant included) with i.i.d.
    c_S ~ N(0, 1). On Boolean domains the monomials are multilinear (x_j^2 = x_j on
    {0,1}, = 1 on {-1,+1}), so bool:n uses ANDs of <= d coordinates and pm1:n
    uses parities; sigma_w, sigma_b, hidden and weights do not apply.
    """

    family: str = "network"
    degree: int = 2
    hidden: tuple[int, ...] = (40,)
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    weights: str = "gaussian"
    bias_scaling: str = "fixed"

    name: ClassVar[str] = "polynomial"
    summary: ClassVar[str] = "network with activation x^degree, or polynomial threshold function (family=ptf)"
    field_help: ClassVar[dict[str, str]] = {
        "family": "network (activation x^degree) | ptf (sign of random polynomial of degree <= degree)",
        "hidden": "hidden widths (family=network)",
        "weights": "gaussian | uniform",
        "bias_scaling": "fixed | fan_in | sigma_w_fan_out (as for mlp)",
    }

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise UserError(f"prior polynomial: family={self.family!r}; valid: {', '.join(FAMILIES)}")
        if not 1 <= self.degree <= 64:
            raise UserError(f"prior polynomial: degree={self.degree} must be 1..64")
        check_hidden(self.name, self.hidden)
        check_sigma(self.name, sigma_w=self.sigma_w, sigma_b=self.sigma_b)
        check_weights(self.name, self.weights)
        if self.bias_scaling not in BIAS_SCALINGS:
            raise UserError(f"prior polynomial: bias_scaling={self.bias_scaling!r}; valid: {', '.join(BIAS_SCALINGS)}")

    def network(self, domain) -> Network:
        if self.family == "network":
            return dense_network(input_features(domain), self.hidden, activations.power(self.degree),
                                 self.sigma_w, self.sigma_b, self.bias_scaling, self.weights, cube_code(domain))
        feats = monomial_features(domain, self.degree)
        return Network(features=feats, widths=(feats.shape[0], 1), activations=(0,),
                       weight_scale=(1.0,), bias_scale=(0.0,), distribution="gaussian")


def monomial_exponents(dim: int, degree: int, multilinear: bool) -> list[tuple[int, ...]]:
    """Exponent vectors of total degree <= degree, by degree then lexicographically (constant first)."""
    out = []
    for d in range(min(degree, dim) + 1 if multilinear else degree + 1):
        if multilinear:
            for subset in itertools.combinations(range(dim), d):
                out.append(tuple(1 if j in subset else 0 for j in range(dim)))
        else:
            for combo in itertools.combinations_with_replacement(range(dim), d):
                out.append(tuple(combo.count(j) for j in range(dim)))
    return out


MAX_MONOMIALS = 100_000
MAX_FEATURE_VALUES = 1 << 26  # monomials x points held as float32 (256 MiB)


def monomial_count(dim: int, degree: int, multilinear: bool) -> int:
    """How many exponent vectors `monomial_exponents` would list, counted without listing them."""
    if multilinear:
        return sum(math.comb(dim, d) for d in range(min(degree, dim) + 1))
    return math.comb(dim + degree, degree)


def monomial_features(domain, degree: int) -> np.ndarray:
    """(K, N) float32: every monomial of total degree <= degree evaluated at the canonical points."""
    count = monomial_count(domain.dim, degree, domain.is_boolean)  # checked before anything is allocated
    if count > MAX_MONOMIALS:
        raise UserError(f"prior polynomial: {count} monomials of degree <= {degree} in {domain.dim} variables; "
                        f"at most {MAX_MONOMIALS} (lower the degree)")
    if count * domain.n_points > MAX_FEATURE_VALUES:
        raise UserError(f"prior polynomial: {count} monomials on {domain.n_points} points need "
                        f"{count * domain.n_points * 4 / 2**30:.1f} GiB; at most {MAX_FEATURE_VALUES} values "
                        "(lower the degree or use a smaller domain)")
    exps = np.array(monomial_exponents(domain.dim, degree, domain.is_boolean), dtype=np.int64)
    pts = domain.points  # (N, dim) float64
    feats = np.prod(pts[None, :, :] ** exps[:, None, :], axis=2)
    return np.ascontiguousarray(feats, dtype=np.float32)
