"""Score translations made elsewhere: a directory of audio files, one per item.

``musebench run --task T --model predictions --param path=DIR`` reads ``DIR/<item_id>.wav``
(or ``.flac``) for each item instead of running a model, at the file's own sample rate and
channel count; the translation family resamples, mixes down and aligns it (and says so in the
item's record) exactly as for any other model output. The run records the directory and a
sha256 over its audio files.
"""
from __future__ import annotations

import os
from typing import ClassVar

import numpy as np

from ..base import Context, TranslationModel
from ..predictions_dir import PredictionsDirectory

AUDIO_SUFFIXES = (".wav", ".flac")


class AudioPredictions(PredictionsDirectory, TranslationModel):
    """Audio read from ``<path>/<item_id>.wav`` (or ``.flac``).

    Parameters
    ----------
    path : path-like
        Directory holding one audio file per item, named by item id.
    """

    name: ClassVar[str] = "predictions"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "Reads precomputed translations: <path>/<item_id>.wav or .flac per item."

    suffixes = AUDIO_SUFFIXES
    file_kind = "audio"

    def __init__(self, *, path: str | os.PathLike | None = None, name: str | None = None, device: str = "auto"):
        directory = self._set_directory(path)
        super().__init__(device="cpu" if device == "auto" else device, path=directory, **self._label(name))

    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> tuple[np.ndarray, int]:
        """Returns ``(audio, file_sample_rate)`` with the file's channels ((n,) or (n, channels))."""
        from ...audio import load_audio

        return load_audio(self.path_for(context.item.id), sample_rate=None, mono=False)
