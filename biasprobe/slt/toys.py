"""Oracle models with closed-form learning coefficients: regular, monomial, reduced-rank regression, deep linear networks.

Every toy is a Gaussian regression y = F(w) x + σε on n samples x ~ N(0, I), where the effective
map F(w) (output × input) is w itself (`regular`, d inputs), the scalar ∏ w_i^{k_i} (`monomial`),
B A (`rrr`) or W_L ⋯ W_1 (`dln`). Its per-sample negative log-likelihood is ‖y − F x‖²/(2σ²), so

    L_n(w) = L_n(w0) + [tr(D Σ Dᵀ) − 2 tr(D R)] / (2σ²),   D = F(w) − F(w0),
    Σ = XᵀX/n,  R = Xᵀ(Y − X F(w0)ᵀ)/n,

exactly: the potential costs O(d) per step whatever n is, and `ModelPotential` on the same (x, y)
agrees with it (a test). The true parameter w0 is the oracle's w*. For `rrr` and `dln` its nonzero
blocks have orthonormal rows/columns (singular values 1) padded with zeros to the hidden widths,
the deepest singular point of the true set, where the local coefficient equals the global one
(Aoyagi's). ``noise=orthogonal`` (default) projects the noise off the inputs (R = 0), so w0 minimises
L_n exactly and λ̂'s error is the sampler's alone; ``noise=gaussian`` keeps a plain sample, whose
w0 is not the empirical minimiser (expect the O(1/ln n) bias of WBIC's fluctuation term).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from biasprobe.errors import UserError, unknown_name
from biasprobe.slt import theory

NOISES = ("orthogonal", "gaussian")
COMMON = {"n": (int, 100_000), "sigma": (float, 1.0), "noise": (str, "orthogonal")}
SCHEMAS = {
    "regular": {"d": (int, 10)},
    "monomial": {"k": (tuple, (2, 1))},
    "rrr": {"M": (int, 5), "H": (int, 3), "N": (int, 5), "r": (int, 0)},
    "dln": {"widths": (tuple, (3, 4, 3, 4)), "r": (int, 1)},
}
SUMMARY = {
    "regular": "linear regression with d parameters: λ = d/2",
    "monomial": "y = x·∏ w_i^{k_i} at w = 0: λ = 1/(2 max k_i)",
    "rrr": "reduced-rank regression y = BAx, A: H×M, B: N×H, true rank r (Aoyagi & Watanabe 2005)",
    "dln": "deep linear network with layer widths H_1..H_{L+1}, true rank r (Aoyagi 2024)",
}


@dataclass(frozen=True, eq=False)
class Toy:
    """An oracle: its resolved parameters, the potential, the true parameter w* and the closed-form λ."""

    name: str
    params: dict
    potential: object
    w_star: object  # (d,) torch float64
    theory: theory.Theory
    x: object = field(repr=False, default=None)  # (n, M) data, for cross-checks with ModelPotential
    y: object = field(repr=False, default=None)

    @property
    def dim(self) -> int:
        return int(self.potential.dim)

    def label(self) -> str:
        return f"{self.name}({' '.join(f'{k}={_show(v)}' for k, v in self.params.items() if k not in COMMON)})"

    def module(self):
        """A torch module computing F(w*) x, for checking the potential against `ModelPotential`."""
        import torch

        mod = _module(self.name, self.params)
        with torch.no_grad():
            start = 0
            for p in mod.parameters():
                p.copy_(self.w_star[start:start + p.numel()].reshape(p.shape))
                start += p.numel()
        return mod


def _show(v) -> str:
    return ",".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)


def describe_toys() -> str:
    lines = []
    for name, schema in SCHEMAS.items():
        keys = " ".join(f"{k}={_show(d)}" for k, (_, d) in {**schema, **COMMON}.items())
        lines.append(f"  {name:9s} {SUMMARY[name]}\n            {keys}")
    return "\n".join(lines)


def resolve(name: str, fields: dict) -> dict:
    """Validate and coerce --set style values against the toy's schema (unknown keys are UserErrors)."""
    if name not in SCHEMAS:
        raise unknown_name("toy model", name, SCHEMAS)
    schema = {**SCHEMAS[name], **COMMON}
    out = {k: d for k, (_, d) in schema.items()}
    for key, value in fields.items():
        if key not in schema:
            raise unknown_name(f"parameter of toy {name}", key, schema)
        kind = schema[key][0]
        try:
            if kind is int:
                number = float(value)
                if isinstance(value, bool) or not number.is_integer():
                    raise ValueError
                out[key] = int(number)
            elif kind is float:
                out[key] = float(value)
                if not math.isfinite(out[key]):
                    raise ValueError
            elif kind is tuple:
                parts = [p for p in str(value).strip("()[] ").replace(" ", ",").split(",") if p] \
                    if isinstance(value, str) else list(value)
                nums = [float(p) for p in parts]
                if not nums or any(not v.is_integer() for v in nums):
                    raise ValueError
                out[key] = tuple(int(v) for v in nums)
            else:
                out[key] = str(value)
        except (TypeError, ValueError):
            want = {int: "an integer", float: "a number", tuple: "comma-separated integers, e.g. 2,1", str: "text"}[kind]
            raise UserError(f"toy {name}: {key}={value!r} is not {want}") from None
    if out["n"] < 2:
        raise UserError(f"toy {name}: n={out['n']} must be >= 2 samples")
    if not out["sigma"] > 0:
        raise UserError(f"toy {name}: sigma={out['sigma']} must be > 0")
    if out["noise"] not in NOISES:
        raise UserError(f"toy {name}: noise={out['noise']!r}; valid: {', '.join(NOISES)}")
    return out


