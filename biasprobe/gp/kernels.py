"""Covariance functions on a domain's canonical points: the NNGP kernel of an MLP prior and four reference kernels.

Every public kernel takes ``points`` ((N, d) float64, e.g. ``domain.points``) and
returns the (N, N) float64 kernel matrix, exactly symmetric. Parameters are
validated here (a bad one raises :class:`biasprobe.errors.UserError`), so every
value a kernel accepts gives a positive semi-definite matrix:

* ``rbf``: exp(-|x - x'|^2 / (2 l^2)); ``laplace``: exp(-|x - x'| / l);
  ``matern``: the Matern kernel of smoothness nu (Rasmussen & Williams 2006,
  eq. 4.14), closed forms at nu = 1/2, 3/2, 5/2. Distances are Euclidean in the
  domain's own coordinates: on ``bool:n`` |x - x'|^2 is the Hamming distance, on
  ``pm1:n`` four times it. The overall scale is fixed at 1 because thresholding
  f at 0 does not see it.
* ``polynomial``: (x . x' + offset)^degree with an integer degree >= 1 and
  offset >= 0 (PSD as a sum of products of PSD kernels).
* ``nngp``: the infinite-width limit of the ``mlp`` prior with ``depth`` hidden
  layers, W ~ N(0, sigma_w^2 / fan_in), b ~ N(0, sigma_b^2) (Neal 1996; Lee et al.
  2018): K^1(x, x') = sigma_b^2 + sigma_w^2 x . x' / n_0 and, per hidden layer,
  K^{l+1} = sigma_b^2 + sigma_w^2 E[phi(u) phi(v)], (u, v) ~ N(0, K^l restricted to
  {x, x'}). With ``bias_scaling=fan_in`` (b ~ N(0, sigma_b^2/fan_in)) only the first
  layer keeps a bias in the limit, of variance sigma_b^2 / n_0. E[phi phi] is closed-form for relu (arc-cosine kernel, Cho & Saul
  2009), erf (Williams 1997), sin and linear, and nested one-dimensional
  quadrature for tanh, sigmoid and gelu (x Phi(x), torch's exact gelu); see `expect_quadrature`.
"""

from __future__ import annotations

import math

import numpy as np

from biasprobe import activations
from biasprobe.errors import UserError, unknown_name

ACTIVATIONS = activations.NAMES  # the one list (biasprobe.activations)
CLOSED_FORM = ("linear", "relu", "erf", "sin")  # the rest use quadrature
QUADRATURE_STEP = 0.35  # trapezoid step x sqrt(variance) (see expect_quadrature): <= 1e-11 against erf/sin closed forms
QUADRATURE_RANGE = 9.0  # standard-normal half-range integrated; the tail beyond holds < 1e-18
MAX_NU = 100.0  # Matern smoothness beyond which the kernel is, to print precision, the RBF one


# ---- validation -----------------------------------------------------------------------------

def _positive(kernel: str, key: str, value) -> float:
    v = _number(kernel, key, value)
    if not (math.isfinite(v) and v > 0):
        raise UserError(f"kernel {kernel}: {key}={value} must be a finite number > 0")
    return v


def _nonnegative(kernel: str, key: str, value) -> float:
    v = _number(kernel, key, value)
    if not (math.isfinite(v) and v >= 0):
        raise UserError(f"kernel {kernel}: {key}={value} must be a finite number >= 0")
    return v


