"""Measures of Boolean functions from their truth tables: K_LZ, counts, entropy, sensitivity-type and Fourier measures.

Definitions: docs/definitions.md §2. Sequence measures (lz, lz_phrases) read the table
in the domain's enumeration order; structure measures (gc, csr, sensitivity, Fourier)
declare reads="structure" and receive canonical order, so they do not depend on the enumeration.
"""

from __future__ import annotations

import numpy as np

from biasprobe.measures._common import bits_of, masked, row_sums
from biasprobe.measures.registry import register_measure

ORDER_FREE = ("complement", "reverse", "permute_inputs", "flip_inputs", "enumeration")
STRUCTURE = dict(domains=("boolean",), invariant_under=ORDER_FREE, reads="structure", threads=True)


def n_points(domain) -> float:
    """N"""
    return float(domain.n_points)


def n_inputs(domain) -> float:
    """n"""
    return float(domain.dim)


def sqrt_n_points(domain) -> float:
    """sqrt N"""
    return float(np.sqrt(domain.n_points))


def log2_n_plus_1(domain) -> float:
    """log2(n+1)"""
    return float(np.log2(domain.dim + 1))


def n_log2_n(domain) -> float:
    """N log2 N"""  # N_w <= N in each direction: every phrase holds at least one symbol
    return float(domain.n_points * np.log2(domain.n_points))


@register_measure("lz", domains=("boolean", "grid"), bounds=(0, n_log2_n),
                  invariant_under=("complement", "reverse"))
def lz(tables, domain):
    """K_LZ: log2 N x mean Kaspar-Schuster phrase count of the forward and reversed string; log2 N for constants.

    Dingle, Camargo & Louis (2018), Nat. Commun. 9, 761; Valle-Perez, Camargo & Louis (ICLR 2019).
    On grid domains: the raster scan (enumeration order) of the outputs thresholded at y > 0.
    """
    from biasprobe.measures._lz import phrase_counts

    bits, valid = bits_of(tables, domain)
    counts = phrase_counts(bits, both=True)
    n = bits.shape[1]
    scale = np.log2(n)
    constant = (counts[:, 0] == 0) | (counts[:, 0] == n)
    values = np.where(constant, scale, scale * (counts[:, 1] + counts[:, 2]) / 2.0)
    return masked(values, valid)


@register_measure("lz_phrases", domains=("boolean", "grid"), bounds=(1, n_points),
                  invariant_under=("complement",))
def lz_phrases(tables, domain):
    """N_w: the Lempel-Ziv (1976) phrase count of one forward parse (Kaspar & Schuster 1987), no special cases."""
    from biasprobe.measures._lz import phrase_counts

    bits, valid = bits_of(tables, domain)
    return masked(phrase_counts(bits, both=False)[:, 1], valid)


@register_measure("ones", domains=("boolean", "grid", "cloud"), bounds=(0, n_points),
                  invariant_under=("reverse", "permute_inputs", "flip_inputs", "enumeration", "shuffle"),
                  reads="structure", threads=True)
def ones(tables, domain):
    """T: the number of inputs mapped to 1 (real outputs: y > 0)."""
    bits, valid = bits_of(tables, domain)
    return masked(bits.sum(axis=1, dtype=np.int64), valid)


@register_measure("entropy", domains=("boolean", "grid", "cloud"), bounds=(0, 1),
                  invariant_under=(*ORDER_FREE, "shuffle"), reads="structure", threads=True)
def entropy(tables, domain):
    """Binary entropy, in bits, of the fraction T/N of inputs mapped to 1."""
    bits, valid = bits_of(tables, domain)
    p = bits.sum(axis=1, dtype=np.int64) / bits.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0))
    return masked(h + 0.0, valid)  # + 0.0 turns -0.0 into 0.0


def _pairs(v: np.ndarray, n: int, j: int) -> np.ndarray:
    """(B, 2^j, 2, 2^(n-1-j)) view: axis 2 is coordinate x_(j+1) (j = 0 is the most significant)."""
    return v.reshape(v.shape[0], 1 << j, 2, 1 << (n - 1 - j))


def _sensitive_pairs(v: np.ndarray, n: int) -> np.ndarray:
    """Per row: number of unordered Hamming-1 pairs {x, x + e_i} with different outputs."""
    total = np.zeros(v.shape[0], dtype=np.int64)
    for j in range(n):
        p = _pairs(v, n, j)
        total += (p[:, :, 0, :] != p[:, :, 1, :]).sum(axis=(1, 2), dtype=np.int64)
    return total


@register_measure("sensitivity", bounds=(0, 1), **STRUCTURE)
def sensitivity(tables, domain):
    """Average sensitivity / n: mean over x and i of 1[f(x) != f(x + e_i)] (Bhattamishra et al. 2023)."""
    n = domain.dim
    return 2.0 * _sensitive_pairs(tables, n) / (n * tables.shape[1])