def closed_form(name: str, p: dict) -> theory.Theory:
    if name == "regular":
        return theory.regular(p["d"])
    if name == "monomial":
        return theory.monomial(p["k"])
    if name == "rrr":
        return theory.rrr(p["M"], p["H"], p["N"], p["r"])
    return theory.dln(p["widths"], p["r"])


def widths_of(name: str, p: dict) -> tuple[int, ...]:
    """Layer widths of the linear chain (rrr, dln), input first."""
    return (p["M"], p["H"], p["N"]) if name == "rrr" else tuple(p["widths"])


def make_toy(name: str, seed: int = 0, **fields) -> Toy:
    """Build an oracle model, its data (from `seed`) and its potential; values may be --set text."""
    import torch

    p = resolve(name, fields)
    th = closed_form(name, p)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x7057]))  # data stream, apart from the chains'
    if name == "regular":
        w0 = rng.standard_normal(p["d"])
        f0 = w0[None, :]
    elif name == "monomial":
        w0 = np.zeros(len(p["k"]))
        f0 = np.zeros((1, 1))
    else:
        hs = widths_of(name, p)
        mats = _true_chain(hs, p["r"], rng)
        w0 = np.concatenate([m.ravel() for m in mats])
        f0 = mats[0]
        for m in mats[1:]:
            f0 = m @ f0
    n, sigma = p["n"], p["sigma"]
    out_dim, in_dim = f0.shape
    x = rng.standard_normal((n, in_dim))
    eps = rng.standard_normal((n, out_dim))
    if p["noise"] == "orthogonal":
        eps -= x @ np.linalg.lstsq(x, eps, rcond=None)[0]  # residual of the noise on the inputs: Xᵀε = 0
    y = x @ f0.T + sigma * eps
    sxx = x.T @ x / n
    resid = y - x @ f0.T
    r_mat = x.T @ resid / n
    c0 = float((resid * resid).sum() / (2 * sigma * sigma * n))
    pot = LinearGaussianPotential(name, p, f0, sxx, r_mat, c0, sigma, n)
    return Toy(name, p, pot, torch.as_tensor(w0, dtype=torch.float64), th,
               torch.as_tensor(x), torch.as_tensor(y))


def _true_chain(hs, r: int, rng) -> list[np.ndarray]:
    """W_l (H_{l+1} × H_l) whose product has rank r: orthonormal r-blocks, zero elsewhere (the deepest true point)."""
    mats = []
    for l in range(len(hs) - 1):
        w = np.zeros((hs[l + 1], hs[l]))
        if r:
            if l == 0:
                q, _ = np.linalg.qr(rng.standard_normal((hs[0], r)))
                w[:r, :] = q.T  # orthonormal rows
            elif l == len(hs) - 2:
                q, _ = np.linalg.qr(rng.standard_normal((hs[-1], r)))
                w[:, :r] = q  # orthonormal columns
            else:
                q, _ = np.linalg.qr(rng.standard_normal((r, r)))
                w[:r, :r] = q
        mats.append(w)
    if len(hs) == 2 and r:  # a single layer (no hidden layer): one rank-r matrix
        u, _ = np.linalg.qr(rng.standard_normal((hs[1], r)))
        v, _ = np.linalg.qr(rng.standard_normal((hs[0], r)))
        mats[0] = u @ v.T
    return mats