def _number(kernel: str, key: str, value) -> float:
    if isinstance(value, bool):
        raise UserError(f"kernel {kernel}: {key}={value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"kernel {kernel}: {key}={value!r} is not a number") from None


def _integer(kernel: str, key: str, value, low: int) -> int:
    v = _number(kernel, key, value)
    if not (math.isfinite(v) and v.is_integer() and v >= low):
        raise UserError(f"kernel {kernel}: {key}={value} must be an integer >= {low}")
    return int(v)


def _points(points) -> np.ndarray:
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise UserError(f"kernel points must be an (N, d) array with N, d >= 1, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise UserError("kernel points must be finite")
    return x


def _symmetric(k: np.ndarray) -> np.ndarray:
    """Exactly symmetric (rounding in a cross computation can differ in the last bit between K_ij and K_ji)."""
    return (k + k.T) * 0.5


# ---- distance kernels -----------------------------------------------------------------------

def squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|x_i - y_j|^2 (A, B), exact for lattice points (no |x|^2 + |y|^2 - 2 x.y cancellation)."""
    d = np.zeros((x.shape[0], y.shape[0]))
    for j in range(x.shape[1]):  # d is small (<= 24 for cubes); a loop over coordinates keeps memory at A x B
        d += (x[:, j, None] - y[None, :, j]) ** 2
    return d


def _rbf_cross(x, y, length_scale):
    return np.exp(-squared_distances(x, y) / (2.0 * length_scale**2))


def _laplace_cross(x, y, length_scale):
    return np.exp(-np.sqrt(squared_distances(x, y)) / length_scale)


def matern_of_distance(r: np.ndarray, nu: float, length_scale: float) -> np.ndarray:
    """Matern correlation at distances r >= 0 (R&W eq. 4.14), 1 at r = 0; log-space for general nu."""
    from scipy import special

    s = np.asarray(r, dtype=np.float64) / length_scale
    if nu == 0.5:
        return np.exp(-s)
    if nu == 1.5:
        t = math.sqrt(3.0) * s
        return (1.0 + t) * np.exp(-t)
    if nu == 2.5:
        t = math.sqrt(5.0) * s
        return (1.0 + t + t * t / 3.0) * np.exp(-t)
    t = math.sqrt(2.0 * nu) * s
    out = np.ones_like(t)
    # Near 0 the closed form below cancels terms of size ln Gamma(nu) (about 290 at nu = 85) to get a value
    # near 1, which costs up to 1e-6 and breaks positive definiteness; there the regular part of the series
    # sum_k (-t^2/4)^k Gamma(nu-k) / (k! Gamma(nu)) is used, while its singular part, of order
    # (t/2)^(2 nu) / (Gamma(nu) Gamma(nu+1)), is below 1e-16.
    small = (t > 0) & (t < _series_limit(nu))
    out[small] = _matern_series(t[small], nu)
    pos = t >= _series_limit(nu)
    tp = t[pos]
    # 2^(1-nu)/Gamma(nu) t^nu K_nu(t), with K_nu(t) = kve(nu, t) e^-t to stay finite for large t and nu
    with np.errstate(divide="ignore", under="ignore"):
        logk = (1.0 - nu) * math.log(2.0) - special.gammaln(nu) + nu * np.log(tp) + np.log(special.kve(nu, tp)) - tp
    out[pos] = np.minimum(np.exp(logk), 1.0)
    return out


def _series_limit(nu: float) -> float:
    """Largest t at which the Matern series' neglected singular part stays below 1e-16 (at most 2)."""
    from scipy import special

    log_half_t = (math.log(1e-16) + special.gammaln(nu) + special.gammaln(nu + 1.0)) / (2.0 * nu)
    return min(2.0, 2.0 * math.exp(log_half_t))


def _matern_series(t: np.ndarray, nu: float) -> np.ndarray:
    out = np.ones_like(t)
    term = np.ones_like(t)
    k = 1
    while k < nu:
        term = term * (-(t * t) / 4.0) / (k * (nu - k))
        out += term
        if np.all(np.abs(term) < 1e-18):
            break
        k += 1
    return out


def _matern_cross(x, y, nu, length_scale):
    return matern_of_distance(np.sqrt(squared_distances(x, y)), nu, length_scale)


def _polynomial_cross(x, y, degree, offset):
    return (x @ y.T + offset) ** degree


# ---- NNGP -------------------------------------------------------------------------------------

def _phi(activation: str):
    from scipy import special

    return {
        "linear": lambda v: v,
        "relu": lambda v: np.maximum(v, 0.0),
        "tanh": np.tanh,
        "erf": special.erf,
        "sigmoid": special.expit,
        "gelu": lambda v: v * special.ndtr(v),
        "sin": np.sin,
    }[activation]


def expect_closed(activation: str, a, c, b) -> np.ndarray:
    """E[phi(u) phi(v)] for (u, v) ~ N(0, [[a, c], [c, b]]) in closed form (relu, erf, sin, linear)."""
    a, c, b = (np.asarray(v, dtype=np.float64) for v in (a, c, b))
    if activation == "linear":
        return c + 0.0 * (a + b)
    if activation == "relu":
        # arc-cosine kernel of degree 1 (Cho & Saul 2009): sqrt(ab)/(2 pi) (sin t + (pi - t) cos t)
        ab = np.sqrt(a * b)
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = np.clip(np.where(ab > 0, c / ab, 1.0), -1.0, 1.0)
        t = np.arccos(cos)
        return ab / (2.0 * math.pi) * (np.sqrt(1.0 - cos * cos) + (math.pi - t) * cos)
    if activation == "erf":
        # Williams (1997): (2/pi) arcsin(2c / sqrt((1 + 2a)(1 + 2b)))
        return (2.0 / math.pi) * np.arcsin(np.clip(2.0 * c / np.sqrt((1.0 + 2.0 * a) * (1.0 + 2.0 * b)), -1.0, 1.0))
    if activation == "sin":
        # E sin u sin v = (E cos(u - v) - E cos(u + v)) / 2 = exp(-(a + b)/2) sinh(c)
        return np.exp(-0.5 * (a + b)) * np.sinh(c)
    raise ValueError(f"no closed form for {activation}")


def expect_quadrature(activation: str, a, c, b, step: float | None = None, chunk_nodes: int = 1 << 22) -> np.ndarray:
    """E[phi(u) phi(v)] for (u, v) ~ N(0, [[a, c], [c, b]]) by nested one-dimensional quadrature.

    With rho = c / sqrt(ab), u = sqrt(a) (sqrt|rho| w + sqrt(1 - |rho|) z1) and
    v = sqrt(b) (sign(rho) sqrt|rho| w + sqrt(1 - |rho|) z2), w, z1, z2 independent
    standard normals, so E = E_w[G_a(w) G_b(sign(rho) w)] with G_a(w) = E_z phi(...).
    Each one-dimensional Gaussian integral is a trapezoid sum on [-9, 9] with a step
    of 0.3 / max(1, sqrt(max variance)): for the analytic activations (tanh,
    sigmoid, gelu, erf, sin) the trapezoid rule converges exponentially once the step
    resolves phi's transition of width ~ 1/sqrt(variance), which a fixed Gauss-Hermite
    rule does not (at variance 16 a 64-node Hermite rule is off by 1e-2 for erf). A
    kink (relu) converges only as step^2; relu has a closed form and never comes here.
    """
    phi = _phi(activation)
    a, c, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, c, b)))
    shape = a.shape
    a, c, b = a.ravel(), c.ravel(), b.ravel()
    out = np.empty(a.shape)
    if a.size == 0:
        return out.reshape(shape)
    if step is None:
        step = QUADRATURE_STEP / max(1.0, math.sqrt(max(float(a.max()), float(b.max()))))
    half = int(math.ceil(QUADRATURE_RANGE / step))
    z = step * np.arange(-half, half + 1)  # symmetric, so G(-w_i) is G at index n - 1 - i
    w = np.exp(-0.5 * z * z)
    w /= w.sum()
    n = z.size
    ab = np.sqrt(a * b)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.clip(np.where(ab > 0, c / ab, 0.0), -1.0, 1.0)
    r, q = np.sqrt(np.abs(rho)), np.sqrt(1.0 - np.abs(rho))
    chunk = max(1, chunk_nodes // (n * n))

    def smoothed(var, lo, hi):
        # G[k, i] = sum_j w_j phi(sqrt(var_k) (r_k z_i + q_k z_j))
        s = np.sqrt(var[lo:hi])[:, None, None]
        arg = s * (r[lo:hi, None, None] * z[None, :, None] + q[lo:hi, None, None] * z[None, None, :])
        return phi(arg) @ w

    for lo in range(0, a.size, chunk):
        hi = min(a.size, lo + chunk)
        ga, gb = smoothed(a, lo, hi), smoothed(b, lo, hi)
        gb = np.where(rho[lo:hi, None] < 0, gb[:, ::-1], gb)
        out[lo:hi] = (ga * gb) @ w
    return out.reshape(shape)


def expect(activation: str, a, c, b) -> np.ndarray:
    """E[phi(u) phi(v)]: closed form where there is one, quadrature on the distinct (a, c, b) triples otherwise."""
    if activation in CLOSED_FORM:
        return expect_closed(activation, a, c, b)
    a, c, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, c, b)))
    # On lattices most entries share their (a, c, b): integrate each distinct triple once.
    lo, hi = np.minimum(a, b), np.maximum(a, b)  # E is symmetric in (a, b)
    triples = np.stack([lo.ravel(), c.ravel(), hi.ravel()], axis=1)
    uniq, inverse = np.unique(triples, axis=0, return_inverse=True)
    vals = expect_quadrature(activation, uniq[:, 0], uniq[:, 1], uniq[:, 2])
    return vals[inverse.ravel()].reshape(a.shape)


