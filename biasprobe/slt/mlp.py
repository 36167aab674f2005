"""Stacked MLPs of the suite's network priors on a domain: initialisation from the prior, batched training, the LLC potential and Hessian flatness.

Parameters of one network are one flat vector laid out as the sampling engine lays out its draws
(layer by layer: W as fan_out × fan_in row-major, then b); C networks are a (C, d) tensor and
every computation is one batched matrix product per layer (`torch.bmm`). A network's real output y
is the bit 1 iff y > 0 (docs/definitions.md §1). Training and the LLC use the Gaussian likelihood with
targets ±1 (y = 2·bit − 1): ℓ(x) = (f(x) − y)²/(2σ²). Unlike the logistic loss, whose infimum on
separable data is never attained, it has true minima — every interpolating network — so w* is the
local minimum the LLC estimator assumes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biasprobe.errors import UserError

POWER = 100  # activation codes >= POWER are x^(code − POWER) (priors.base)


def _activation(code: int):
    import torch

    if code >= POWER:
        k = code - POWER
        return lambda z: z ** k
    table = {0: lambda z: z, 1: torch.relu, 2: torch.tanh, 3: torch.erf, 4: torch.sigmoid,
             5: torch.nn.functional.gelu, 6: torch.sin}
    if code not in table:
        raise UserError(f"unknown activation code {code}")
    return table[code]


@dataclass(frozen=True)
class StackedMLP:
    """A fully connected architecture (widths input … 1, one activation code per layer) and its prior scales."""

    widths: tuple[int, ...]
    activations: tuple[int, ...]
    weight_scale: tuple[float, ...]
    bias_scale: tuple[float, ...]
    distribution: str = "gaussian"

    @classmethod
    def from_prior(cls, prior, domain) -> "StackedMLP":
        """The network a registered prior describes on a domain (`prior.network(domain)`), e.g. mlp convention a."""
        net = prior.network(domain)
        if net is None:
            raise UserError(f"prior {prior.name} does not describe a network; the LLC needs one with parameters")
        return cls(tuple(int(w) for w in net.widths), tuple(int(a) for a in net.activations),
                   tuple(float(s) for s in net.weight_scale), tuple(float(s) for s in net.bias_scale),
                   net.distribution)

    @property
    def dim(self) -> int:
        w = self.widths
        return sum(w[i] * w[i + 1] + w[i + 1] for i in range(len(w) - 1))

    def scales(self) -> np.ndarray:
        """(d,) the prior's standard deviation of every parameter (the raw draw is unit-variance)."""
        out = []
        for l in range(len(self.widths) - 1):
            fi, fo = self.widths[l], self.widths[l + 1]
            out += [np.full(fi * fo, self.weight_scale[l]), np.full(fo, self.bias_scale[l])]
        return np.concatenate(out)

    def init(self, seeds, dtype=None):
        """(len(seeds), d) parameters drawn from the prior, network c from its own SeedSequence seeds[c]."""
        import torch

        dtype = dtype or torch.float32
        scale = torch.as_tensor(self.scales(), dtype=dtype)
        rows = []
        for ss in seeds:
            gen = torch.Generator().manual_seed(int(ss.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1)))
            raw = torch.empty(self.dim, dtype=dtype)
            if self.distribution == "uniform":
                raw.uniform_(-math.sqrt(3.0), math.sqrt(3.0), generator=gen)
            else:
                raw.normal_(generator=gen)
            rows.append(raw * scale)
        return torch.stack(rows) if rows else torch.empty(0, self.dim, dtype=dtype)

    def layers(self, theta):
        """[(W (C, fo, fi), b (C, fo, 1)), ...] views of stacked parameters."""
        C, off, out = theta.shape[0], 0, []
        for l in range(len(self.widths) - 1):
            fi, fo = self.widths[l], self.widths[l + 1]
            w = theta[:, off:off + fi * fo].reshape(C, fo, fi)
            b = theta[:, off + fi * fo:off + fi * fo + fo].reshape(C, fo, 1)
            out.append((w, b))
            off += fi * fo + fo
        return out

    def forward(self, theta, x):
        """Outputs (C, N) of C networks on inputs x (N, k) shared, or (C, N, k) one set per network."""
        import torch

        h = x.transpose(-1, -2)  # (k, N) or (C, k, N)
        if h.dim() == 2:
            h = h.unsqueeze(0).expand(theta.shape[0], -1, -1)
        for (w, b), code in zip(self.layers(theta), self.activations):
            h = _activation(code)(torch.baddbmm(b, w, h))
        return h[:, 0, :]


