"""Floors and ceilings of the generation tasks.

``noise``
    Coloured Gaussian noise at a fixed RMS level, seeded: every automatic metric must rank it
    last (a floor).
``copy-train``
    Returns excerpts of training clips: real music, so it scores well on Fréchet distances and
    descriptors — which is exactly why the memorization check exists (it must flag every clip).
``oracle``
    The reference itself (the true continuation, or a real test clip): the ceiling.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...audio import load_audio
from ...errors import ConfigError, ModelError
from ..base import Context, GenerationModel

#: spectral slope of each noise colour: power spectral density proportional to f ** -exponent
COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}


def coloured_noise(n_samples: int, *, rng: np.random.Generator, colour: str = "pink",
                   rms_db: float = -20.0) -> np.ndarray:
    """Gaussian noise with power spectral density ~ ``f ** -exponent``, scaled to ``rms_db`` dBFS.

    Parameters
    ----------
    n_samples : int
    rng : np.random.Generator
    colour : {"white", "pink", "brown"}
    rms_db : float
        RMS level in dB relative to full scale.

    Returns
    -------
    np.ndarray, shape=(n_samples,), float32
    """
    if colour not in COLOURS:
        raise ConfigError(f"noise colour must be one of {', '.join(COLOURS)}, not {colour!r}")
    white = rng.standard_normal(n_samples)
    spectrum = np.fft.rfft(white)
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = freqs[1] if len(freqs) > 1 else 1.0
    spectrum *= freqs ** (-COLOURS[colour] / 2.0)
    noise = np.fft.irfft(spectrum, n=n_samples)
    noise -= noise.mean()
    rms = float(np.sqrt(np.mean(noise ** 2))) or 1.0
    return (noise * (10.0 ** (rms_db / 20.0) / rms)).astype(np.float32)


class Noise(GenerationModel):
    """Coloured noise (floor). Parameters: ``colour`` (white, pink, brown), ``rms_db`` (default -20)."""

    name: ClassVar[str] = "noise"
    description: ClassVar[str] = "floor: seeded coloured (pink by default) Gaussian noise at -20 dBFS RMS"

    def __init__(self, *, device: str = "auto", colour: str = "pink", rms_db: float = -20.0):
        super().__init__(device="cpu", colour=colour, rms_db=rms_db)
        if colour not in COLOURS:
            raise ConfigError(f"model noise: colour must be one of {', '.join(COLOURS)}, not {colour!r}")
        self.colour = colour
        self.rms_db = float(rms_db)

    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        n_samples = int(round(seconds * sample_rate))
        return [coloured_noise(n_samples, rng=rng, colour=self.colour, rms_db=self.rms_db) for _ in range(n)]


class CopyTrain(GenerationModel):
    """Returns excerpts of training clips (shows why the memorization check matters).

    The generation family hands it the training items in ``context.params["train_items"]``.
    With a seed, the excerpt starts where the seed ends (``context.params["seed_seconds"]``)
    in a training clip drawn with ``rng``; without one, at a random offset.
    """

    name: ClassVar[str] = "copy-train"
    description: ClassVar[str] = "parrot: returns excerpts of training clips (must be flagged as memorized)"

    def __init__(self, *, device: str = "auto"):
        super().__init__(device="cpu")
        self._cache: dict[tuple[str, int], np.ndarray] = {}

    def _audio(self, item: Any, sample_rate: int) -> np.ndarray:
        key = (str(item.audio_path), sample_rate)
        if key not in self._cache:
            self._cache[key] = load_audio(item.audio_path, sample_rate=sample_rate)[0]
        return self._cache[key]

    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        params = context.params if context is not None else {}
        items = list(params.get("train_items") or [])
        if not items:
            raise ModelError("model copy-train: no training items in context.params['train_items']")
        n_samples = int(round(seconds * sample_rate))
        clips = []
        for _ in range(n):
            audio = self._audio(items[int(rng.integers(len(items)))], sample_rate)
            room = len(audio) - n_samples
            if seed_audio is not None:
                start = int(round(float(params.get("seed_seconds", 0.0)) * sample_rate))
                start = min(max(start, 0), max(room, 0))
            else:
                start = int(rng.integers(0, room + 1)) if room > 0 else 0
            clip = audio[start:start + n_samples]
            if len(clip) < n_samples:
                clip = np.concatenate([clip, np.zeros(n_samples - len(clip), np.float32)])
            clips.append(clip.astype(np.float32))
        return clips


class Oracle(GenerationModel):
    """The reference clip itself: the true continuation, or a real test clip (ceiling)."""

    name: ClassVar[str] = "oracle"
    uses_reference: ClassVar[bool] = True
    description: ClassVar[str] = "ceiling: the true continuation (or real test clip) itself"

    def __init__(self, *, device: str = "auto"):
        super().__init__(device="cpu")

    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        if context is None or context.reference is None:
            raise ModelError("model oracle: no reference in the context (uses_reference models need one)")
        ref = context.reference
        if getattr(ref, "sample_rate", sample_rate) != sample_rate:
            raise ModelError(f"model oracle: reference is at {ref.sample_rate} Hz, asked for {sample_rate} Hz")
        audio = np.asarray(getattr(ref, "audio", ref), dtype=np.float32)
        return [audio.copy() for _ in range(n)]
