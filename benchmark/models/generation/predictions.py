"""Score audio generated elsewhere: a directory of audio files, one per item.

``musebench run --task synth-continuation --model predictions --param path=DIR`` reads
``DIR/<item_id>.wav`` (or ``.flac``, ``.ogg``, ``.mp3``) for each item instead of running a
model: for ``synth-continuation`` the item ids are the test items' (``piano-test-000`` ...) and
each file holds only the continuation; for ``synth-unconditional`` they are ``clip-000`` ...
The run records the directory and a sha256 over its audio files.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...audio import load_audio
from ...errors import ConfigError, MissingDataError, ModelError
from ...io_utils import sha256_file
from ..base import Context, GenerationModel

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


class AudioPredictions(GenerationModel):
    """Audio read from ``<path>/<item_id>.<wav|flac|ogg|mp3>`` (mono mix, resampled as needed).

    Parameters
    ----------
    path : path-like
        Directory holding one audio file per item, named by item id.
    """

    name: ClassVar[str] = "predictions"
    description: ClassVar[str] = "Reads generated audio made elsewhere: <path>/<item_id>.wav per item."

    def __init__(self, *, path: str | os.PathLike | None = None, device: str = "auto"):
        if path is None or str(path) == "":
            raise ConfigError("predictions: parameter 'path' (directory of <item_id>.wav files) is required")
        self.directory = Path(path).expanduser().resolve()
        super().__init__(device="cpu", path=str(self.directory))
        self._digest: str | None = None

    def load(self) -> None:
        if not self.directory.is_dir():
            raise MissingDataError(f"{self.directory}: predictions directory not found")

    def audio_files(self) -> list[Path]:
        """The audio files of the directory (not recursive), sorted by name."""
        self.load()
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
                               f"(expected {self.directory / (item_id + '.wav')} or .flac/.ogg/.mp3)")

    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        if context is None:
            raise ModelError("predictions: needs the item context to find its file")
        if n != 1:
            raise ModelError(f"predictions: one file per item, cannot return {n} clips")
        audio, _ = load_audio(self.path_for(context.item.id), sample_rate=sample_rate)
        return [audio]
