"""Tiny copies of the real datasets in their official layouts, for tests.

Each ``build_<dataset>(base)`` writes a few items under ``base/<dataset>/`` in the real layout and
file formats (CSV, YAML, JAMS-schema JSON, MIDI, label CSV, note TXT, examples JSON, WAV/FLAC with
a couple of seconds of synthetic audio) and a *fixture manifest* ``base/<dataset>-manifest.json``:
the shipped manifest's entries for the chosen (real) item ids, with checksums of the fixture files
where the real manifest has published ones. It returns a :class:`Fixture` with the root, the
manifest path, and the known reference notes of each item so tests can assert exact values.

Datasets are opened on a fixture with ``get_dataset(name, root=fx.root, manifest=fx.manifest)``.

One module per dataset (``maestro.py``, ``slakh.py``, ...), found automatically: a module that sets
``DATASET`` (the registered name) and defines ``build(base) -> Fixture`` is in :data:`BUILDERS`
(and is also ``build_<module>`` here). Shared helpers are in :mod:`fixtures_datasets.common`.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

from .common import SR, Fixture, fixture_manifest, md5, notes, tone, write_flac, write_wav
from .maestro import MAESTRO_IDS

_fixture_manifest = fixture_manifest  # the name the tests used first

BUILDERS: dict[str, Callable[[Path], Fixture]] = {}
for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    if hasattr(_module, "DATASET") and hasattr(_module, "build"):
        BUILDERS[_module.DATASET] = _module.build
        globals()[f"build_{_info.name}"] = _module.build


def build_all(base: Path) -> dict[str, Fixture]:
    return {name: build(base) for name, build in BUILDERS.items()}


__all__ = ["BUILDERS", "MAESTRO_IDS", "SR", "Fixture", "build_all", "fixture_manifest", "md5", "notes", "tone",
           "write_flac", "write_wav"]
