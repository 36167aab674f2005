"""Potentials: a model, its data and its loss as one function of stacked parameters (C chains × d), for `sample_llc`.

A potential has ``n`` (samples), ``dim`` (parameters), ``dtype`` and
``evaluate(theta (C, d), idx (C, b) | None, grad) -> (loss (C,), grad (C, d) | None)``: each chain's
mean per-sample loss over its batch (all n samples when idx is None) and its gradient. The loss must
be a negative log-likelihood per sample (up to a constant): λ̂ is measured in its units, so a
mean-squared error without the 1/(2σ²) of the Gaussian likelihood rescales λ̂ (devinterp's
"temperature" confusion). `ModelPotential` wraps any torch module through `torch.func`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from biasprobe.errors import UserError, unknown_name


def _gaussian(sigma: float):
    def loss(out, y):
        """Gaussian negative log-likelihood per sample without its constant: ‖y − f‖²/(2σ²)."""
        diff = (out - y).reshape(out.shape[0], -1) if out.dim() > 1 else (out - y)[:, None]
        return (diff * diff).sum(1) / (2 * sigma * sigma)
    return loss


def _bce(out, y):
    """Bernoulli negative log-likelihood with logits, summed over outputs (targets in {0, 1})."""
    import torch.nn.functional as F

    val = F.binary_cross_entropy_with_logits(out, y.to(out.dtype).reshape(out.shape), reduction="none")
    return val.reshape(out.shape[0], -1).sum(1)


def _ce(out, y):
    """Categorical negative log-likelihood (cross-entropy) with logits and integer labels."""
    import torch.nn.functional as F

    return F.cross_entropy(out, y.long(), reduction="none")


LOSSES = ("gaussian", "bce", "ce")


def per_sample_loss(loss: str | Callable, sigma: float = 1.0) -> Callable:
    """A per-sample negative log-likelihood (out (b, ...), y (b, ...)) -> (b,) by name, or a callable as given."""
    if callable(loss):
        return loss
    if loss == "gaussian":
        if not (math.isfinite(sigma) and sigma > 0):
            raise UserError(f"gaussian loss needs sigma > 0, got {sigma!r}")
        return _gaussian(float(sigma))
    if loss == "bce":
        return _bce
    if loss == "ce":
        return _ce
    raise unknown_name("loss", str(loss), LOSSES)


class ModelPotential:
    """Any torch module with data tensors (x, y) and a per-sample NLL, evaluated for C parameter vectors at once.

    The module's parameters are flattened in ``named_parameters()`` order; the forward pass is
    ``torch.func.functional_call`` vectorised over the chains with ``torch.func.vmap``, and one
    backward pass of the summed chain losses gives every chain its own gradient (chains never
    share parameters). Buffers are shared, unbatched. The module must be a pure function of its
    parameters and input (no dropout, no batch-norm statistics updates: put it in eval mode).
    """

    def __init__(self, model, x, y, loss: str | Callable = "gaussian", sigma: float = 1.0):
        import torch

        params = dict(model.named_parameters())
        if not params:
            raise UserError(f"model {type(model).__name__} has no parameters: there is nothing to sample")
        x = torch.as_tensor(x)
        y = torch.as_tensor(y)
        if x.shape[0] != y.shape[0] or x.shape[0] < 1:
            raise UserError(f"x and y need the same positive number of samples, got {x.shape[0]} and {y.shape[0]}")
        self.model = model
        self.names = list(params)
        self.shapes = [tuple(p.shape) for p in params.values()]
        self.sizes = [p.numel() for p in params.values()]
        self.dim = sum(self.sizes)
        self.dtype = next(iter(params.values())).dtype
        self.buffers = {k: v.detach() for k, v in model.named_buffers()}
        self.x, self.y = x, y
        self.n = int(x.shape[0])
        self.loss = per_sample_loss(loss, sigma)

    def flat(self):
        """The module's current parameters as one (d,) vector: the natural w*."""
        import torch

        return torch.cat([p.detach().reshape(-1) for p in self.model.parameters()]).to(self.dtype)

    def unflatten(self, theta):
        """(C, d) -> {name: (C, *shape)} views."""
        out, start = {}, 0
        for name, shape, size in zip(self.names, self.shapes, self.sizes):
            out[name] = theta[:, start:start + size].reshape(theta.shape[0], *shape)
            start += size
        return out

    def evaluate(self, theta, idx=None, grad: bool = False):
        import torch
        from torch.func import functional_call, vmap

        theta = theta.detach().requires_grad_(grad)
        params = self.unflatten(theta)
        lossf, model, buffers = self.loss, self.model, self.buffers

        def one(p, xb, yb):
            out = functional_call(model, (p, buffers), (xb,))
            return lossf(out, yb).mean()

        if idx is None:
            losses = vmap(one, in_dims=(0, None, None))(params, self.x, self.y)
        else:
            losses = vmap(one, in_dims=(0, 0, 0))(params, self.x[idx], self.y[idx])
        if not grad:
            return losses.detach(), None
        (g,) = torch.autograd.grad(losses.sum(), theta)
        return losses.detach(), g


def estimate_llc(model, x, y, loss: str | Callable = "gaussian", sigma: float = 1.0, config=None, *,
                 w_star=None, threads: int | None = None, warn: bool = True, **auto):
    """λ̂ at the module's current parameters (or `w_star`) on data (x, y) with a per-sample NLL.

    `config`: an `SGLDConfig`; None chooses ε and γ automatically (`biasprobe.slt.tuning.estimate`,
    which takes chains, draws, burn_in, batch_size, beta, seed, max_draws and the sweep's settings
    as keyword arguments) and records the sweep in ``result.extra['auto']``.
    """
    from biasprobe.slt.sgld import sample_llc

    pot = ModelPotential(model, x, y, loss, sigma)
    w = pot.flat() if w_star is None else w_star
    if config is None:
        from biasprobe.slt.tuning import estimate

        return estimate(pot, w, threads=threads, warn=warn, **auto)
    return sample_llc(pot, w, config, threads=threads, warn=warn)