class MLPPotential:
    """The Gaussian NLL Σ_i m_ci (f_c(x_i) − y_ci)² / (2σ² n) of C stacked networks, each with its own targets and mask.

    x (N, k) inputs shared by all chains; targets (C, N) real (±1 for bits); mask (C, N) bool: the
    training inputs of each chain (every chain the same number n of them). Full batch only (n is
    at most the domain's size): idx must be None.
    """

    def __init__(self, net: StackedMLP, x, targets, mask=None, sigma: float = 1.0, dtype=None):
        import torch

        self.net = net
        self.dtype = dtype or torch.float32
        self.x = torch.as_tensor(np.asarray(x), dtype=self.dtype)
        self.y = torch.as_tensor(np.asarray(targets), dtype=self.dtype)
        if self.y.dim() == 1:
            self.y = self.y[None]
        m = np.ones(self.y.shape, bool) if mask is None else np.asarray(mask, bool)
        if m.ndim == 1:
            m = np.broadcast_to(m, self.y.shape)
        counts = m.sum(1)
        if counts.min() < 1:
            raise UserError("every chain needs at least one training input")
        self.counts = counts
        self.mask = torch.as_tensor(m.astype(np.float32), dtype=self.dtype)
        self.dim = net.dim
        # per-row 1/(2σ²n_c): rows may differ in n for training; the LLC needs one n (see `n`)
        self.scale = torch.as_tensor(1.0 / (2 * sigma * sigma * counts), dtype=self.dtype)

    @property
    def n(self) -> int:
        if self.counts.min() != self.counts.max():
            raise UserError(f"an LLC needs one sample size; these chains train on {sorted(set(self.counts.tolist()))} inputs")
        return int(self.counts[0])

    def rows(self, C: int):
        """Targets and mask for C chains (the stored rows, or one row broadcast)."""
        if self.y.shape[0] == C:
            return self.y, self.mask, self.scale
        if self.y.shape[0] == 1:
            return self.y.expand(C, -1), self.mask.expand(C, -1), self.scale.expand(C)
        raise UserError(f"the potential holds targets for {self.y.shape[0]} chains, asked for {C}")

    def evaluate(self, theta, idx=None, grad: bool = False):
        import torch

        if idx is not None:
            raise UserError("MLPPotential is full batch (batch_size=None)")
        y, m, scale = self.rows(theta.shape[0])
        theta = theta.detach().requires_grad_(grad)
        r = self.net.forward(theta, self.x) - y
        loss = (r * r * m).sum(1) * scale
        if not grad:
            return loss.detach(), None
        (g,) = torch.autograd.grad(loss.sum(), theta)
        return loss.detach(), g


def train(net: StackedMLP, theta0, x, targets, mask=None, *, steps: int = 3000, lr: float = 3e-3,
          final_lr: float = 3e-5, tol: float = 1e-6, threads: int | None = None):
    """Full-batch Adam on the Gaussian NLL (σ = 1) of every network at once, lr decaying geometrically to final_lr.

    Networks are independent (the summed loss gives each its own gradient; Adam is elementwise),
    so training C networks is C independent runs in one computation. Stops early once every
    network's loss is below `tol`. Returns (theta (C, d), loss (C,), steps taken).
    """
    import torch

    from biasprobe.slt.sgld import torch_threads

    pot = MLPPotential(net, x, targets, mask)
    with torch_threads(threads):
        theta = theta0.detach().clone().requires_grad_(True)
        opt = torch.optim.Adam([theta], lr=lr)
        decay = (final_lr / lr) ** (1.0 / max(steps - 1, 1))
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, decay)
        y, m, scale = pot.rows(theta.shape[0])
        done = steps
        for step in range(steps):
            r = net.forward(theta, pot.x) - y
            loss = (r * r * m).sum(1) * scale
            if step % 50 == 0 and float(loss.detach().max()) < tol:
                done = step
                break
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            r = net.forward(theta, pot.x) - y
            loss = (r * r * m).sum(1) * scale
    return theta.detach(), loss.detach(), done


def jacobian(net: StackedMLP, theta, x, chunk: int = 16):
    """(C, N, d) derivatives of every network's output at every input with respect to its parameters."""
    import torch
    from torch.func import jacrev, vmap

    x = torch.as_tensor(np.asarray(x), dtype=theta.dtype)

    def one(p):
        return net.forward(p[None], x)[0]

    parts = [vmap(jacrev(one))(theta[i:i + chunk].detach()) for i in range(0, theta.shape[0], chunk)]
    return torch.cat(parts)


def flatness(net: StackedMLP, theta, x, mask=None, sigma: float = 1.0, rank_tol: float = 1e-6) -> dict:
    """Hessian flatness at interpolating minima: the Gauss–Newton matrix G = JᵀJ/(σ²n) over the training inputs.

    At a point with zero residuals the Hessian of the Gaussian NLL is exactly G (its other term is
    the residuals times the output Hessians), so trace(G) and its top eigenvalue are the 'basin
    radius' flatness of the literature. G's nonzero eigenvalues are those of the n × n matrix
    J Jᵀ/(σ²n), computed here exactly. Also returns rank(J), whose half is the learning coefficient
    if the set of interpolating networks is a smooth manifold at w* (Morse–Bott).
    """
    import torch

    J = jacobian(net, theta, x)  # (C, N, d)
    C, N, _ = J.shape
    m = torch.ones(C, N, dtype=torch.bool) if mask is None else torch.as_tensor(np.asarray(mask, bool)).expand(C, N)
    trace, top, rank = np.empty(C), np.empty(C), np.empty(C, dtype=np.int64)
    for c in range(C):
        Jc = J[c][m[c]].double()
        n = Jc.shape[0]
        ev = torch.linalg.eigvalsh(Jc @ Jc.T / (sigma * sigma * n))
        trace[c] = float(ev.sum())
        top[c] = float(ev[-1])
        rank[c] = int((ev > rank_tol * max(float(ev[-1]), 1e-300)).sum())
    return {"hessian_trace": trace, "hessian_top": top, "jacobian_rank": rank}
