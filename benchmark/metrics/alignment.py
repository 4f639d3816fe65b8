"""DTW alignment of two translation signals on their content features.

fastdtw (Salvador & Chan 2007; the package's C extension, Euclidean distance ``dist=2``,
``radius`` default 2) on the chroma sequences, each frame z-normalised across its 12 pitch
classes (silent frames become zero vectors), so that the squared distance between two
active frames is ``24 * (1 - r)``. The path cost is within 1 % of the exact DTW
(:func:`librosa.sequence.dtw`) on the tests' inputs; time and memory are linear in length.
The ``*_dtw`` scores of :mod:`musebench.metrics.translation` evaluate the normalized
correlation along this path. Timbre is aligned on content (chroma of output vs reference),
never on the timbre features themselves.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .translation_features import Features

__all__ = ["DEFAULT_RADIUS", "alignment_features", "dtw", "align"]

DEFAULT_RADIUS = 2


def alignment_features(f: Features) -> np.ndarray:
    """Frame-normalised chroma, shape (T, 12), float64: zero mean and unit spread across the 12
    pitch classes in each active frame, zero vectors for silent (and constant) frames."""
    c = f.chroma.astype(np.float64)
    c = c - c.mean(axis=1, keepdims=True)
    std = c.std(axis=1, keepdims=True)
    c = np.divide(c, std, out=np.zeros_like(c), where=std > 0)
    c[~f.active] = 0.0
    return c


def dtw(x: np.ndarray, y: np.ndarray, *, radius: int = DEFAULT_RADIUS) -> tuple[float, np.ndarray]:
    """fastdtw (C extension, Euclidean distance) between two (frames, dims) sequences.

    Returns
    -------
    cost : float
        Sum of the Euclidean distances along the path.
    path : np.ndarray, shape=(K, 2), int64
        Monotonic frame pairs from (0, 0) to (T1 - 1, T2 - 1).

    Raises
    ------
    ConfigError
        ``radius`` is not a positive integer (fastdtw 0.3.4's C extension crashes the
        interpreter with radius 0), or fastdtw's C extension is not installed (the pure-Python
        fallback that a plain ``pip install fastdtw`` may give is about 100 times slower).
    """
    try:
        from fastdtw._fastdtw import fastdtw
    except ImportError:
        raise ConfigError("dtw: fastdtw's C extension (fastdtw._fastdtw) is not installed; run scripts/install.sh "
                          "(pip install --no-build-isolation --no-deps fastdtw==0.3.4 with cython)") from None

    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 1:
        raise ConfigError(f"dtw: radius must be a positive integer, not {radius!r}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    cost, path = fastdtw(x, y, radius=int(radius), dist=2)
    return float(cost), np.asarray(path, dtype=np.int64).reshape(-1, 2)


def align(a: Features, b: Features, *, radius: int = DEFAULT_RADIUS) -> tuple[float, np.ndarray]:
    """DTW path between two signals on their frame-normalised chroma (see the module docstring).

    Returns
    -------
    cost : float
    path : np.ndarray, shape=(K, 2), int64
        Pairs (frame of ``a``, frame of ``b``).
    """
    return dtw(alignment_features(a), alignment_features(b), radius=radius)
