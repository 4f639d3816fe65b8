"""Model registries, one per task family (the same name, e.g. ``oracle`` or ``predictions``,
exists in several families).

Built-in models are lazy ``"module:Class"`` targets, so listing them imports no backend.
Third-party packages add models through the ``musebench.models`` entry point group; the
entry point's name is the model name and its class's ``family`` attribute says where it goes::

    [project.entry-points."musebench.models"]
    my-transcriber = "my_package.model:MyTranscriber"
"""
from __future__ import annotations

import importlib
from importlib import metadata

from ..errors import UnknownNameError
from ..registry import Registry, import_target
from .base import Context, GenerationModel, Model, TranscriptionModel, TranslationModel

ENTRY_POINT_GROUP = "musebench.models"

MODELS: dict[str, Registry[type[Model]]] = {
    family: Registry(f"{family} model") for family in ("transcription", "translation", "generation")
}

# Built-in models: each family subpackage's __init__ declares BUILTIN = {name: "module:Class"}
# (cheap to import: no backend is loaded until a model is looked up).
for _family in MODELS:
    _pkg = importlib.import_module(f"{__name__}.{_family}")
    for _name, _target in getattr(_pkg, "BUILTIN", {}).items():
        MODELS[_family].register(_name, _target)

_entry_points_loaded = False


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        cls = import_target(ep.value)
        family = getattr(cls, "family", None)
        if family in MODELS and ep.name not in MODELS[family].names():
            MODELS[family].register(ep.name, cls)


def get_model_class(name: str, *, family: str = "transcription") -> type[Model]:
    """The model class called ``name`` in ``family``."""
    _load_entry_points()
    if family not in MODELS:
        raise UnknownNameError("task family", family, MODELS)
    return MODELS[family].get(name)


def model_names(family: str | None = None) -> dict[str, list[str]]:
    _load_entry_points()
    return {f: reg.names() for f, reg in MODELS.items() if family in (None, f)}


__all__ = ["MODELS", "Context", "Model", "TranscriptionModel", "TranslationModel", "GenerationModel",
           "get_model_class", "model_names"]
