"""Measures of real-valued functions on grid domains: mean frequency, sign changes and total variation.

Tables hold the real outputs at the grid points; canonical order reshapes to the
domain's lattice (`domain.shape`, first axis most significant). A row with a NaN or
infinite output gets NaN (docs/definitions.md §1: non-finite outputs are never thresholded).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from biasprobe.measures._common import masked, row_sums
from biasprobe.measures.registry import register_measure

LATTICE = ("complement", "reverse", "permute_inputs", "flip_inputs", "enumeration")
GRID = dict(domains=("grid",), invariant_under=LATTICE, reads="structure", threads=True)


def _images(tables, domain):
    """Canonical (B, m, ..., m) images with non-finite rows zeroed, and the (B,) mask of finite rows."""
    v = tables
    valid = np.isfinite(v).all(axis=1)
    if not valid.all():
        v = np.where(valid[:, None], v, 0.0)
    return v.reshape(v.shape[0], *domain.shape), valid


@lru_cache(maxsize=16)
def _radial_bins(shape: tuple[int, ...]):
    """Integer radius (in cycles per grid) of every FFT bin, the sort order by radius and the bin starts."""
    k = np.meshgrid(*[np.fft.fftfreq(m) * m for m in shape], indexing="ij")
    radius = np.rint(np.sqrt(sum(ki**2 for ki in k))).astype(np.int64).ravel()
    order = np.argsort(radius, kind="stable")
    values, starts = np.unique(radius[order], return_index=True)
    return order, values, starts


@register_measure("mean_frequency", bounds=(0, 1), **GRID)
def mean_frequency(tables, domain):
    """Mean frequency of Teney et al., "Neural Redshift" (CVPR 2024), in [0, 1].

    |FFT| of the real output over the grid, the zero frequency removed, magnitudes summed
    in radial bins of integer radius r = round(|k|) (k in cycles per grid, the
    convention of their code), normalised to a distribution p_r, then sum_r r p_r / r_max.
    A constant output has no non-zero frequency: 0.
    """
    images, valid = _images(tables, domain)
    b = images.shape[0]
    mag = np.abs(np.fft.fftn(images, axes=tuple(range(1, images.ndim)))).reshape(b, -1)
    order, radii, starts = _radial_bins(tuple(domain.shape))
    per_bin = np.add.reduceat(mag[:, order], starts, axis=1)
    keep = radii > 0
    per_bin, radii = per_bin[:, keep], radii[keep]
    if radii.size == 0:
        return masked(np.zeros(b), valid)
    total = row_sums(per_bin)
    # Relative threshold: rounding leaves ~1e-16 of "signal" in the FFT of a constant image.
    scale = row_sums(np.abs(images))
    flat = total <= 1e-12 * np.maximum(scale, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = row_sums(per_bin * radii[None, :]) / total / radii.max()
    return masked(np.where(flat, 0.0, mean), valid)


def max_sign_changes(domain) -> float:
    """d m^(d-1) (m-1)"""
    m, d = domain.size, domain.dim
    return float(d * m ** (d - 1) * (m - 1))


@register_measure("sign_changes", bounds=(0, max_sign_changes), **GRID)
def sign_changes(tables, domain):
    """Number of adjacent grid-point pairs, along every grid line, whose outputs fall on different sides of 0.

    Sides as in the threshold of docs/definitions.md §1: y > 0 versus y <= 0.
    """
    images, valid = _images(tables, domain)
    bits = images > 0
    total = np.zeros(len(bits), dtype=np.int64)
    for axis in range(1, bits.ndim):
        d = np.diff(bits, axis=axis)
        total += d.reshape(len(bits), -1).sum(axis=1, dtype=np.int64)
    return masked(total, valid)


@register_measure("total_variation", bounds=(0, None), **GRID)
def total_variation(tables, domain):
    """Anisotropic total variation sum_i integral |df/dx_i| over [-1, 1]^d, by finite differences.

    Along each grid line the differences |y_a - y_b| are summed; the lines are weighted
    by the trapezoid rule over the other coordinates (spacing h = 2/(m-1), half weight
    on the border lines), so f = x_1 on [-1, 1]^2 gives exactly 4 at any resolution.
    """
    images, valid = _images(tables, domain)
    m, d = domain.size, domain.dim
    if m < 2:
        return masked(np.zeros(len(images)), valid)
    h = 2.0 / (m - 1)
    line = np.full(m, h)
    line[[0, -1]] = h / 2
    total = np.zeros(len(images))
    for axis in range(1, images.ndim):
        weight = np.ones((1,) * images.ndim)
        for other in range(1, images.ndim):
            if other != axis:
                shape = [1] * images.ndim
                shape[other] = m
                weight = weight * line.reshape(shape)
        total += row_sums(np.abs(np.diff(images, axis=axis)) * weight)
    return masked(total, valid)
