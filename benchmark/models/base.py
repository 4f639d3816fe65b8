"""Model interfaces, one per task family.

A model is a class registered in :data:`benchmark.models.MODELS`. The harness constructs it
once per run (``Model(device=..., **params)``), calls :meth:`Model.load` once, then calls the
family method per item. Models never read datasets themselves: the harness hands them audio
at the model's own ``sample_rate`` (mono float32) and, only to models that declare
``uses_reference = True`` (oracles), the reference.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..device import resolve_device
from ..io_utils import sha256_file
from ..types import Item, Notes


@dataclass
class Context:
    """What the harness knows about the item being predicted.

    ``reference`` is only filled for models with ``uses_reference = True``.
    ``seed`` is a per-item seed derived from the run seed and the item id, so that seeded
    models give the same output for an item whatever order or worker it runs in.
    """

    item: Item
    seed: int
    reference: Any = None
    params: dict[str, Any] = field(default_factory=dict)


class Model(ABC):
    name: ClassVar[str]
    family: ClassVar[str]
    version: ClassVar[str] = "1"
    #: sample rate the model wants its input audio at; None = the task's rate
    sample_rate: ClassVar[int | None] = None
    uses_reference: ClassVar[bool] = False
    description: ClassVar[str] = ""

    def __init__(self, *, device: str = "auto", **params: Any):
        self.device = resolve_device(device)
        self.params = params

    def load(self) -> None:
        """Load weights (called once per run, before the first item)."""

    def weights_files(self) -> list[Path]:
        """Files whose sha256 identifies the weights (empty for weightless models)."""
        return []

    def weights_sha256(self) -> str | None:
        files = self.weights_files()
        if not files:
            return None
        if len(files) == 1:
            return sha256_file(files[0])
        import hashlib

        h = hashlib.sha256()
        for f in files:
            h.update(sha256_file(f).encode())
        return h.hexdigest()

    def package_version(self) -> str | None:
        """Version of the package that provides the model, if any."""
        return None

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "version": self.version,
                "package_version": self.package_version(), "params": self.params,
                "weights_sha256": self.weights_sha256(), "device": self.device}


class TranscriptionModel(Model):
    family: ClassVar[str] = "transcription"

    @abstractmethod
    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        """Audio (mono float32, shape (n,)) -> notes."""

    def transcribe_batch(self, audios: list[np.ndarray], *, sample_rate: int,
                         contexts: list[Context]) -> list[Notes]:
        """Several items at once (optional hook; default: :meth:`transcribe` on each in turn).

        Override it when the model gains from batching across items (e.g. on a GPU); the
        runner then hands it groups of ``--batch-items`` items. It must return one
        :class:`Notes` per input, in order, equal to what :meth:`transcribe` gives for each.
        """
        return [self.transcribe(audio, sample_rate=sample_rate, context=context)
                for audio, context in zip(audios, contexts)]

    def batches_items(self) -> bool:
        """True when this model overrides :meth:`transcribe_batch`."""
        return type(self).transcribe_batch is not TranscriptionModel.transcribe_batch


class TranslationModel(Model):
    family: ClassVar[str] = "translation"

    @abstractmethod
    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> np.ndarray:
        """Audio of the source domain -> audio in ``target_domain`` (mono float32 at ``sample_rate``)."""


class GenerationModel(Model):
    family: ClassVar[str] = "generation"

    @abstractmethod
    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        """Generate ``n`` clips of ``seconds`` (continuing ``seed_audio`` when given)."""
