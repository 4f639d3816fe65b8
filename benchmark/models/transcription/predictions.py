"""Score transcriptions made elsewhere: a directory of MIDI files, one per item.

``musebench run <task> --model predictions --param path=DIR`` reads ``DIR/<item_id>.mid`` (or
``.midi``) for each item instead of running a model. The run records the directory and a
sha256 over its MIDI files, so two runs on different prediction sets are told apart.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError, MissingDataError
from ...io_utils import sha256_file
from ...midi import read_midi
from ...types import Notes
from ..base import Context, TranscriptionModel

MIDI_SUFFIXES = (".mid", ".midi")


class MidiPredictions(TranscriptionModel):
    """Notes read from ``<path>/<item_id>.mid`` (or ``.midi``).

    Parameters
    ----------
    path : path-like
        Directory holding one MIDI file per item, named by item id.
    sustain_pedal : bool
        Extend note offsets by the files' sustain pedal (CC64) when reading (default False).
    """

    name: ClassVar[str] = "predictions"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "Reads precomputed transcriptions: <path>/<item_id>.mid per item."

    def __init__(self, *, path: str | os.PathLike | None = None, sustain_pedal: bool = False,
                 device: str = "auto"):
        if path is None or str(path) == "":
            raise ConfigError("predictions: parameter 'path' (directory of <item_id>.mid files) is required")
        self.directory = Path(path).expanduser().resolve()
        super().__init__(device="cpu" if device == "auto" else device, path=str(self.directory),
                         sustain_pedal=bool(sustain_pedal))
        self.sustain_pedal = bool(sustain_pedal)
        self._digest: str | None = None

    def _check_directory(self) -> None:
        if not self.directory.is_dir():
            raise MissingDataError(f"{self.directory}: predictions directory not found")

    def load(self) -> None:
        self._check_directory()

    def midi_files(self) -> list[Path]:
        """The MIDI files of the directory (not recursive), sorted by name."""
        self._check_directory()
        return sorted(p for p in self.directory.iterdir() if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES)

    def weights_sha256(self) -> str | None:
        """sha256 over ``name NUL sha256(file) LF`` of every MIDI file, in name order."""
        if self._digest is None:
            h = hashlib.sha256()
            for f in self.midi_files():
                h.update(f"{f.name}\0{sha256_file(f)}\n".encode())
            self._digest = h.hexdigest()
        return self._digest

    def info(self) -> dict[str, Any]:
        out = super().info()
        out["predictions_dir"] = str(self.directory)
        out["predictions_files"] = len(self.midi_files())
        return out

    def path_for(self, item_id: str) -> Path:
        """The MIDI file of ``item_id``; :class:`MissingDataError` when there is none."""
        for suffix in MIDI_SUFFIXES:
            candidate = self.directory / f"{item_id}{suffix}"
            if candidate.is_file():
                return candidate
        raise MissingDataError(f"predictions: no MIDI file for item {item_id!r} "
                               f"(expected {self.directory / (item_id + '.mid')} or .midi)")

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        return read_midi(self.path_for(context.item.id), sustain_pedal=self.sustain_pedal)