class LinearGaussianPotential:
    """L_n(w) of a toy from its sufficient statistics: L_n(w0) + [tr(DΣDᵀ) − 2tr(DR)]/(2σ²), D = F(w) − F(w0)."""

    def __init__(self, name, params, f0, sxx, r_mat, c0, sigma, n):
        import torch

        self.name, self.params, self.n = name, params, int(n)
        self.dtype = torch.float64
        self.f0 = torch.as_tensor(f0)
        self.sxx = torch.as_tensor(sxx)
        self.rt = torch.as_tensor(r_mat).T.contiguous()  # (out, in)
        self.c0, self.scale = float(c0), 1.0 / (2 * sigma * sigma)
        if name == "regular":
            self.dim = params["d"]
        elif name == "monomial":
            self.dim = len(params["k"])
            self.k = torch.as_tensor(params["k"], dtype=torch.float64)
        else:
            hs = widths_of(name, params)
            self.shapes = [(hs[l + 1], hs[l]) for l in range(len(hs) - 1)]
            self.dim = sum(a * b for a, b in self.shapes)

    def _layers(self, theta):
        C, out, start = theta.shape[0], [], 0
        for rows, cols in self.shapes:
            out.append(theta[:, start:start + rows * cols].reshape(C, rows, cols))
            start += rows * cols
        return out

    def effective(self, theta):
        """F(w) for every chain: (C, out, in)."""
        import torch

        if self.name == "regular":
            return theta[:, None, :]
        if self.name == "monomial":
            return torch.prod(theta ** self.k, dim=1)[:, None, None]
        f = None
        for w in self._layers(theta):
            f = w if f is None else torch.bmm(w, f)
        return f

    def evaluate(self, theta, idx=None, grad: bool = False):
        """Loss and its analytic gradient (dL/dF = (2DΣ − 2Rᵀ)/(2σ²), pushed through F(w) by the chain rule)."""
        import torch

        if idx is not None:
            raise UserError("toy potentials are exact full-data losses; use batch_size=None (the sufficient "
                            "statistics make the full batch as cheap as any minibatch)")
        theta = theta.detach()
        if self.name in ("regular", "monomial"):
            f = self.effective(theta)
            layers = None
        else:
            layers = self._layers(theta)
            prefix = [layers[0]]  # prefix[l] = W_l ⋯ W_1
            for w in layers[1:]:
                prefix.append(torch.bmm(w, prefix[-1]))
            f = prefix[-1]
        d = f - self.f0
        ds = torch.matmul(d, self.sxx)
        half = ds - self.rt  # (DΣ − Rᵀ): the loss is c0 + s·Σ D∘(DΣ − 2Rᵀ) = c0 + s·Σ D∘(2·half − DΣ)
        loss = (d * (2 * half - ds)).sum((1, 2)).mul_(self.scale).add_(self.c0)
        if not grad:
            return loss, None
        g_f = half * (2 * self.scale)  # (C, out, in)
        if self.name == "regular":
            return loss, g_f[:, 0, :]
        if self.name == "monomial":
            # dg/dw_i = k_i g / w_i, computed without dividing (w_i may be 0)
            C, m = theta.shape
            pw = theta ** self.k
            k1 = theta ** (self.k - 1) * self.k
            others = torch.stack([torch.prod(torch.cat([pw[:, :i], pw[:, i + 1:]], 1), 1) for i in range(m)], 1)
            return loss, g_f[:, 0, 0, None] * k1 * others
        grads, suffix = [None] * len(layers), None  # suffix = W_L ⋯ W_{l+1} (transposed product from the top)
        for l in range(len(layers) - 1, -1, -1):
            left = g_f if suffix is None else torch.bmm(suffix.transpose(1, 2), g_f)
            grads[l] = left if l == 0 else torch.bmm(left, prefix[l - 1].transpose(1, 2))
            suffix = layers[l] if suffix is None else torch.bmm(suffix, layers[l])
        return loss, torch.cat([g.reshape(g.shape[0], -1) for g in grads], 1)


def _module(name: str, p: dict):
    import torch
    from torch import nn

    if name == "regular":
        return nn.Linear(p["d"], 1, bias=False).double()
    if name == "monomial":
        class Monomial(nn.Module):
            def __init__(self, k):
                super().__init__()
                self.w = nn.Parameter(torch.zeros(len(k), dtype=torch.float64))
                self.register_buffer("k", torch.as_tensor(k, dtype=torch.float64))

            def forward(self, x):
                return x * torch.prod(self.w ** self.k)

        return Monomial(p["k"])
    hs = widths_of(name, p)
    return nn.Sequential(*[nn.Linear(hs[l], hs[l + 1], bias=False) for l in range(len(hs) - 1)]).double()
