"""Published reference distributions shipped with the package, and the statistics that compare a sample with them."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pandas as pd

from biasprobe.errors import UserError

# Mingard et al., Nat. Commun. 16, 220 (2025), doi:10.1038/s41467-024-54813-x: released 10^8-draw
# K_LZ histograms of "10-layer" tanh networks on {0,1}^7, sigma_b = 0.1 by their file names
# (biasprobe/data/mingard2025/README.md; mingard2025_sigma_b says which sigma_b reproduces each).
MINGARD2025_SIGMA_W = (1.0, 1.5, 2.0, 4.0, 8.0)
MINGARD2025_SIGMA_B = 0.1
CONSTANT_LZ = 7.0  # K_LZ of the two constant functions on 7 inputs (and of nothing else)

# The network that reproduces those histograms (experiments/order_to_chaos.py searched depth, width,
# bias convention, input encoding and K_LZ implementation): the sampler released with the paper,
# Plot1/data/sample_1abgh.py, run as written. Its DNN(nl=10) has 10 hidden tanh layers of width 64
# (11 weight layers), W ~ N(0, sigma_w^2/fan_in), {0,1} inputs, and its reset_weights() draws every
# bias with standard deviation sigma_b sigma_w / fan_out (sigma_b sigma_w / 64 in the hidden layers,
# sigma_b sigma_w at the output unit); its K_LZ is `released_lz`.
MINGARD2025_NETWORK = {"hidden": [64] * 10, "activation": "tanh", "bias_scaling": "sigma_w_fan_out"}


def mingard2025_sigma_b(sigma_w: float) -> float:
    """The sigma_b with which MINGARD2025_NETWORK reproduces the released histogram at sigma_w.

    0.1, as the file names say, except at sigma_w = 1: that file (named ..._1.0_0.1_...) is
    reproduced with sigma_b = 0.2, the sampler's default and the value in the name of the file
    their Fig. 1h script loads (10_1.0_0.2_7_tanh_kc.txt); sigma_b = 0.1 gives mean K_LZ 73
    and P(constant) 0.056 against the file's 60.4 and 0.186.
    """
    return 0.2 if float(sigma_w) == 1.0 else MINGARD2025_SIGMA_B


def mingard2025_lz(sigma_w: float | None = None) -> pd.DataFrame:
    """The released K_LZ histogram at `sigma_w` (None: the counting measure), columns lz, fraction, count."""
    if sigma_w is None:
        name = "counting_kc.txt"
    else:
        if float(sigma_w) not in MINGARD2025_SIGMA_W:
            valid = ", ".join(f"{s:g}" for s in MINGARD2025_SIGMA_W)
            raise UserError(f"no published Mingard et al. 2025 histogram at sigma_w={sigma_w:g}; valid: {valid}")
        name = f"tanh10_sw{float(sigma_w):.1f}_sb{MINGARD2025_SIGMA_B}_kc.txt"
    text = resources.files("biasprobe").joinpath("data", "mingard2025", name).read_text()
    rows = [line.split() for line in text.splitlines() if line.strip()]
    df = pd.DataFrame({"lz": [float(r[0]) for r in rows], "fraction": [float(r[1]) for r in rows],
                       "count": [int(r[2]) for r in rows]})
    return df.sort_values("lz", ignore_index=True)


def released_lz(bits: np.ndarray) -> np.ndarray:
    """K_LZ as the code released with Mingard et al. (2025) computes it, for 0/1 rows of length N.

    Their phrase counter (``lz_complexity`` in ``Plot1/complexities.py``, called by
    ``K_lemp_ziv``) stops two symbols early: it returns the Kaspar-Schuster phrase count
    of the string without its last two symbols. So this is
    log2 N x (C(s[:N-2]) + C(reverse(s)[:N-2])) / 2, and log2 N when that equals 2 log2 N
    (which happens exactly for the two constant strings). It is lower than biasprobe's
    ``lz`` by 3.5 or 7 on about 43% of uniformly random 128-bit strings (mean 147.1
    against 148.8). Their network histograms were measured with it, their counting-measure
    histogram (mean 148.83) was not. The equivalence was checked against a transcription of
    their function on 40,000 strings (uniform and biased), which is not shipped.
    """
    from biasprobe.measures._lz import phrase_counts

    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    n = bits.shape[1]
    if n < 3:
        raise UserError(f"released_lz needs strings of at least 3 symbols, got {n}")
    forward = phrase_counts(np.ascontiguousarray(bits[:, : n - 2]), both=False)[:, 1]
    # reverse(s)[:N-2] is the reverse of s[2:]: the reverse count of s[2:]
    backward = phrase_counts(np.ascontiguousarray(bits[:, 2:]), both=True)[:, 2]
    scale = math.log2(n)
    out = scale * (forward + backward) / 2.0
    return np.where(out == 2 * scale, scale, out)


def ks_distance(k1, w1, k2, w2) -> float:
    """Kolmogorov-Smirnov distance sup_k |F1(k) - F2(k)| between two weighted discrete distributions."""
    k1, k2 = np.asarray(k1, float), np.asarray(k2, float)
    w1, w2 = np.asarray(w1, float), np.asarray(w2, float)
    grid = np.union1d(k1, k2)

    def cdf(k, w):
        mass = np.bincount(np.searchsorted(grid, k), weights=w, minlength=len(grid))
        return np.cumsum(mass) / w.sum()

    return float(np.abs(cdf(k1, w1) - cdf(k2, w2)).max())


def ks_critical(n: int, alpha: float = 0.05, m: float = math.inf) -> float:
    """Asymptotic two-sample KS critical distance c(alpha) sqrt((n + m) / (n m)); m = inf: one-sample.

    For discrete distributions the test is conservative (the true level is at most alpha).
    """
    c = math.sqrt(-0.5 * math.log(alpha / 2))
    scale = 1 / n if math.isinf(m) else (n + m) / (n * m)
    return c * math.sqrt(scale)


def summarize(k, w) -> dict:
    """Mean K_LZ with its standard error, P(constant) = P(K_LZ = 7) and n, for values k drawn w times each."""
    k, w = np.asarray(k, float), np.asarray(w, float)
    n = w.sum()
    mean = float((k * w).sum() / n)
    sd = math.sqrt(float((w * (k - mean) ** 2).sum()) / max(n - 1, 1))
    return {"n": int(n), "mean": mean, "se": sd / math.sqrt(n), "sd": sd,
            "p_constant": float(w[k == CONSTANT_LZ].sum() / n)}


def compare_with_mingard2025(k, w, sigma_w: float) -> dict:
    """A K_LZ sample (values k drawn w times, measured with `released_lz`) against the published histogram at sigma_w.

    Returns the sample's mean and P(K_LZ = 7), the published ones, their differences in
    standard errors *under the null* that the sample comes from the published distribution
    (published sd / sqrt(n) for the mean, sqrt(p0 (1 - p0) / n) for P(constant)), the KS
    distance and its 95% critical value at this n (conservative for discrete K_LZ).
    """
    ref = mingard2025_lz(sigma_w)
    s = summarize(k, w)
    r = summarize(ref["lz"], ref["count"])
    n = s["n"]
    p0 = r["p_constant"]
    if 0 < p0 < 1:
        z_p = (s["p_constant"] - p0) / math.sqrt(p0 * (1 - p0) / n)
    else:
        z_p = 0.0 if s["p_constant"] == p0 else math.inf
    return {"n": n, "mean": s["mean"], "published_mean": r["mean"],
            "z_mean": (s["mean"] - r["mean"]) / (r["sd"] / math.sqrt(n)),
            "p_constant": s["p_constant"], "published_p_constant": p0, "z_p_constant": z_p,
            "ks": ks_distance(k, w, ref["lz"], ref["count"]), "ks_critical": ks_critical(n)}
