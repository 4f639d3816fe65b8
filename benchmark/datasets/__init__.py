"""The dataset registry: one module per dataset, found automatically.

A dataset module in this package (``maestro.py``, ``slakh.py``, ``synth.py``, ...) declares its
dataset(s) with the :func:`register_dataset` class decorator; nothing else lists it. Importing
``musebench.datasets`` imports no dataset module: on the first lookup (``DATASETS.get``,
``names``, ``in``) every module of the package is imported once, so each registers its classes,
and then third-party datasets come from the ``musebench.datasets`` entry point group (a built-in
name wins). Datasets added with ``musebench datasets add`` come from the user's config folder:
:mod:`musebench.datasets.own` adds them as a registry source when it is imported (on the first
lookup, like every module here). A module whose name starts with ``_`` is not imported.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any, TypeVar

from ..registry import Registry
from .base import Dataset, Manifest, VerifyReport, register_root

D = TypeVar("D", bound=type[Dataset])


class DatasetRegistry(Registry[type[Dataset]]):
    """:class:`~musebench.registry.Registry` that imports this package's modules before its
    first lookup, so that every dataset module registers itself (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("dataset", entry_point_group="musebench.datasets")
        self._discovered = False

    def _load_entry_points(self) -> None:
        if not self._discovered:
            self._discovered = True  # before importing: a module may look a dataset up at import
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
                if not info.name.startswith("_"):
                    importlib.import_module(f"{__name__}.{info.name}")
        super()._load_entry_points()


DATASETS = DatasetRegistry()


def register_dataset(cls: D) -> D:
    """Class decorator of a dataset module: register ``cls`` under ``cls.name``."""
    DATASETS.register(cls.name, cls)
    return cls


def get_dataset(name: str, **kwargs: Any) -> Dataset:
    """Instantiate the dataset registered as ``name``."""
    return DATASETS.get(name)(**kwargs)


__all__ = ["DATASETS", "Dataset", "DatasetRegistry", "Manifest", "VerifyReport", "get_dataset", "register_dataset",
           "register_root"]