def _nngp_cross(x, y, activation, depth, sigma_w, sigma_b, bias_scaling="fixed"):
    n0 = x.shape[1]
    sw2, sb2 = sigma_w**2, sigma_b**2
    # bias_scaling=fan_in: b ~ N(0, sigma_b^2 / fan_in); the hidden layers' fan-in is infinite in this
    # limit, so only the first layer keeps a bias (sigma_b^2 / n0)
    sb_first, sb_hidden = (sb2 / n0, 0.0) if bias_scaling == "fan_in" else (sb2, sb2)
    dx = sb_first + sw2 * np.einsum("ij,ij->i", x, x) / n0
    dy = sb_first + sw2 * np.einsum("ij,ij->i", y, y) / n0
    k = sb_first + sw2 * (x @ y.T) / n0
    for _ in range(depth):
        k = sb_hidden + sw2 * expect(activation, dx[:, None], k, dy[None, :])
        dx = sb_hidden + sw2 * expect(activation, dx, dx, dx)
        dy = sb_hidden + sw2 * expect(activation, dy, dy, dy)
    return k


# ---- public kernels -------------------------------------------------------------------------

def _check(name: str, params: dict) -> dict:
    """Validated, normalised parameters of kernel `name` (UserError on a bad or unknown one)."""
    if name not in KERNELS:
        raise unknown_name("kernel", name, KERNELS)
    allowed = KERNELS[name]
    for key in params:
        if key not in allowed:
            raise unknown_name(f"parameter of kernel {name}", key, allowed)
    p = {**allowed, **params}
    if name in ("rbf", "laplace"):
        return {"length_scale": _positive(name, "length_scale", p["length_scale"])}
    if name == "matern":
        nu = _positive(name, "nu", p["nu"])
        if nu > MAX_NU:
            raise UserError(f"kernel matern: nu={nu} must be <= {MAX_NU:g} (use kernel rbf, its nu -> inf limit)")
        return {"nu": nu, "length_scale": _positive(name, "length_scale", p["length_scale"])}
    if name == "polynomial":
        return {"degree": _integer(name, "degree", p["degree"], 1),
                "offset": _nonnegative(name, "offset", p["offset"])}
    act = p["activation"]
    if act not in ACTIVATIONS:
        raise unknown_name("activation of kernel nngp", str(act), ACTIVATIONS)
    if p["bias_scaling"] not in BIAS_SCALINGS:
        raise UserError(f"kernel nngp: bias_scaling={p['bias_scaling']!r}; valid: {', '.join(BIAS_SCALINGS)}")
    return {"activation": act, "depth": _integer(name, "depth", p["depth"], 0),
            "sigma_w": _nonnegative(name, "sigma_w", p["sigma_w"]),
            "sigma_b": _nonnegative(name, "sigma_b", p["sigma_b"]), "bias_scaling": p["bias_scaling"]}


