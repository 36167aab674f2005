"""Random perceptrons and fully connected networks (MLPs), with the parameter conventions of docs/definitions.md §1."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from biasprobe import activations
from biasprobe.errors import UserError
from biasprobe.priors.base import WEIGHTS, Network, Prior, cube_code, fan_in_scale, input_features

BIAS_SCALINGS = ("fixed", "fan_in", "sigma_w_fan_out")

# The parameter conventions of docs/definitions.md §1 for 7-40-40-1 ReLU networks. They move
# P(constant function) from 0.217 (b) to 0.728 (a), 3.4x (measured); results name theirs.
#   a: W ~ N(0, 1/fan_in), b ~ N(0, 1) (Gaussian)
#   b: hidden weights and biases uniform with variance 2/fan_in (biases scaled by the layer's fan_in too);
#      the output layer's variance scale makes no difference to the sign of a ReLU net's output
#   c: W ~ N(0, 2/fan_in), b ~ N(0, 2) (He-style Gaussian)
CONVENTIONS = {
    "a": dict(sigma_w=1.0, sigma_b=1.0, weights="gaussian", bias_scaling="fixed"),
    "b": dict(sigma_w=math.sqrt(2), sigma_b=math.sqrt(2), weights="uniform", bias_scaling="fan_in"),
    "c": dict(sigma_w=math.sqrt(2), sigma_b=math.sqrt(2), weights="gaussian", bias_scaling="fixed"),
}


MAX_SIGMA = 1e30  # parameters are float32 (max 3.4e38): a larger scale makes every draw overflow


def check_sigma(prior: str, **sigmas: float) -> None:
    for key, value in sigmas.items():
        if not (math.isfinite(value) and 0 <= value <= MAX_SIGMA):
            raise UserError(f"prior {prior}: {key}={value} must be a finite number in [0, {MAX_SIGMA:g}] "
                            "(the engine computes in float32)")


def check_weights(prior: str, weights: str) -> None:
    if weights not in WEIGHTS:
        raise UserError(f"prior {prior}: weights={weights!r}; valid: {', '.join(WEIGHTS)}")


@dataclass(frozen=True)
class Perceptron(Prior):
    """1 iff w.x + b > 0 with w_i ~ N(0, sigma_w^2/n) and b ~ N(0, sigma_b^2) (Mingard et al. 2019)."""

    bias: bool = True
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    weights: str = "gaussian"

    name: ClassVar[str] = "perceptron"
    summary: ClassVar[str] = "1 iff w.x + b > 0; w ~ N(0, sigma_w^2/n), b ~ N(0, sigma_b^2)"
    field_help: ClassVar[dict[str, str]] = {
        "bias": "false: b = 0 (the perceptron theorem's setting)",
        "weights": "gaussian | uniform (same variance)",
    }

    def __post_init__(self):
        check_sigma(self.name, sigma_w=self.sigma_w, sigma_b=self.sigma_b)
        check_weights(self.name, self.weights)

    def network(self, domain) -> Network:
        n = domain.dim
        return Network(
            features=input_features(domain),
            widths=(n, 1),
            activations=(0,),
            weight_scale=(fan_in_scale(self.sigma_w, n),),
            bias_scale=(float(self.sigma_b) if self.bias else 0.0,),
            distribution=self.weights,
            cube=cube_code(domain),
        )


@dataclass(frozen=True)
class MLP(Prior):
    """Fully connected network n-h_1-...-h_L-1, thresholded at 0 (Valle-Perez et al., ICLR 2019).

    Default (convention a): W ~ N(0, sigma_w^2/fan_in), b ~ N(0, sigma_b^2).
    ``bias_scaling=fan_in`` gives b variance sigma_b^2/fan_in; ``bias_scaling=sigma_w_fan_out``
    gives b standard deviation sigma_b * sigma_w / fan_out, so sigma_b sigma_w / width in the
    hidden layers and sigma_b sigma_w at the output unit: the convention of the sampler
    released with Mingard et al. (Nat. Commun. 2025), ``Plot1/data/sample_1abgh.py``;
    ``weights=uniform``
    draws weights and biases uniformly with the same variance. ``convention`` =
    a | b | c sets sigma_w, sigma_b, weights and bias_scaling to docs/definitions.md §1's
    presets; empty means "use the fields as given".
    """

    hidden: tuple[int, ...] = (40, 40)
    activation: str = "relu"
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    weights: str = "gaussian"
    bias_scaling: str = "fixed"
    convention: str = ""

    name: ClassVar[str] = "mlp"
    presets: ClassVar[dict[str, dict]] = CONVENTIONS
    summary: ClassVar[str] = "fully connected network n-hidden-1; W ~ N(0, sigma_w^2/fan_in), b ~ N(0, sigma_b^2)"
    field_help: ClassVar[dict[str, str]] = {
        "hidden": "hidden widths, e.g. 40,40",
        "activation": " | ".join(activations.NAMES),
        "weights": "gaussian | uniform (same variance, biases too)",
        "bias_scaling": "fixed: b ~ N(0, sigma_b^2) | fan_in: b ~ N(0, sigma_b^2/fan_in) | "
                        "sigma_w_fan_out: b ~ N(0, (sigma_b sigma_w/fan_out)^2) "
                        "(Mingard et al. 2025's released sampler)",
        "convention": "a | b | c presets of docs/definitions.md §1 (sets sigma_w, sigma_b, weights, bias_scaling)",
    }

    def __post_init__(self):
        apply_convention(self, self.presets)
        check_hidden(self.name, self.hidden)
        activations.code(self.activation)  # UserError with the known names
        check_sigma(self.name, sigma_w=self.sigma_w, sigma_b=self.sigma_b)
        check_weights(self.name, self.weights)
        if self.bias_scaling not in BIAS_SCALINGS:
            raise UserError(f"prior mlp: bias_scaling={self.bias_scaling!r}; valid: {', '.join(BIAS_SCALINGS)}")

    def network(self, domain) -> Network:
        return dense_network(
            input_features(domain), self.hidden, activations.code(self.activation),
            self.sigma_w, self.sigma_b, self.bias_scaling, self.weights, cube_code(domain),
        )


def bias_scales(widths, sigma_w: float, sigma_b: float, bias_scaling: str) -> tuple[float, ...]:
    """The standard deviation of each layer's biases for a network of these widths (input first)."""
    fans, outs = widths[:-1], widths[1:]
    if bias_scaling == "fan_in":
        return tuple(fan_in_scale(sigma_b, f) for f in fans)
    if bias_scaling == "sigma_w_fan_out":
        return tuple(float(sigma_b) * float(sigma_w) / o for o in outs)
    return tuple(float(sigma_b) for _ in fans)


