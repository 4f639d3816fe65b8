"""Task families: how the harness feeds a model, stores its prediction and scores it.

The runner moves items through a family without knowing what a metric or a model is:
``predict`` -> ``save_prediction`` -> ``load_prediction`` -> ``score``; ``aggregate`` adds
set-level metrics (e.g. Frechet distances) once per run.
"""
from __future__ import annotations

from ..registry import Registry
from .base import Family

FAMILIES: Registry[type[Family]] = Registry("task family")
FAMILIES.register("transcription", "musebench.families.transcription:TranscriptionFamily")
FAMILIES.register("translation", "musebench.families.translation:TranslationFamily")
FAMILIES.register("generation", "musebench.families.generation:GenerationFamily")


def get_family(name: str) -> Family:
    return FAMILIES.get(name)()


__all__ = ["FAMILIES", "Family", "get_family"]
