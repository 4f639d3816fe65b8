"""One exception root for MuseBench, with a few subclasses.

Every error MuseBench raises on purpose derives from :class:`MuseBenchError`, and its
message is a single line that names the file or item and what is wrong with it.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class MuseBenchError(Exception):
    """Root of every error raised by MuseBench."""


class BadInputError(MuseBenchError, ValueError):
    """An input file, array or annotation is malformed (corrupt audio, NaN, empty MIDI, ...)."""


class MissingDataError(MuseBenchError, FileNotFoundError):
    """A file or dataset that should exist does not (not prepared, not registered, deleted)."""


class ModelError(MuseBenchError, RuntimeError):
    """A model failed to load, raised while predicting, or returned garbage."""


class ConfigError(MuseBenchError, ValueError):
    """A task file, study file or option is invalid."""


class UnknownNameError(MuseBenchError, LookupError):
    """A registry lookup failed; the message suggests close matches."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = f" (known: {', '.join(known)})" if not close and known else ""
        super().__init__(f"unknown {kind} {name!r}{hint}{listing}")
        self.kind, self.name, self.suggestions = kind, name, close


class IncomparableError(MuseBenchError):
    """Two runs cannot be compared (different task version, data fingerprint or item set)."""


class ModelLoadError(ModelError):
    """``Model.load()`` failed (or crashed its worker): the run stops, nothing is scored."""


class DiskFullError(MuseBenchError, OSError):
    """A write failed for lack of space; the run stops and resumes once there is space."""


class RunLockedError(MuseBenchError):
    """Another ``musebench run`` holds the run directory's lock."""