def dense_network(features, hidden, act_code, sigma_w, sigma_b, bias_scaling, weights, cube=0) -> Network:
    widths = (features.shape[0], *hidden, 1)
    return Network(
        features=features,
        widths=widths,
        activations=tuple([act_code] * len(hidden) + [0]),
        weight_scale=tuple(fan_in_scale(sigma_w, f) for f in widths[:-1]),
        bias_scale=bias_scales(widths, sigma_w, sigma_b, bias_scaling),
        distribution=weights,
        cube=cube,
    )


def check_hidden(prior: str, hidden) -> None:
    if any(int(h) < 1 for h in hidden):
        raise UserError(f"prior {prior}: hidden={','.join(map(str, hidden))} needs positive widths")


def apply_convention(prior, presets: dict) -> None:
    """Resolve ``convention`` into the fields it fixes; a field set to another non-default value is an error."""
    if not prior.convention:
        return
    if prior.convention not in presets:
        raise UserError(f"prior {prior.name}: convention={prior.convention!r}; valid: {', '.join(presets)} or empty")
    defaults = type(prior).__dataclass_fields__
    for key, value in presets[prior.convention].items():
        current = getattr(prior, key)
        if current != defaults[key].default and current != value:
            shown = f"{value:.6g}" if isinstance(value, float) else value
            raise UserError(f"prior {prior.name}: convention={prior.convention} sets {key}={shown}"
                            f" but {key}={current} was also given; drop one")
        object.__setattr__(prior, key, value)
