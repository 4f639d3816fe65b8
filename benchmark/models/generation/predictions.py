"""Score audio generated elsewhere: a directory of audio files, one per item.

``musebench run --task synth-continuation --model predictions --param path=DIR`` reads
``DIR/<item_id>.wav`` (or ``.flac``, ``.ogg``, ``.mp3``) for each item instead of running a
model: for ``synth-continuation`` the item ids are the test items' (``piano-test-000`` ...) and
each file holds only the continuation; for ``synth-unconditional`` they are ``clip-000`` ...
The run records the directory and a sha256 over its audio files.
"""
from __future__ import annotations

import os
from typing import ClassVar

import numpy as np

from ...audio import load_audio
from ...errors import ModelError
from ..base import Context, GenerationModel
from ..predictions_dir import PredictionsDirectory

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


class AudioPredictions(PredictionsDirectory, GenerationModel):
    """Audio read from ``<path>/<item_id>.<wav|flac|ogg|mp3>`` (mono mix, resampled as needed).

    Parameters
    ----------
    path : path-like
        Directory holding one audio file per item, named by item id.
    """

    name: ClassVar[str] = "predictions"
    description: ClassVar[str] = "Reads generated audio made elsewhere: <path>/<item_id>.wav per item."

    suffixes = AUDIO_SUFFIXES
    file_kind = "audio"

    def __init__(self, *, path: str | os.PathLike | None = None, name: str | None = None, device: str = "auto"):
        directory = self._set_directory(path)
        super().__init__(device="cpu", path=directory, **self._label(name))

    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        if context is None:
            raise ModelError("predictions: needs the item context to find its file")
        if n != 1:
            raise ModelError(f"predictions: one file per item, cannot return {n} clips")
        audio, _ = load_audio(self.path_for(context.item.id), sample_rate=sample_rate)
        return [audio]
