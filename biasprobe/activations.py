"""Activation functions as one enum shared by the priors, the numba kernel and the torch path.

Codes are small integers because the numba kernel dispatches on them; powers x^k
(polynomial networks) get ``POWER + k``. An unknown code is an error here and NaN
in the kernel (never the identity).
"""

from __future__ import annotations

import enum

from biasprobe.errors import UserError, unknown_name

POWER = 100  # code POWER + k is x^k
MAX_POWER = 64


class Activation(enum.IntEnum):
    LINEAR = 0
    RELU = 1
    TANH = 2
    ERF = 3
    SIGMOID = 4
    GELU = 5
    SIN = 6

    @property
    def label(self) -> str:
        return self.name.lower()


NAMES = tuple(a.label for a in Activation)


def code(name: str) -> int:
    """'relu' -> 1; an unknown name is a UserError listing the known ones."""
    try:
        return int(Activation[str(name).upper()])
    except KeyError:
        raise unknown_name("activation", str(name), NAMES) from None


def power(k: int) -> int:
    if not 1 <= int(k) <= MAX_POWER:
        raise UserError(f"power activation x^{k}: the degree must be 1..{MAX_POWER}")
    return POWER + int(k)


def check(c: int) -> int:
    """A valid kernel code, or ValueError (a bug: codes come from `code` or `power`)."""
    c = int(c)
    if c in Activation._value2member_map_ or POWER + 1 <= c <= POWER + MAX_POWER:
        return c
    raise ValueError(f"unknown activation code {c}; valid: {sorted(Activation._value2member_map_)} "
                     f"or {POWER + 1}..{POWER + MAX_POWER} (powers)")


def describe(c: int) -> str:
    c = check(c)
    return f"x^{c - POWER}" if c >= POWER else Activation(c).label


def torch_apply(z, c: int):
    """The activation of code `c` on a torch tensor (the CUDA path and batched training)."""
    import torch

    c = check(c)
    if c >= POWER:
        return z ** (c - POWER)
    a = Activation(c)
    if a is Activation.LINEAR:
        return z
    if a is Activation.RELU:
        return torch.relu(z)
    if a is Activation.TANH:
        return torch.tanh(z)
    if a is Activation.ERF:
        return torch.erf(z)
    if a is Activation.SIGMOID:
        return torch.sigmoid(z)
    if a is Activation.GELU:
        return torch.nn.functional.gelu(z)
    return torch.sin(z)
