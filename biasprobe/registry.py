"""One registry type for every family a user can extend (measures, priors, experiments): register, look up, list, plug in.

A plug-in is an installed distribution that declares an entry point in the group
``biasprobe.measures``, ``biasprobe.priors`` or ``biasprobe.experiments``. The entry
point names either a module (importing it registers what it defines, through the
family's decorator) or the object itself (a registered measure function, a prior
class, an ``Experiment``), which the registry then registers under the entry point's
name. Entry points are loaded lazily: a lookup of a built-in name never imports a
plug-in, and a failing plug-in is reported by name and skipped, never taking the
built-ins (or the command line) down with it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from biasprobe.errors import UserError, unknown_name

T = TypeVar("T")


@dataclass(frozen=True)
class Plugin:
    """Where a registered entry came from: its entry point and the distribution that ships it."""

    group: str
    name: str
    value: str
    distribution: str | None
    version: str | None

    def record(self) -> dict:
        return {"group": self.group, "name": self.name, "value": self.value,
                "distribution": self.distribution, "version": self.version}


class PluginError(UserError):
    """A plug-in that failed to import, named: the user can uninstall or fix it."""


class Registry(Generic[T]):
    """Name -> entry, for one family.

    ``adapt(name, obj)`` turns what an entry point loads into a registered entry when
    the import itself registered nothing under the entry point's name; it returns None
    when there is nothing to add (a module that registered its entries under other names).
    """

    def __init__(self, kind: str, group: str, adapt: Callable[[str, object], T | None] | None = None):
        self.kind, self.group = kind, group
        self._entries: dict[str, T] = {}
        self._origin: dict[str, Plugin] = {}
        self._loaded: set[str] = set()  # entry-point names already imported
        self._failed: dict[str, str] = {}
        self._adapt = adapt

    # ---- registering ---------------------------------------------------------------------
    def add(self, name: str, entry: T, *, same: Callable[[T, T], bool] | None = None) -> T:
        """Register `entry` under `name`; re-registering the same definition (a module re-imported) is allowed."""
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(f"{self.kind} name {name!r} must be a non-empty string without surrounding spaces")
        old = self._entries.get(name)
        if old is not None and old is not entry and not (same is not None and same(old, entry)):
            raise UserError(f"{self.kind} {name!r} is registered twice ({_where(old)} and {_where(entry)}); "
                            "register one of them under another name")
        self._entries[name] = entry
        return entry

    def remove(self, name: str) -> None:
        """Forget an entry (tests and interactive sessions that redefine one)."""
        self._entries.pop(name, None)
        self._origin.pop(name, None)

    # ---- plug-ins --------------------------------------------------------------------------
    def _entry_points(self):
        from importlib.metadata import entry_points

        return entry_points(group=self.group)

    def load_plugins(self, only: str | None = None) -> None:
        """Import entry points of this group (one by name, or all) that have not been imported yet."""
        for ep in self._entry_points():
            if ep.name in self._loaded or (only is not None and ep.name != only):
                continue
            self._loaded.add(ep.name)
            before = set(self._entries)
            try:
                obj = ep.load()
                if ep.name not in self._entries:
                    # a module registered what it defines on import; anything else is adapted here
                    entry = self._adapt(ep.name, obj) if self._adapt is not None else obj
                    if entry is not None and not (_is_module(entry) and self._adapt is None):
                        self.add(ep.name, entry)
            except KeyboardInterrupt:
                raise
            except BaseException as err:  # noqa: BLE001 - SystemExit from a plug-in too: it must not end the CLI
                self._failed[ep.name] = f"{type(err).__name__}: {err}"
                warnings.warn(f"{self.kind} plug-in {ep.name!r} ({ep.value}) failed to load and is skipped: "
                              f"{type(err).__name__}: {err}", RuntimeWarning, stacklevel=2)
                continue
            dist = getattr(ep, "dist", None)
            origin = Plugin(self.group, ep.name, ep.value, getattr(dist, "name", None), getattr(dist, "version", None))
            for name in set(self._entries) - before:
                self._origin[name] = origin
            if ep.name in self._entries:
                self._origin.setdefault(ep.name, origin)

    def failed(self) -> dict[str, str]:
        """Plug-ins that failed to load: entry-point name -> the error."""
        return dict(self._failed)

    def plugins(self) -> list[Plugin]:
        """The plug-ins that registered entries so far (for provenance and cache keys)."""
        return sorted(set(self._origin.values()), key=lambda p: (p.group, p.name))

    def origin(self, name: str) -> Plugin | None:
        return self._origin.get(name)

    # ---- looking up ------------------------------------------------------------------------
    def get(self, name: str) -> T:
        """The entry called `name`; an unknown name is a UserError with the close matches and every known name."""
        if name not in self._entries:
            self.load_plugins(only=name)
        if name not in self._entries:
            self.load_plugins()
        if name not in self._entries:
            raise self.unknown(name)
        return self._entries[name]

    def unknown(self, name: str, extra=()) -> UserError:
        err = unknown_name(self.kind, name, {*self._entries, *extra})
        if self._failed:
            return UserError(f"{err}; plug-ins that failed to load: {', '.join(sorted(self._failed))}")
        return err

    def __contains__(self, name: str) -> bool:
        if name not in self._entries:
            self.load_plugins(only=name)
        return name in self._entries

    def names(self) -> list[str]:
        """Sorted names of every entry, plug-ins included."""
        self.load_plugins()
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        for name in self.names():
            yield name, self._entries[name]

    def values(self) -> list[T]:
        return [entry for _, entry in self.items()]

    def builtin(self) -> dict[str, T]:
        """The entries registered so far without loading plug-ins (what the package itself defines)."""
        return dict(self._entries)

    def __len__(self) -> int:
        return len(self.names())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def _is_module(obj) -> bool:
    import types

    return isinstance(obj, types.ModuleType)


def _where(entry) -> str:
    module = getattr(entry, "__module__", None)
    func = getattr(entry, "func", None)
    if func is not None:
        module = getattr(func, "__module__", module)
    source = getattr(entry, "source", None)
    return source or module or type(entry).__name__