def rbf(points, length_scale: float = 1.0) -> np.ndarray:
    """exp(-|x - x'|^2 / (2 length_scale^2))."""
    return kernel_matrix("rbf", points, length_scale=length_scale)


def laplace(points, length_scale: float = 1.0) -> np.ndarray:
    """exp(-|x - x'| / length_scale) (Matern nu = 1/2)."""
    return kernel_matrix("laplace", points, length_scale=length_scale)


def matern(points, nu: float = 1.5, length_scale: float = 1.0) -> np.ndarray:
    """Matern kernel of smoothness nu (R&W 2006 eq. 4.14), unit variance."""
    return kernel_matrix("matern", points, nu=nu, length_scale=length_scale)


def polynomial(points, degree: int = 2, offset: float = 1.0) -> np.ndarray:
    """(x . x' + offset)^degree."""
    return kernel_matrix("polynomial", points, degree=degree, offset=offset)


def nngp(points, activation: str = "relu", depth: int = 2, sigma_w: float = 1.0, sigma_b: float = 1.0,
         bias_scaling: str = "fixed") -> np.ndarray:
    """The NNGP kernel of the ``mlp`` prior with ``depth`` hidden layers (see the module docstring)."""
    return kernel_matrix("nngp", points, activation=activation, depth=depth, sigma_w=sigma_w, sigma_b=sigma_b,
                         bias_scaling=bias_scaling)


