"""Exact draws f ~ N(0, K) on all of a domain's points: a Cholesky factor with a stated jitter, or the Walsh basis on cubes.

Cholesky: L L^T = K + jitter * mean(diag K) * I (the jitter is relative to the
kernel's scale, so one value suits kernels of any variance), then f = L z. The
jitter adds independent N(0, jitter * mean diag K) noise to every point: it
decides the sign of f only where the GP itself is (nearly) degenerate, e.g. at
the origin of bool:n under an nngp kernel without biases, where K(0, 0) = 0 and
the network's output is exactly 0.

Walsh: a kernel that depends only on the Hamming distance, K_ij = g(i XOR j) on
the canonical order of bool:n or pm1:n, is a convolution on the group Z_2^n and is
diagonalised by the characters chi_S(x_i) = (-1)^{popcount(S & i)}:
K = H diag(mu) H / N with H the N x N Walsh-Hadamard matrix and mu = H g, the
eigenvalue of the degree-|S| character depending only on |S| (Yang & Salman 2019).
So f = H (sqrt(mu / N) * z) with z ~ N(0, I_N) is an exact draw (no jitter, no
factorisation), computed by the fast Walsh-Hadamard transform in O(N log N).
"""

from __future__ import annotations

import numpy as np

from biasprobe.errors import UserError

MAX_CHOLESKY_POINTS = 8192  # an 8192^2 float64 factor is 512 MiB
WALSH_DENSE_MAX = 4096  # Walsh factors up to this many points are dense matrices (128 MiB)
SLAB_ROWS = 16  # rows per matrix product in `draw` up to SLAB_SMALL_N points (see there)
SLAB_SMALL_N = 1024
SLAB_ROWS_LARGE = 256  # beyond: bigger slabs, so that the N x N factor is read once per 256 draws, not 16


def cholesky_factor(k: np.ndarray, jitter: float = 1e-6) -> np.ndarray:
    """Lower-triangular L with L L^T = K + jitter * mean(diag K) * I (UserError if that is not positive definite)."""
    k = np.asarray(k, dtype=np.float64)
    n = k.shape[0]
    if k.ndim != 2 or k.shape != (n, n):
        raise ValueError(f"a kernel matrix is square, got shape {k.shape}")
    if n > MAX_CHOLESKY_POINTS:
        raise UserError(f"a Cholesky factor on {n} points needs {8 * n * n / 2**30:.1f} GiB (limit"
                        f" {MAX_CHOLESKY_POINTS} points); use a smaller domain, or a Hamming-distance kernel on a cube"
                        " (method=walsh)")
    if not (np.isfinite(jitter) and jitter >= 0):
        raise UserError(f"jitter={jitter} must be a finite number >= 0")
    scale = float(np.mean(np.diag(k)))
    if scale == 0 and not k.any():
        return np.zeros_like(k)  # f = 0 everywhere (e.g. nngp with sigma_w = sigma_b = 0): every bit 0, as the network
    a = k + (jitter * scale) * np.eye(n) if jitter and scale > 0 else k.copy()
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise UserError(f"the kernel matrix plus jitter={jitter:g} x mean diagonal is not positive definite"
                        " (numerically singular): raise jitter, e.g. jitter=1e-4") from None


def fwht(x: np.ndarray) -> np.ndarray:
    """Unnormalised fast Walsh-Hadamard transform along the last axis (length a power of two): x H."""
    x = np.array(x, dtype=np.float64, copy=True)
    n = x.shape[-1]
    if n & (n - 1):
        raise ValueError(f"Walsh-Hadamard transform needs a power-of-two length, got {n}")
    lead = x.shape[:-1]
    h = 1
    while h < n:
        y = x.reshape(*lead, n // (2 * h), 2, h)
        a, b = y[..., 0, :], y[..., 1, :]
        x = np.stack((a + b, a - b), axis=-2).reshape(*lead, n)
        h *= 2
    return x


def walsh_eigenvalues(row: np.ndarray) -> np.ndarray:
    """mu_S (N,) of a Hamming-distance kernel from its row K[0, :]: K = H diag(mu) H / N.

    Tiny negative values from rounding are set to 0; a clearly negative one means the kernel is
    not PSD (a bug, since every accepted kernel is), and raises.
    """
    mu = fwht(np.asarray(row, dtype=np.float64))
    top = float(np.max(np.abs(mu))) if mu.size else 0.0
    if mu.size and mu.min() < -1e-9 * max(top, 1e-300):
        raise ValueError(f"kernel has a negative Walsh eigenvalue {mu.min():.3g} (largest {top:.3g})")
    return np.maximum(mu, 0.0)


def walsh_scale(row: np.ndarray) -> np.ndarray:
    """sqrt(mu / N): multiply z ~ N(0, I) by it and transform (fwht) to draw f ~ N(0, K)."""
    mu = walsh_eigenvalues(row)
    return np.sqrt(mu / mu.size)


def walsh_matrix(row: np.ndarray) -> np.ndarray:
    """The kernel matrix H diag(mu) H / N rebuilt from the Walsh eigenvalues (for checks)."""
    mu = walsh_eigenvalues(row)
    n = mu.size
    return fwht(fwht(np.diag(mu)).T) / n


def hadamard(n: int) -> np.ndarray:
    """The N x N Walsh-Hadamard matrix H_ij = (-1)^popcount(i & j), N = 2^n."""
    return fwht(np.eye(1 << n))


def walsh_factor(row: np.ndarray) -> np.ndarray:
    """A factor F with F F^T = K for a Hamming-distance kernel with row K[0, :].

    Up to WALSH_DENSE_MAX points F = H diag(sqrt(mu / N)) as a dense matrix (a BLAS product per
    batch is faster than the transform at these sizes); beyond, the vector sqrt(mu / N), which
    `draw` turns into f = fwht(sqrt(mu / N) * z) without ever forming an N x N matrix.
    """
    scale = walsh_scale(row)
    n = scale.size
    if n <= WALSH_DENSE_MAX:
        return hadamard(n.bit_length() - 1) * scale[None, :]
    return scale


def slab_rows(n: int) -> int:
    """Rows per product in `draw`: a function of the number of points only, never of the count."""
    return SLAB_ROWS if n <= SLAB_SMALL_N else SLAB_ROWS_LARGE


def draw(rng: np.random.Generator, factor: np.ndarray, count: int) -> np.ndarray:
    """(count, N) float64 draws of f ~ N(0, F F^T) from a Cholesky or Walsh factor.

    z ~ N(0, I) fills row by row, so draw i uses only the generator's first (i + 1) N normals, and the
    product runs on fixed slabs of `slab_rows(N)` rows (the last one zero-padded): BLAS picks different
    kernels for different matrix sizes, which would make draw i's last bits depend on how many draws
    share the call. So a shorter run is a bit-exact prefix of a longer one. (Slabs this small also stay
    on one OpenBLAS thread inside each sampler worker, 2-3x less CPU than one threaded product.)
    """
    n = factor.shape[0]
    z = rng.standard_normal((count, n))
    if factor.ndim == 1:
        return fwht(z * factor)
    rows = slab_rows(n)
    pad = -count % rows
    if pad:
        z = np.concatenate([z, np.zeros((pad, n))])
    f = np.matmul(z.reshape(-1, rows, n), np.ascontiguousarray(factor.T)).reshape(-1, n)
    return f[:count]
