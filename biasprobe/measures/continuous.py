"""Measures of real-valued functions on grid domains: mean frequency (cosine series and Teney et al.'s FFT), sign changes, total variation.

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
def _radial_bins(shape: tuple[int, ...], kind: str = "fft"):
    """Integer radius of every spectral bin, the sort order by radius and the bin starts.

    ``fft``: k in cycles per grid (numpy's fftfreq times m, negative frequencies included);
    ``cosine``: k_i = 0..m-1 half-cycles across [-1, 1] along axis i (the cosine-series index).
    """
    if kind == "fft":
        axes = [np.fft.fftfreq(m) * m for m in shape]
    else:
        axes = [np.arange(m, dtype=float) for m in shape]
    k = np.meshgrid(*axes, indexing="ij")
    radius = np.rint(np.sqrt(sum(ki**2 for ki in k))).astype(np.int64).ravel()
    order = np.argsort(radius, kind="stable")
    values, starts = np.unique(radius[order], return_index=True)
    return order, values, starts


def _radial_mean(weights: np.ndarray, valid: np.ndarray, shape, kind: str, scale: np.ndarray,
                 floor: float) -> np.ndarray:
    """sum_r r p_r / r_max from (B, N) spectral weights: radial bins of integer radius, zero frequency dropped.

    A row whose non-zero-frequency weight is at most ``floor * scale`` is constant up to rounding: 0.
    """
    b = weights.shape[0]
    order, radii, starts = _radial_bins(tuple(shape), kind)
    per_bin = np.add.reduceat(weights[:, order], starts, axis=1)
    keep = radii > 0
    per_bin, radii = per_bin[:, keep], radii[keep]
    if radii.size == 0:
        return masked(np.zeros(b), valid)
    total = row_sums(per_bin)
    flat = total <= floor * np.maximum(scale, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = row_sums(per_bin * radii[None, :]) / total / radii.max()
    return masked(np.where(flat, 0.0, mean), valid)


def cosine_amplitudes(images: np.ndarray) -> np.ndarray:
    """Amplitudes a_k of the cosine series f(x) = sum_k a_k prod_i cos(pi k_i (x_i + 1) / 2) through the samples.

    ``images`` is (B, m, ..., m) sampled on the grid's m equally spaced points of [-1, 1] (end
    points included). The series is the type-I discrete cosine transform (scipy.fft.dct, type 1:
    the even extension about the end samples), rescaled so that a cosine of amplitude 1 with k
    half-cycles along an axis has a_k = 1 exactly: the coefficient divided by m - 1, halved at
    k = 0 and k = m - 1 on each axis.
    """
    from scipy import fft

    out = np.asarray(images, dtype=np.float64)
    for axis in range(1, out.ndim):
        m = out.shape[axis]
        if m < 2:
            continue
        out = fft.dct(out, type=1, axis=axis) / (m - 1)
        ends = [slice(None)] * out.ndim
        ends[axis] = [0, m - 1]
        out[tuple(ends)] *= 0.5
    return out


def max_radius(domain) -> int:
    """r_max of `mean_frequency` on a grid: round(sqrt(d) (m - 1)) half-cycles across [-1, 1]."""
    return int(np.rint(np.sqrt(domain.dim) * (domain.size - 1)))


@lru_cache(maxsize=16)
def _parseval_weights(shape: tuple[int, ...]) -> np.ndarray:
    """c_k up to a constant: 2 for every axis where k_i is 0 or m - 1, so sum_k c_k a_k^2 is the trapezoid-rule energy."""
    w = np.ones(shape)
    for axis, m in enumerate(shape):
        line = np.ones(m)
        line[[0, m - 1]] = 2.0
        w = w * line.reshape([m if i == axis else 1 for i in range(len(shape))])
    return w.ravel()


def cosine_power(images: np.ndarray) -> np.ndarray:
    """(B, N) share of each cosine-series term in the trapezoid-rule energy of each image (not normalised)."""
    # Shares do not depend on the scale; dividing by each row's largest |value| keeps the squares finite.
    peak = np.abs(images).reshape(len(images), -1).max(axis=1) if images.size else np.zeros(len(images))
    peak = np.where(peak > 0, peak, 1.0).reshape((-1,) + (1,) * (images.ndim - 1))
    a = cosine_amplitudes(images / peak).reshape(len(images), -1)
    return a * a * _parseval_weights(tuple(images.shape[1:]))[None, :]


@register_measure("mean_frequency", bounds=(0, 1), **GRID)
def mean_frequency(tables, domain):
    """Mean frequency of the cosine-series power spectrum (even extension: no edge floor), in [0, 1]; docs/definitions.md §3.

    Teney et al.'s radial recipe ("Neural Redshift", CVPR 2024: bins of integer radius
    r = round(|k|), zero frequency dropped, normalised to a distribution p_r, value
    sum_r r p_r / r_max) with two changes, both needed for a value that is a property of the
    function rather than of the grid:

    * the spectrum is the cosine series through the grid (`cosine_amplitudes`, a type-I DCT:
      the even extension about the end points; k in half-cycles across [-1, 1],
      r_max = round(sqrt(d) (m - 1))), not the FFT. The FFT treats the grid as one period, so
      a function whose opposite edges differ has a jump there and |FFT| falls only as 1/|k|:
      a linear ramp scores above a three-cycle sine and every smooth network sits on a floor
      (`mean_frequency_teney`). The even extension is continuous; a cosine with k
      half-cycles along an axis is exactly one term and scores k / r_max. A window (Hann)
      would also remove the jump, but it discards the outer part of the square and adds its
      own sidelobes to every function.
    * p_r is the share of the function's energy (squared amplitudes with their Parseval
      weights; the trapezoid-rule variance) at radius r, not of the amplitudes. The even
      extension still has a kink where the slope at the edge is not zero, and a ReLU network
      has kinks inside the square: amplitudes ~ 1/k^2 whose amplitude-weighted mean grows
      without bound as the grid is refined (for a ReLU network of depth 8 from 8 to 31
      half-cycles between m = 33 and 513), while the energy-weighted mean converges.

    (Strang, "The discrete cosine transform", SIAM Review 41, 1999, on the even extension.)
    On a grid that resolves a function, value x r_max (the mean number of half-cycles across
    [-1, 1]) is a property of the function and the value itself scales as 1 / r_max: compare
    values on one grid only. A function the grid does not resolve aliases to the white-noise
    value (about 0.54 in 2-D). A constant output scores 0.
    """
    images, valid = _images(tables, domain)
    power = cosine_power(images)
    # Constant up to rounding: the non-constant terms' energy is below 1e-24 of the whole (1e-12 in amplitude);
    # relative to the total, so a tiny variation on a large offset (a deep contracting network) still counts.
    return _radial_mean(power, valid, domain.shape, "cosine", row_sums(power), 1e-24)


@register_measure("mean_frequency_teney", bounds=(0, 1), **GRID)
def mean_frequency_teney(tables, domain):
    """Mean frequency exactly as Teney et al., "Neural Redshift" (CVPR 2024), define it, in [0, 1]; see mean_frequency.

    |FFT| of the real output over the grid, the zero frequency removed, magnitudes summed
    in radial bins of integer radius r = round(|k|) (k in cycles per grid, the
    convention of their code), normalised to a distribution p_r, then sum_r r p_r / r_max.
    A constant output has no non-zero frequency: 0. The FFT sees the grid as periodic, so
    any difference between opposite edges is a jump whose 1/|k| spectrum puts a floor under
    every non-periodic function (a linear ramp scores about 0.19 on grid:2:64); kept for comparison.
    """
    images, valid = _images(tables, domain)
    b = images.shape[0]
    mag = np.abs(np.fft.fftn(images, axes=tuple(range(1, images.ndim)))).reshape(b, -1)
    # Relative threshold: rounding leaves ~1e-16 of "signal" in the FFT of a constant image.
    return _radial_mean(mag, valid, domain.shape, "fft", row_sums(np.abs(images)), 1e-12)


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