@register_measure("csr", bounds=(0, 1), **STRUCTURE)
def csr(tables, domain):
    """Critical sample ratio: fraction of inputs with a Hamming-1 neighbour of different output.

    Boolean form of Krueger et al. (2017), as in docs/definitions.md §2.
    """
    v, n = tables, domain.dim
    critical = np.zeros(v.shape, dtype=bool)
    for j in range(n):
        p = _pairs(v, n, j)
        d = p[:, :, 0, :] != p[:, :, 1, :]
        c = _pairs(critical, n, j)
        c[:, :, 0, :] |= d
        c[:, :, 1, :] |= d
    return critical.mean(axis=1)


@register_measure("gc", bounds=(0, 2), **STRUCTURE)
def gc(tables, domain):
    """Generalization complexity C_1 + C_2 (Franco & Anthony 2004; Franco 2006).

    C_h is the fraction of ordered input pairs at Hamming distance h with different
    outputs; C_2 is 0 when n = 1 (no such pairs).
    """
    v, n = tables, domain.dim
    b, size = v.shape
    c1 = 2.0 * _sensitive_pairs(v, n) / (n * size)
    if n < 2:
        return c1
    diff2 = np.zeros(b, dtype=np.int64)
    for j in range(n):
        for k in range(j + 1, n):
            q = v.reshape(b, 1 << j, 2, 1 << (k - j - 1), 2, 1 << (n - 1 - k))
            diff2 += (q[:, :, 0, :, 0, :] != q[:, :, 1, :, 1, :]).sum(axis=(1, 2, 3), dtype=np.int64)
            diff2 += (q[:, :, 0, :, 1, :] != q[:, :, 1, :, 0, :]).sum(axis=(1, 2, 3), dtype=np.int64)
    unordered = size * n * (n - 1) / 4  # N * C(n, 2) ordered pairs, each unordered pair twice
    return c1 + diff2 / unordered


def walsh(tables: np.ndarray, domain) -> np.ndarray:
    """(B, N) int Walsh-Hadamard coefficients N * f_hat(S) of the +-1 form of canonical-order bits `tables`.

    Index s holds S = the coordinates whose bits are set in s (bit n-1-j <-> x_(j+1)), so |S| = popcount(s).
    """
    b, size = tables.shape
    x = 1 - 2 * tables.astype(np.int32)  # bit 0 -> +1, bit 1 -> -1; the sign convention changes no magnitude
    h = 1
    while h < size:
        y = x.reshape(b, size // (2 * h), 2, h)
        x = np.concatenate([y[:, :, 0, :] + y[:, :, 1, :], y[:, :, 0, :] - y[:, :, 1, :]], axis=2)
        x = x.reshape(b, size)
        h *= 2
    return x


def degrees(n: int) -> np.ndarray:
    """|S| = popcount(s) of each Walsh index s for n inputs."""
    s = np.arange(1 << n)
    return sum((s >> k) & 1 for k in range(n)) if n else np.zeros(1, dtype=np.int64)


@register_measure("fourier_l1", bounds=(1, sqrt_n_points), **STRUCTURE)
def fourier_l1(tables, domain):
    """Spectral L1 norm sum_S |f_hat(S)| of the +-1 function (1 for constants, dictators and parities)."""
    coeffs = walsh(tables, domain)
    return np.abs(coeffs).sum(axis=1, dtype=np.int64) / coeffs.shape[1]


@register_measure("fourier_degree", bounds=(0, n_inputs), **STRUCTURE)
def fourier_degree(tables, domain):
    """Fourier degree: the largest |S| with f_hat(S) != 0 (exact integer arithmetic)."""
    coeffs = walsh(tables, domain)
    deg = degrees(domain.dim)
    return np.where(coeffs != 0, deg[None, :], 0).max(axis=1)


@register_measure("spectral_entropy", bounds=(0, log2_n_plus_1), **STRUCTURE)
def spectral_entropy(tables, domain):
    """Entropy in bits of the Walsh spectral weight by degree, W_k = sum_{|S|=k} f_hat(S)^2 (sums to 1)."""
    coeffs = walsh(tables, domain).astype(np.float64)
    size = coeffs.shape[1]
    deg = degrees(domain.dim)
    weight = np.zeros((coeffs.shape[0], domain.dim + 1))
    for k in range(domain.dim + 1):
        weight[:, k] = row_sums(coeffs[:, deg == k] ** 2)  # integers below 2^53: exact
    weight /= float(size) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(weight > 0, -weight * np.log2(weight), 0.0)
    return np.maximum(row_sums(terms), 0.0)
