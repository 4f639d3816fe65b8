"""FFT frames of raw audio, and their overlap-add resynthesis (numpy only).

The seed LSTM generators work on a sequence of short-time Fourier frames: each frame is the
real FFT of ``frame_size`` samples under a periodic square-root Hann window, taken every
``hop_size`` samples (``hop_size = frame_size / 2``), stored as the concatenation of its
real and imaginary parts (``frame_size + 2`` numbers). Synthesis applies the inverse FFT,
the same window again, and overlap-adds; with a square-root Hann window at 50 % overlap the
windows sum to one, so :func:`synthesize` inverts :func:`analyze` exactly (up to float
rounding) — generated frames become audio with no extra step.

Frame ``k`` covers samples ``[(k - 1) * hop, (k + 1) * hop)`` of the signal (zero-padded on
both sides), so every sample lies under exactly two frames; ``ceil(n / hop) + 1`` frames
cover ``n`` samples, and the first ``floor(n / hop)`` frames lie entirely inside them
(:func:`inner_frames`) — a seed of ``n`` samples determines those frames and a generator
continues from there.
"""
from __future__ import annotations

import numpy as np

from ...errors import BadInputError


def window(frame_size: int) -> np.ndarray:
    """Periodic square-root Hann window, shape (frame_size,), float64."""
    n = np.arange(frame_size)
    return np.sqrt(0.5 - 0.5 * np.cos(2.0 * np.pi * n / frame_size))


def _check(frame_size: int, hop_size: int) -> None:
    if frame_size < 4 or frame_size % 2 or hop_size * 2 != frame_size:
        raise BadInputError(f"FFT frames: frame_size must be even and twice hop_size, "
                            f"got frame_size={frame_size}, hop_size={hop_size}")


def n_frames(n_samples: int, *, hop_size: int) -> int:
    """Number of frames that cover ``n_samples`` samples: ``ceil(n_samples / hop_size) + 1``."""
    return -(-int(n_samples) // int(hop_size)) + 1


def inner_frames(n_samples: int, *, hop_size: int) -> int:
    """Number of leading frames that lie entirely inside ``n_samples`` samples."""
    return int(n_samples) // int(hop_size)


def analyze(audio: np.ndarray, *, frame_size: int, hop_size: int) -> np.ndarray:
    """Audio -> FFT frames.

    Parameters
    ----------
    audio : np.ndarray, shape=(n,)
        Mono audio.
    frame_size, hop_size : int
        FFT size and hop in samples (``frame_size == 2 * hop_size``).

    Returns
    -------
    np.ndarray, shape=(ceil(n / hop_size) + 1, frame_size + 2), float32
        Per frame, the real parts of the ``frame_size // 2 + 1`` FFT bins, then the imaginary
        parts.
    """
    _check(frame_size, hop_size)
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    count = n_frames(len(audio), hop_size=hop_size)
    padded = np.zeros((count + 1) * hop_size, np.float64)
    padded[hop_size:hop_size + len(audio)] = audio
    idx = np.arange(frame_size)[None, :] + hop_size * np.arange(count)[:, None]
    spectrum = np.fft.rfft(padded[idx] * window(frame_size), axis=1)
    return np.concatenate([spectrum.real, spectrum.imag], axis=1).astype(np.float32)


def synthesize(frames: np.ndarray, *, frame_size: int, hop_size: int, n_samples: int | None = None) -> np.ndarray:
    """FFT frames -> audio by inverse FFT, windowing and overlap-add.

    Parameters
    ----------
    frames : np.ndarray, shape=(n_frames, frame_size + 2)
    frame_size, hop_size : int
    n_samples : int, optional
        Length of the output (default ``(n_frames - 1) * hop_size``, all samples that two
        frames cover).

    Returns
    -------
    np.ndarray, shape=(n_samples,), float32
    """
    _check(frame_size, hop_size)
    frames = np.asarray(frames, dtype=np.float64)
    n_bins = frame_size // 2 + 1
    if frames.ndim != 2 or frames.shape[1] != 2 * n_bins:
        raise BadInputError(f"FFT frames: expected shape (n, {2 * n_bins}), got {frames.shape}")
    count = len(frames)
    spectrum = frames[:, :n_bins] + 1j * frames[:, n_bins:]
    chunks = np.fft.irfft(spectrum, n=frame_size, axis=1) * window(frame_size)
    out = np.zeros((count + 1) * hop_size, np.float64)
    for k in range(count):
        out[k * hop_size:k * hop_size + frame_size] += chunks[k]
    out = out[hop_size:]
    if n_samples is None:
        n_samples = max(count - 1, 0) * hop_size
    if n_samples > len(out):
        out = np.concatenate([out, np.zeros(n_samples - len(out))])
    return out[:n_samples].astype(np.float32)
