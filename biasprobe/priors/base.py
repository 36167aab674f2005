"""The prior protocol: a frozen dataclass of parameters that either describes a random network or draws outputs itself."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from biasprobe import activations
from biasprobe.activations import POWER  # noqa: F401  (re-exported: code POWER + k is x^k)
from biasprobe.errors import UserError

# Activation name -> kernel code (biasprobe.activations is the one definition).
ACTIVATIONS = {a.label: int(a) for a in activations.Activation}
WEIGHTS = ("gaussian", "uniform")
FAMILIES = ("boolean", "grid", "cloud")


@dataclass(frozen=True)
class Network:
    """A random fully connected network on fixed input features, in the form the sampling engine runs.

    Every parameter is drawn with unit variance (standard normal, or uniform on
    [-sqrt 3, sqrt 3]) in one contiguous block per draw, laid out layer by layer as
    W (fan_out x fan_in, row-major) then b (fan_out); layer l multiplies its raw
    weights by ``weight_scale[l]`` and its raw biases by ``bias_scale[l]``.
    """

    features: np.ndarray  # (K, N) float32: the K inputs of the network at every canonical point
    widths: tuple[int, ...]  # (K, h_1, ..., 1)
    activations: tuple[int, ...]  # one code per layer; the last layer's is the output's (0 = linear)
    weight_scale: tuple[float, ...]
    bias_scale: tuple[float, ...]
    distribution: str = "gaussian"
    cube: int = 0  # 1: features are {0,1}^n in lexicographic order, 2: {-1,+1}^n (the engine's fast first layer)

    def __post_init__(self):
        if len(self.activations) != len(self.widths) - 1:
            raise ValueError(f"{len(self.widths) - 1} layers need as many activation codes, got {self.activations}")
        for c in self.activations:
            activations.check(c)  # an unknown code is a bug, never a silent identity

    @property
    def n_params(self) -> int:
        w = self.widths
        return sum(w[i] * w[i + 1] + w[i + 1] for i in range(len(w) - 1))

    @property
    def flops(self) -> int:
        """Multiply-adds x 2 for one draw on all points (the bench's FLOP count)."""
        w = self.widths
        return 2 * self.features.shape[1] * sum(w[i] * w[i + 1] for i in range(len(w) - 1))


class Prior:
    """Base of every prior; subclasses are frozen dataclasses registered in `biasprobe.priors.PRIORS`.

    A subclass implements either ``network(domain) -> Network`` (run by the fast
    engine) or ``draw_outputs(rng, count, domain) -> (count, N) float32`` real
    outputs on the canonical points from an explicit ``np.random.Generator``; draw i
    must depend only on the start of the stream (a shorter run is a prefix of a longer
    one). ``domains`` lists the domain families it is defined on ("boolean", "grid",
    "cloud"); the sampler refuses any other with one line.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    field_help: ClassVar[dict[str, str]] = {}
    domains: ClassVar[tuple[str, ...]] = ("boolean", "grid", "cloud")
    presets: ClassVar[dict[str, dict]] = {}  # convention name -> the fields it fixes

    def network(self, domain):  # pragma: no cover - overridden
        return None

    def check_domain(self, domain) -> None:
        """UserError unless this prior is defined on the domain's family."""
        if domain.family not in self.domains:
            raise UserError(f"prior {self.name} does not apply to {domain.family} domain {domain}; "
                            f"it applies to: {', '.join(self.domains)}")

    def draw_outputs(self, rng: np.random.Generator, count: int, domain) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define network() or draw_outputs()")

    def params(self) -> dict:
        """Resolved parameters, JSON-ready (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def describe(self) -> str:
        """One line per field: name, type, default, meaning (what `biasprobe list priors` prints)."""
        where = "" if set(self.domains) >= {"boolean", "grid", "cloud"} else f" [domains: {', '.join(self.domains)}]"
        lines = [f"  {self.name:11s} {self.summary}{where}"]
        for f in dataclasses.fields(self):
            default = getattr(type(self)(), f.name)
            if isinstance(default, tuple):
                default = ",".join(map(str, default)) or "(none)"
            lines.append(f"      {f.name}={default}  {self.field_help.get(f.name, '')}".rstrip())
        return "\n".join(lines)

    def label(self) -> str:
        """Short human name, e.g. 'mlp(hidden=40,40 activation=relu)': only non-default fields."""
        default = type(self)()
        fixed = self.presets.get(getattr(self, "convention", ""), {})
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v != getattr(default, f.name) and f.name not in fixed:
                parts.append(f"{f.name}={','.join(map(str, v)) if isinstance(v, tuple) else v}")
        return f"{self.name}({' '.join(parts)})" if parts else self.name


def input_features(domain) -> np.ndarray:
    """(dim, N) float32 canonical points, transposed for the engine.

    Cubes are built bit by bit in float32: going through ``domain.points`` would hold its int64
    digits and float64 points as well (6.4 GB beside these 1.6 GB on bool:24).
    """
    if domain.kind in ("bool", "pm1"):
        index = np.arange(domain.n_points, dtype=np.int64)
        feats = np.empty((domain.dim, domain.n_points), np.float32)
        for i in range(domain.dim):  # coordinate 0 is the most significant bit of the point's index
            bit = (index >> (domain.dim - 1 - i)) & 1
            feats[i] = bit if domain.kind == "bool" else 2 * bit - 1
        return feats
    return np.ascontiguousarray(domain.points.T, dtype=np.float32)


def cube_code(domain) -> int:
    """Network.cube for a network whose features are the domain's own coordinates."""
    return {"bool": 1, "pm1": 2}.get(domain.kind, 0)


def fan_in_scale(sigma: float, fan_in: int) -> float:
    return float(sigma) / math.sqrt(fan_in)
