"""Score transcriptions made elsewhere: a directory of MIDI files, one per item.

``musebench run <task> --model predictions --param path=DIR`` reads ``DIR/<item_id>.mid`` (or
``.midi``) for each item instead of running a model. The run records the directory and a
sha256 over its MIDI files, so two runs on different prediction sets are told apart.
"""
from __future__ import annotations

import os
from typing import ClassVar

import numpy as np

from ...midi import read_prediction
from ...types import Notes
from ..base import Context, TranscriptionModel
from ..predictions_dir import PredictionsDirectory

MIDI_SUFFIXES = (".mid", ".midi")


class MidiPredictions(PredictionsDirectory, TranscriptionModel):
    """Notes read from ``<path>/<item_id>.mid`` (or ``.midi``).

    Parameters
    ----------
    path : path-like
        Directory holding one MIDI file per item, named by item id.
    sustain_pedal : bool
        Extend note offsets by the files' sustain pedal (CC64) when reading (default False).
    name : str, optional
        The submission's label on the leaderboard (default ``predictions:<folder name>``).
    """

    name: ClassVar[str] = "predictions"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "Reads precomputed transcriptions: <path>/<item_id>.mid per item."

    suffixes = MIDI_SUFFIXES
    file_kind = "MIDI"

    def __init__(self, *, path: str | os.PathLike | None = None, sustain_pedal: bool = False,
                 name: str | None = None, device: str = "auto"):
        directory = self._set_directory(path)
        super().__init__(device="cpu" if device == "auto" else device, path=directory,
                         sustain_pedal=bool(sustain_pedal), **self._label(name))
        self.sustain_pedal = bool(sustain_pedal)

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        # a run's own predictions folder: its exact notes (<id>.notes.json) when they are there
        return read_prediction(self.path_for(context.item.id), sustain_pedal=self.sustain_pedal)
