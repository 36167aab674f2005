"""The prior registry: `register_prior`, `make_prior(name, **fields)`, `parse_sets(["k=v", ...])`, `describe_priors()`.

Third-party priors arrive through the entry-point group ``biasprobe.priors``: the entry
point names a module whose import registers its priors with ``@register_prior``, or a
prior class itself.
"""

from __future__ import annotations

import dataclasses
import math

from biasprobe.errors import UserError, unknown_name
from biasprobe.priors.base import ACTIVATIONS, Network, Prior
from biasprobe.registry import Registry

__all__ = ["PRIORS", "Prior", "Network", "ACTIVATIONS", "CONVENTIONS", "make_prior", "parse_sets",
           "describe_priors", "register_prior", "get_prior"]


def _check_prior_class(cls) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Prior) and dataclasses.is_dataclass(cls) and cls.name):
        raise TypeError(f"{cls!r}: a prior is a frozen dataclass subclassing biasprobe.priors.Prior "
                        "with a class-level `name`")
    if not cls.__dataclass_params__.frozen:
        raise TypeError(f"prior {cls.name!r}: the dataclass must be frozen (@dataclass(frozen=True))")


def _adapt(name: str, obj):
    import types

    if isinstance(obj, types.ModuleType):
        return None  # its @register_prior decorators ran on import
    _check_prior_class(obj)
    if obj.name != name:
        raise TypeError(f"entry point {name!r} names prior class {obj.__name__} whose name is {obj.name!r}")
    return obj


def _same_class(old, new) -> bool:  # the same class re-imported (a reloaded module) is not a clash
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


PRIORS: Registry[type[Prior]] = Registry("prior", "biasprobe.priors", adapt=_adapt)


def register_prior(cls: type[Prior]) -> type[Prior]:
    """Class decorator adding a frozen-dataclass prior to the registry under ``cls.name``."""
    _check_prior_class(cls)
    PRIORS.add(cls.name, cls, same=_same_class)
    return cls


def get_prior(name: str) -> type[Prior]:
    """The prior class registered as `name` (plug-ins included); UserError with close matches if unknown."""
    return PRIORS.get(name)


from biasprobe.priors.circuits import Circuit  # noqa: E402  (registration)
from biasprobe.priors.counting import Counting  # noqa: E402
from biasprobe.priors.formulas import CNF, DNF  # noqa: E402
from biasprobe.priors.gp import GP  # noqa: E402
from biasprobe.priors.knn import KNN  # noqa: E402
from biasprobe.priors.networks import CONVENTIONS, MLP, Perceptron  # noqa: E402
from biasprobe.priors.polynomial import Polynomial  # noqa: E402
from biasprobe.priors.trees import Tree  # noqa: E402

for _cls in (Perceptron, MLP, Polynomial, Counting, GP, Tree, DNF, CNF, Circuit, KNN):
    register_prior(_cls)


def parse_sets(items) -> dict[str, str]:
    """["hidden=40,40", "activation=tanh"] -> {"hidden": "40,40", ...}; values stay text for make_prior."""
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set {item!r} is not KEY=VALUE")
        if key in out:
            raise UserError(f"--set {key} given twice")
        out[key] = value.strip()
    return out


def make_prior(name: str, **fields) -> Prior:
    """Build a registered prior; values may be Python values or --set text, coerced to the field's type."""
    cls = PRIORS.get(name)
    known = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    values = {}
    for key, value in fields.items():
        if key not in known:
            if not known:
                raise UserError(f"prior {name} has no parameters; got {key}")
            raise unknown_name(f"parameter of prior {name}", key, known)
        values[key] = _coerce(name, key, value, getattr(defaults, key))
    conv = values.get("convention")
    if conv and conv in cls.presets:
        # An explicit field equal to the class default is invisible to __post_init__; check it here.
        for key, preset in cls.presets[conv].items():
            if key in values and values[key] != preset:
                raise UserError(f"prior {name}: convention={conv} sets {key}={_fmt(preset)}"
                                f" but {key}={_fmt(values[key])} was also given; drop one")
    return cls(**values)


def _fmt(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _coerce(prior: str, key: str, value, default):
    kind = type(default)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if math.isnan(number):
                raise ValueError
            return number
        if kind is tuple:
            if isinstance(value, str):
                text = value.strip().strip("()[]")
                parts = [p for p in text.replace(" ", ",").split(",") if p] if text.lower() not in ("", "none") else []
            else:
                parts = list(value)
            out = []
            for p in parts:
                number = float(p)
                if isinstance(p, bool) or not number.is_integer():
                    raise ValueError
                out.append(int(number))
            return tuple(out)
        return str(value)
    except (TypeError, ValueError):
        want = {bool: "true|false", int: "an integer", float: "a number", tuple: "comma-separated integers, e.g. 40,40",
                str: "text"}[kind]
        raise UserError(f"prior {prior}: {key}={value!r} is not {want}") from None


def describe_priors() -> str:
    return "\n".join(cls().describe() for _, cls in PRIORS.items())
