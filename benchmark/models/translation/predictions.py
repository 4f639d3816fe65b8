"""Score translations made elsewhere: a directory of audio files, one per item.

``musebench run --task T --model predictions --param path=DIR`` reads ``DIR/<item_id>.wav``
(or ``.flac``) for each item instead of running a model, at the file's own sample rate and
channel count; the translation family resamples, mixes down and aligns it (and says so in the
item's record) exactly as for any other model output. The run records the directory and a
sha256 over its audio files.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError, MissingDataError
from ...io_utils import sha256_file
from ..base import Context, TranslationModel

AUDIO_SUFFIXES = (".wav", ".flac")


class AudioPredictions(TranslationModel):
    """Audio read from ``<path>/<item_id>.wav`` (or ``.flac``).

    Parameters
    ----------
    path : path-like
        Directory holding one audio file per item, named by item id.
    """

    name: ClassVar[str] = "predictions"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "Reads precomputed translations: <path>/<item_id>.wav or .flac per item."

    def __init__(self, *, path: str | os.PathLike | None = None, device: str = "auto"):
        if path is None or str(path) == "":
            raise ConfigError("predictions: parameter 'path' (directory of <item_id>.wav files) is required")
        self.directory = Path(path).expanduser().resolve()
        super().__init__(device="cpu" if device == "auto" else device, path=str(self.directory))
        self._digest: str | None = None

    def _check_directory(self) -> None:
        if not self.directory.is_dir():
            raise MissingDataError(f"{self.directory}: predictions directory not found")

    def load(self) -> None:
        self._check_directory()

    def audio_files(self) -> list[Path]:
        """The audio files of the directory (not recursive), sorted by name."""
        self._check_directory()
        return sorted(p for p in self.directory.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)

    def weights_sha256(self) -> str | None:
        """sha256 over ``name NUL sha256(file) LF`` of every audio file, in name order."""
        if self._digest is None:
            h = hashlib.sha256()
            for f in self.audio_files():
                h.update(f"{f.name}\0{sha256_file(f)}\n".encode())
            self._digest = h.hexdigest()
        return self._digest

    def info(self) -> dict[str, Any]:
        out = super().info()
        out["predictions_dir"] = str(self.directory)
        out["predictions_files"] = len(self.audio_files())
        return out

    def path_for(self, item_id: str) -> Path:
        """The audio file of ``item_id``; :class:`MissingDataError` when there is none."""
        for suffix in AUDIO_SUFFIXES:
            candidate = self.directory / f"{item_id}{suffix}"
            if candidate.is_file():
                return candidate
        raise MissingDataError(f"predictions: no audio file for item {item_id!r} "
                               f"(expected {self.directory / (item_id + '.wav')} or .flac)")

    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> tuple[np.ndarray, int]:
        """Returns ``(audio, file_sample_rate)`` with the file's channels ((n,) or (n, channels))."""
        from ...audio import load_audio

        return load_audio(self.path_for(context.item.id), sample_rate=None, mono=False)
