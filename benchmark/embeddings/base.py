"""The embedding interface: audio -> one vector per analysis window.

An embedding turns a mono clip into a matrix of shape ``(n_windows, dim)``: frame-level
features pooled over windows of ``window_seconds`` every ``hop_seconds`` (like FAD's
VGGish frames). Fréchet distances fit one Gaussian to all windows of a set of clips; the
memorization check compares windows of a generated clip with windows of training clips.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ..errors import BadInputError, ConfigError


def pool_windows(features: np.ndarray, *, frame_rate: float, window_seconds: float, hop_seconds: float,
                 stats: tuple[str, ...] = ("mean",)) -> np.ndarray:
    """Pool frame-level features over windows.

    Parameters
    ----------
    features : np.ndarray, shape=(n_frames, d)
        Frame-level features at ``frame_rate`` frames per second.
    frame_rate : float
        Frames per second of ``features``.
    window_seconds, hop_seconds : float
        Window length and hop. A clip shorter than one window gives one window (all frames).
    stats : tuple of {"mean", "std"}
        Statistics concatenated per window, in this order.

    Returns
    -------
    np.ndarray, shape=(n_windows, d * len(stats)), float64
        ``n_windows = 1 + floor((n_frames - window) / hop)`` (at least 1).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) == 0:
        raise BadInputError(f"pool_windows: features must be a non-empty 2-D array, got shape {features.shape}")
    win = max(1, int(round(window_seconds * frame_rate)))
    hop = max(1, int(round(hop_seconds * frame_rate)))
    if len(features) <= win:
        starts = [0]
        win = len(features)
    else:
        starts = list(range(0, len(features) - win + 1, hop))
    pooled = []
    for s in starts:
        chunk = features[s:s + win]
        parts = []
        for stat in stats:
            if stat == "mean":
                parts.append(chunk.mean(axis=0))
            elif stat == "std":
                parts.append(chunk.std(axis=0))
            else:
                raise ConfigError(f"pool_windows: unknown statistic {stat!r} (known: mean, std)")
        pooled.append(np.concatenate(parts))
    return np.stack(pooled)


class Embedding(ABC):
    """Base class of embeddings registered in :data:`musebench.embeddings.EMBEDDINGS`.

    Subclasses set :attr:`name`, :attr:`sample_rate` and :attr:`dim` and implement
    :meth:`frames` (frame-level features) or override :meth:`embed` entirely (e.g. a network
    that already gives one vector per window).

    Parameters
    ----------
    window_seconds : float
        Pooling window (default 1 s).
    hop_seconds : float
        Pooling hop (default 0.5 s).
    device : str
        ``cpu``, ``cuda`` or ``auto`` for embeddings that run a network.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    #: sample rate the embedding analyses audio at (input is resampled)
    sample_rate: ClassVar[int]
    #: statistics of the frame features pooled per window
    stats: ClassVar[tuple[str, ...]] = ("mean",)

    def __init__(self, *, window_seconds: float = 1.0, hop_seconds: float = 0.5, device: str = "cpu",
                 **params: Any):
        if params:
            raise ConfigError(f"embedding {self.name!r}: unknown parameter(s) {', '.join(sorted(params))}")
        if window_seconds <= 0 or hop_seconds <= 0:
            raise ConfigError(f"embedding {self.name!r}: window_seconds and hop_seconds must be positive")
        self.window_seconds = float(window_seconds)
        self.hop_seconds = float(hop_seconds)
        self.device = device

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of one window's vector."""

    def frames(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        """Frame-level features of ``audio`` (at :attr:`sample_rate`): (features, frame rate)."""
        raise NotImplementedError

    def embed(self, audio: np.ndarray, *, sample_rate: int) -> np.ndarray:
        """Embed one mono clip.

        Parameters
        ----------
        audio : np.ndarray, shape=(n,)
        sample_rate : int

        Returns
        -------
        np.ndarray, shape=(n_windows, dim), float64
        """
        from ..audio import resample, validate_audio

        audio = validate_audio(audio, name=f"embedding {self.name} input")
        if audio.ndim != 1:
            raise BadInputError(f"embedding {self.name}: audio must be mono, got shape {audio.shape}")
        if sample_rate != self.sample_rate:
            audio = resample(audio, sample_rate, self.sample_rate)
        features, rate = self.frames(audio)
        return pool_windows(features, frame_rate=rate, window_seconds=self.window_seconds,
                            hop_seconds=self.hop_seconds, stats=self.stats)

    def with_windows(self, *, window_seconds: float, hop_seconds: float) -> Embedding:
        """A copy pooling over other windows; it shares whatever the original loaded (a network)."""
        import copy

        if window_seconds <= 0 or hop_seconds <= 0:
            raise ConfigError(f"embedding {self.name!r}: window_seconds and hop_seconds must be positive")
        other = copy.copy(self)
        other.window_seconds = float(window_seconds)
        other.hop_seconds = float(hop_seconds)
        return other

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "dim": self.dim, "sample_rate": self.sample_rate,
                "window_seconds": self.window_seconds, "hop_seconds": self.hop_seconds}
