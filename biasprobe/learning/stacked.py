"""Stacked MLPs: R independent networks as one tensor computation (baddbmm), and SGD/Adam steps on the stack.

Layout (shared with `biasprobe.doubledescent.mlp`): parameters are a flat list
[W_1, b_1, W_2, b_2, ...] with W_l of shape (R, fan_in, fan_out) and b_l of shape
(R, 1, fan_out); inputs are (R, B, fan_in). Every operation acts on each run's
slice alone (the sums of a run's loss never mix runs), so a run's numbers do not
depend on which other runs share the stack, provided the stack holds at least two
runs (torch takes a different product kernel for a batch of one; `forward` callers
pad to two, see `biasprobe.learning.training`).
"""

from __future__ import annotations

import math

from biasprobe import activations as _activations


def activation(code: int):
    """The torch function of a prior's activation code (one definition: biasprobe.activations)."""
    _activations.check(code)
    return lambda z: _activations.torch_apply(z, code)


def forward(params, x, activations):
    """Outputs (R, B, out) of the stacked networks on inputs x (R, B, in); `activations`: one callable per layer."""
    import torch

    h = x
    for k, act in zip(range(0, len(params), 2), activations):
        h = act(torch.baddbmm(params[k + 1], h, params[k]))
    return h


class SGD:
    """torch.optim.SGD's update (momentum, no dampening or weight decay) on stacked tensors; state is per run."""

    def __init__(self, params, lr: float, momentum: float = 0.0):
        import torch

        self.lr, self.momentum = float(lr), float(momentum)
        # A zero buffer makes the first step buf = grad, as torch.optim.SGD's first step does.
        self.state = [torch.zeros_like(p) for p in params] if momentum else []

    @property
    def tensors(self):
        return self.state

    def step(self, params, grads) -> None:
        import torch

        with torch.no_grad():
            # one dispatch per operation for all tensors (what torch.optim's foreach path does)
            if self.momentum:
                torch._foreach_mul_(self.state, self.momentum)
                torch._foreach_add_(self.state, grads)
                torch._foreach_add_(params, self.state, alpha=-self.lr)
            else:
                torch._foreach_add_(params, grads, alpha=-self.lr)

    def select(self, keep) -> None:
        self.state = [s[keep] for s in self.state]


class Adam:
    """torch.optim.Adam's update (bias-corrected, no weight decay) on stacked tensors.

    Every run in a stack has taken the same number of steps (runs start together and
    leave for good), so one step counter serves them all.
    """

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        import torch

        self.lr, self.eps = float(lr), float(eps)
        self.b1, self.b2 = (float(b) for b in betas)
        self.t = 0
        self.state = [torch.zeros_like(p) for p in params] + [torch.zeros_like(p) for p in params]

    @property
    def tensors(self):
        return self.state

    def step(self, params, grads) -> None:
        import torch

        self.t += 1
        n = len(params)
        c1 = 1 - self.b1**self.t
        c2 = math.sqrt(1 - self.b2**self.t)
        m, v = self.state[:n], self.state[n:]
        with torch.no_grad():
            torch._foreach_lerp_(m, grads, 1 - self.b1)
            torch._foreach_mul_(v, self.b2)
            torch._foreach_addcmul_(v, grads, grads, value=1 - self.b2)
            denom = torch._foreach_sqrt(v)
            torch._foreach_div_(denom, c2)
            torch._foreach_add_(denom, self.eps)
            torch._foreach_addcdiv_(params, m, denom, value=-self.lr / c1)

    def select(self, keep) -> None:
        self.state = [s[keep] for s in self.state]
