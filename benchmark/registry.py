"""One generic registry, used once per extension point (datasets, models, metrics, ...).

Entries are registered eagerly (an object) or lazily (a ``"module:attr"`` string that is
imported on first use), so listing what exists never imports heavy backends such as torch.
Third-party packages add entries through a Python entry point group.
"""
from __future__ import annotations

import importlib
from importlib import metadata
from typing import Generic, TypeVar
from collections.abc import Iterator

from .errors import ConfigError, UnknownNameError

T = TypeVar("T")


def import_target(target: str):
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ConfigError(f"registry target {target!r} is not of the form 'module:attr'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ConfigError(f"registry target {target!r}: module has no attribute {attr!r}") from exc


class Registry(Generic[T]):
    """A name -> object map with lazy targets, duplicate rejection and close-match errors.

    Parameters
    ----------
    kind : str
        What the entries are ("model", "dataset", ...), used in error messages.
    entry_point_group : str, optional
        Entry point group scanned (once, on first lookup) for third-party entries.
    """

    def __init__(self, kind: str, *, entry_point_group: str | None = None):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T | str] = {}
        self._entry_points_loaded = entry_point_group is None
        self._sources: list = []

    def add_source(self, source) -> None:
        """Add a callable returning ``{name: target}``, consulted anew on every lookup (for entries
        that live in user files, such as datasets added with ``musebench datasets add``).
        Registered and entry-point entries take precedence."""
        self._sources.append(source)

    def _dynamic(self) -> dict[str, T | str]:
        out: dict[str, T | str] = {}
        for source in self._sources:
            for name, target in source().items():
                if name not in self._entries:
                    out.setdefault(name, target)
        return out

    def register(self, name: str, target: T | str | None = None, *, replace: bool = False):
        """Register ``target`` (an object or a lazy ``"module:attr"`` string) under ``name``.

        Used without ``target`` it is a class/function decorator.
        """
        if target is None:
            def decorator(obj: T) -> T:
                self.register(name, obj, replace=replace)
                return obj
            return decorator
        if name in self._entries and not replace:
            existing = self._entries[name]
            if existing is not target:
                raise ConfigError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = target
        return target

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        if self.entry_point_group is None:
            return
        for ep in metadata.entry_points(group=self.entry_point_group):
            if ep.name not in self._entries:
                self._entries[ep.name] = ep.value

    def get(self, name: str) -> T:
        """Return the entry called ``name``, importing it if it is lazy."""
        self._load_entry_points()
        if name not in self._entries:
            dynamic = self._dynamic() if self._sources else {}
            if name in dynamic:
                return dynamic[name]  # type: ignore[return-value]
            raise UnknownNameError(self.kind, name, {**self._entries, **dynamic})
        target = self._entries[name]
        if isinstance(target, str):
            target = import_target(target)
            self._entries[name] = target
        return target

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted({*self._entries, *(self._dynamic() if self._sources else {})})

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._entries or (bool(self._sources) and name in self._dynamic())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