def network_kernel(prior, points) -> np.ndarray:
    """The NNGP kernel of a network prior (``mlp`` or ``perceptron``) on `points`: its infinite-width limit.

    Uniform weights have the same limit as Gaussian ones of the same variance (central limit
    theorem); the perceptron's output is Gaussian given the inputs, so its kernel is exact.
    """
    if prior.name == "perceptron":
        return nngp(points, "linear", 0, prior.sigma_w, prior.sigma_b if prior.bias else 0.0)
    if prior.name != "mlp":
        raise UserError(f"prior {prior.name} has no NNGP kernel here (mlp and perceptron have)")
    return nngp(points, prior.activation, len(prior.hidden), prior.sigma_w, prior.sigma_b, prior.bias_scaling)


# name -> accepted parameters with their defaults
KERNELS: dict[str, dict] = {
    "rbf": {"length_scale": 1.0},
    "laplace": {"length_scale": 1.0},
    "matern": {"nu": 1.5, "length_scale": 1.0},
    "polynomial": {"degree": 2, "offset": 1.0},
    "nngp": {"activation": "relu", "depth": 2, "sigma_w": 1.0, "sigma_b": 1.0, "bias_scaling": "fixed"},
}
BIAS_SCALINGS = ("fixed", "fan_in")


def kernel_cross(name: str, x, y, **params) -> np.ndarray:
    """K(x_i, y_j) as an (A, B) float64 matrix (validated like `kernel_matrix`)."""
    p = _check(name, params)
    x, y = _points(x), _points(y)
    if x.shape[1] != y.shape[1]:
        raise UserError(f"kernel points have different dimensions: {x.shape[1]} and {y.shape[1]}")
    if name == "rbf":
        return _rbf_cross(x, y, p["length_scale"])
    if name == "laplace":
        return _laplace_cross(x, y, p["length_scale"])
    if name == "matern":
        return _matern_cross(x, y, p["nu"], p["length_scale"])
    if name == "polynomial":
        return _polynomial_cross(x, y, p["degree"], p["offset"])
    return _nngp_cross(x, y, p["activation"], p["depth"], p["sigma_w"], p["sigma_b"], p["bias_scaling"])


def kernel_matrix(name: str, points, **params) -> np.ndarray:
    """The (N, N) float64 kernel matrix of kernel `name` on `points`, exactly symmetric."""
    x = _points(points)
    return _symmetric(kernel_cross(name, x, x, **params))


def check_kernel(name: str, **params) -> dict:
    """Validate a kernel name and its parameters without computing anything; returns them normalised."""
    return _check(name, params)


def hamming_only(name: str, domain) -> bool:
    """Whether the kernel depends only on the Hamming distance between inputs of `domain` (Walsh-diagonal there).

    Distance kernels do on both cubes; nngp and polynomial depend on x . x' and the norms,
    which on pm1:n are n - 2h and n, and on bool:n also on the number of ones.
    """
    if not domain.is_boolean:
        return False
    return name in ("rbf", "laplace", "matern") or (domain.kind == "pm1" and name in ("nngp", "polynomial"))
