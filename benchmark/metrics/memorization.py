"""Memorization: how close generated clips come to the training clips.

:func:`build_memorization_index` indexes the training windows and calibrates on held-out
real clips; :func:`memorization_distance` scores one generated clip (1 = a typical novel
clip, 0 = a copy); :func:`memorized_ratio` is the share of clips flagged as copies.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import BadInputError, ConfigError
from .distances import single_thread_blas, validate_embeddings
from .stats import bootstrap_mean_ci

__all__ = ["THRESHOLD_FACTOR", "MemorizationIndex", "build_memorization_index", "memorization_distance",
           "memorized_ratio"]

#: a clip is flagged as memorized below this fraction of the smallest held-out distance
THRESHOLD_FACTOR = 0.5


@dataclass
class MemorizationIndex:
    """Training windows to search, and the calibration that turns distances into flags.

    Attributes
    ----------
    bank : np.ndarray, shape=(m, d)
        Training-clip windows, standardised per dimension (``(x - mean) / std``).
    mean, std : np.ndarray, shape=(d,)
        The standardisation (from the training windows).
    scale : float
        Median raw distance of the calibration (held-out real) clips; distances are divided by it,
        so a typical held-out clip scores 1.0 and an exact copy 0.0.
    calibration : np.ndarray
        Normalised distances of the calibration clips.
    threshold : float
        ``threshold_factor * min(calibration)``: clips below it are flagged as copies.
    """

    bank: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    scale: float
    calibration: np.ndarray
    threshold: float
    threshold_factor: float
    n_train_clips: int
    extra: dict[str, Any] = field(default_factory=dict)

    def raw_distance(self, windows: np.ndarray) -> float:
        """Median over the clip's windows of the distance to the nearest training window.

        Distances are Euclidean in the standardised space divided by ``sqrt(d)`` (a root mean
        square per dimension).
        """
        q = (np.asarray(windows, dtype=np.float64) - self.mean) / self.std
        with single_thread_blas():
            d2 = (np.sum(q * q, axis=1)[:, None] + np.sum(self.bank * self.bank, axis=1)[None, :]
                  - 2.0 * q @ self.bank.T)
        nearest = np.sqrt(np.clip(d2.min(axis=1), 0.0, None) / q.shape[1])
        return float(np.median(nearest))

    def summary(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "threshold_factor": self.threshold_factor,
                "calibration_min": float(self.calibration.min()), "calibration_median": 1.0,
                "n_calibration": int(len(self.calibration)), "n_train_clips": self.n_train_clips,
                "n_train_windows": int(len(self.bank)), **self.extra}


def build_memorization_index(train: Sequence[np.ndarray], calibration: Sequence[np.ndarray], *,
                             threshold_factor: float = THRESHOLD_FACTOR) -> MemorizationIndex:
    """Index training-clip windows and calibrate the copy threshold on held-out real clips.

    Parameters
    ----------
    train : sequence of np.ndarray, each shape=(n_i, d)
        Window embeddings of the training clips (use a small hop, e.g. 0.1 s, so that a copy
        taken at any offset has a window within half a hop of a training window).
    calibration : sequence of np.ndarray
        Window embeddings of real clips the model never saw, cut like the generated clips
        (the task's reference clips). Their distances define "novel": the median becomes 1.0,
        and the threshold is ``threshold_factor`` times the smallest of them.
    threshold_factor : float
        In (0, 1].
    """
    if not 0 < threshold_factor <= 1:
        raise ConfigError(f"memorization threshold_factor must be in (0, 1], not {threshold_factor}")
    tr = validate_embeddings(train, name="memorization: training clips")
    cal = validate_embeddings(calibration, name="memorization: calibration clips")
    pooled = np.concatenate(tr)
    mean = pooled.mean(axis=0)
    std = pooled.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    index = MemorizationIndex(bank=(pooled - mean) / std, mean=mean, std=std, scale=1.0,
                              calibration=np.zeros(0), threshold=0.0, threshold_factor=threshold_factor,
                              n_train_clips=len(tr))
    raw = np.array([index.raw_distance(c) for c in cal])
    scale = float(np.median(raw))
    if scale <= 0:
        raise BadInputError("memorization: the calibration clips are copies of training clips (median distance 0)")
    index.scale = scale
    index.calibration = raw / scale
    index.threshold = float(threshold_factor * index.calibration.min())
    return index


def memorization_distance(windows: np.ndarray, index: MemorizationIndex) -> float:
    """Normalised distance of a generated clip to its nearest training windows (1 = typical novel clip)."""
    w = validate_embeddings([windows], name="memorization: generated clip")[0]
    if w.shape[1] != index.bank.shape[1]:
        raise BadInputError(f"memorization: clip embedding dim {w.shape[1]} != index dim {index.bank.shape[1]}")
    return index.raw_distance(w) / index.scale


def memorized_ratio(distances: Sequence[float], *, threshold: float, seed: int = 0) -> dict[str, Any]:
    """Share of clips whose memorization distance is below ``threshold``, with a bootstrap CI.

    Returns
    -------
    dict
        ``mean`` (the share), ``ci_low``, ``ci_high``, ``n``, ``n_flagged``, ``threshold``.
    """
    d = np.asarray(distances, dtype=np.float64)
    flags = (d < threshold).astype(np.float64)
    ci = bootstrap_mean_ci(flags, seed=seed)
    return {**ci.to_json(), "n_flagged": int(flags.sum()), "threshold": float(threshold)}
