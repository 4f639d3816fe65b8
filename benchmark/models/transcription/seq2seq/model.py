"""The registered seq2seq transcribers: ``mt3`` and ``seq2seq-piano``.

Both are :class:`Seq2SeqTranscriber` with a different shipped checkpoint (and so vocabulary):
``benchmark/data/checkpoints/mt3-tiny`` (multi-instrument: programs, drums, note on/off) and
``seq2seq-piano-tiny`` (piano with velocity bins). ``--param checkpoint=STEM`` runs any
checkpoint written by ``musebench train`` (``STEM.npz`` + ``STEM.json``) of the same model
kind, e.g. a ``small`` one trained on a GPU. See docs/models/seq2seq.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ....errors import ConfigError
from ....types import Notes
from ...base import Context, TranscriptionModel
from ...checkpoints import CheckpointFiles, checkpoint_path

KIND_OF_MODEL = {"mt3": "mt3", "seq2seq-piano": "piano"}


class Seq2SeqTranscriber(TranscriptionModel):
    """MT3-style encoder-decoder transcription from a MuseBench seq2seq checkpoint.

    Parameters
    ----------
    checkpoint : str or None
        Checkpoint stem (or its ``.npz``/``.json``); None = the shipped ``tiny`` one.
    device : str
        ``auto`` (CUDA when visible), ``cpu`` or ``cuda[:N]``.
    batch_size : int
        Segments (2 s each) per encoder/decoder pass, across items with ``--batch-items``.
    max_tokens : int
        Most tokens decoded per 2-s segment (320 = twice the longest synth target).
        A segment that reaches it is cut there; this bounds what a segment stuck in a loop costs.
    num_threads : int or None
        ``torch.set_num_threads`` for CPU inference; None leaves torch's setting alone.
    """

    name: ClassVar[str] = "seq2seq"
    version: ClassVar[str] = "1"
    sample_rate: int = 16000
    description: ClassVar[str] = "MT3-style seq2seq transcriber"

    def __init__(self, *, checkpoint: str | None = None, device: str = "auto", batch_size: int = 32,
                 max_tokens: int = 320, num_threads: int | None = None):
        super().__init__(device=device, checkpoint=checkpoint, batch_size=batch_size, max_tokens=max_tokens,
                         num_threads=num_threads)
        for key, value in (("batch_size", batch_size), ("max_tokens", max_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{self.name}: {key} must be an integer >= 1, not {value!r}")
        if num_threads is not None and (isinstance(num_threads, bool) or not isinstance(num_threads, int)
                                        or num_threads < 1):
            raise ConfigError(f"{self.name}: num_threads must be an integer >= 1, not {num_threads!r}")
        self.checkpoint = checkpoint_path(checkpoint, shipped=f"{self.name}-tiny")
        self.files = CheckpointFiles.of(self.checkpoint)
        self.weights_path, self.config_path = self.files.weights, self.files.config
        self.batch_size, self.max_tokens, self.num_threads = batch_size, max_tokens, num_threads
        self._net: Any = None
        self._vocab: Any = None
        self.checkpoint_config: dict[str, Any] = {}

    def weights_files(self) -> list[Path]:
        return self.files.weights_files()

    def load(self) -> None:
        import torch

        from .checkpoint import CHECKPOINT, build_net

        if self.num_threads:
            torch.set_num_threads(int(self.num_threads))
        arrays, config, _ = CHECKPOINT.load(self.checkpoint)
        kind = config.get("vocabulary", {}).get("kind")
        if kind != KIND_OF_MODEL[self.name]:
            raise ConfigError(f"{self.config_path}: a {kind!r} checkpoint, but {self.name} needs a "
                              f"{KIND_OF_MODEL[self.name]!r} one")
        self._net, self._vocab = build_net(config, arrays, where=str(self.config_path))
        self._net.to(self.device).eval()
        self.checkpoint_config = config

    def info(self) -> dict[str, Any]:
        out = super().info()
        training = self.checkpoint_config.get("training", {})
        out["checkpoint"] = {"path": str(self.weights_path), "size": self.checkpoint_config.get("size"),
                             "steps": training.get("steps"), "best": training.get("best")}
        return out

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        return self.transcribe_batch([audio], sample_rate=sample_rate, contexts=[context])[0]

    def transcribe_batch(self, audios: list[np.ndarray], *, sample_rate: int,
                         contexts: list[Context]) -> list[Notes]:
        """Several items; all their segments share encoder and decoder passes of ``batch_size``."""
        from .inference import transcribe_many

        if self._net is None:
            self.load()
        if sample_rate != self.sample_rate:
            from ....audio import resample

            audios = [resample(a, sample_rate, self.sample_rate) for a in audios]
        notes, self.last_stats = transcribe_many(self._net, self._vocab, audios, batch_size=self.batch_size,
                                                 max_tokens=self.max_tokens, device=self.device)
        return notes


class MT3(Seq2SeqTranscriber):
    name: ClassVar[str] = "mt3"
    description: ClassVar[str] = ("MT3-style multitrack seq2seq transcriber (Gardner et al. 2022), tiny model trained "
                                  "here on synth-ensemble data; programs and drums")


class Seq2SeqPiano(Seq2SeqTranscriber):
    name: ClassVar[str] = "seq2seq-piano"
    description: ClassVar[str] = ("Seq2seq piano transcriber (Hawthorne et al. 2021), tiny model trained here on "
                                  "synth-piano data; velocities")
