"""``basic-pitch``: the pitch posteriorgram of the bundled Basic Pitch network.

Runs the ICASSP 2022 ONNX model shipped inside the ``basic-pitch`` package through
onnxruntime (the session and windowing of :class:`musebench.models.transcription.basic_pitch.BasicPitch`,
so the activations equal basic_pitch's own ``run_inference``) and pools the 88-key note
posteriorgram (86 frames per second, values in [0, 1]) into one 88-dimensional mean per
window. It answers "which pitches sound, how strongly", regardless of timbre.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .base import Embedding

N_KEYS = 88


class BasicPitchEmbedding(Embedding):
    name: ClassVar[str] = "basic-pitch"
    sample_rate: ClassVar[int] = 22050

    def __init__(self, *, window_seconds: float = 1.0, hop_seconds: float = 0.5, device: str = "cpu",
                 num_threads: int | None = None):
        super().__init__(window_seconds=window_seconds, hop_seconds=hop_seconds, device=device)
        self.num_threads = num_threads
        self._shared: dict[str, Any] = {}  # the loaded network, shared with with_windows() copies

    @property
    def dim(self) -> int:
        return N_KEYS

    def _network(self):
        if "model" not in self._shared:
            from ..models.transcription.basic_pitch import BasicPitch

            model = BasicPitch(device=self.device, num_threads=self.num_threads)
            model.load()
            self._shared["model"] = model
        return self._shared["model"]

    def posteriorgram(self, audio: np.ndarray, *, sample_rate: int) -> np.ndarray:
        """The note posteriorgram of a mono clip, shape (n_frames, 88), 86 frames per second."""
        from ..audio import resample

        if sample_rate != self.sample_rate:
            audio = resample(np.asarray(audio, dtype=np.float32), sample_rate, self.sample_rate)
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            note = self._network().activations(audio)["note"]
        if len(note) == 0:
            note = np.zeros((1, N_KEYS), np.float32)
        return note.astype(np.float64)

    def frames(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        from ..models.transcription.basic_pitch import FRAMES_PER_SECOND

        return self.posteriorgram(audio, sample_rate=self.sample_rate), float(FRAMES_PER_SECOND)

    def weights_file(self) -> Path:
        from ..models.transcription.basic_pitch import onnx_model_path

        return onnx_model_path()

    def info(self) -> dict[str, Any]:
        from ..io_utils import sha256_file

        return {**super().info(), "weights_sha256": sha256_file(self.weights_file())}
