"""Audio in one place: load, validate, mix down, resample, write.

Every audio file MuseBench reads goes through :func:`load_audio`, which returns mono float32
at the requested rate and raises a one-line :class:`BadInputError` naming the file for
unreadable, empty, or non-finite audio.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import BadInputError, MissingDataError


def validate_audio(audio: np.ndarray, *, name: str = "audio") -> np.ndarray:
    """Check that ``audio`` is a non-empty, finite, 1-D or 2-D float array; return float32."""
    audio = np.asarray(audio)
    if audio.ndim not in (1, 2):
        raise BadInputError(f"{name}: audio must be 1-D (mono) or 2-D (frames, channels), got shape {audio.shape}")
    if audio.size == 0 or audio.shape[0] == 0:
        raise BadInputError(f"{name}: audio is empty (zero samples)")
    if not np.issubdtype(audio.dtype, np.number):
        raise BadInputError(f"{name}: audio has non-numeric dtype {audio.dtype}")
    if np.issubdtype(audio.dtype, np.integer):
        audio = audio.astype(np.float32) / float(np.iinfo(audio.dtype).max)
    if not np.all(np.isfinite(audio)):
        bad = int(np.size(audio) - np.count_nonzero(np.isfinite(audio)))
        raise BadInputError(f"{name}: audio contains {bad} NaN/inf sample(s)")
    return audio.astype(np.float32, copy=False)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames,) by averaging channels; mono passes through."""
    return audio if audio.ndim == 1 else audio.mean(axis=1)


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """High-quality resampling with soxr (mono or (frames, channels))."""
    if orig_sr == target_sr:
        return audio
    import soxr

    return soxr.resample(audio, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def audio_info(path: str | os.PathLike) -> tuple[int, int, float]:
    """(sample rate, channels, duration in s) without decoding the samples."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:
        raise BadInputError(f"{path}: not a readable audio file ({_first_line(exc)})") from None
    return info.samplerate, info.channels, info.frames / info.samplerate


def load_audio(path: str | os.PathLike, *, sample_rate: int | None = None, mono: bool = True) -> tuple[np.ndarray, int]:
    """Load an audio file as float32.

    Parameters
    ----------
    path : path-like
        WAV, FLAC, OGG, ... (anything libsndfile reads; MP3 via librosa's fallback).
    sample_rate : int or None
        Resample to this rate (None keeps the file's rate).
    mono : bool
        Average channels to mono.

    Returns
    -------
    audio : np.ndarray, shape=(n,) or (n, channels)
    sample_rate : int
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: audio file not found")
    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=False)
    except Exception as exc:
        try:  # formats libsndfile lacks (e.g. some MP3s)
            import warnings

            import librosa

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                audio, sr = librosa.load(str(path), sr=None, mono=False)
            audio = audio.T if audio.ndim == 2 else audio
        except Exception:
            raise BadInputError(f"{path}: not a readable audio file ({_first_line(exc)})") from None
    audio = validate_audio(audio, name=str(path))
    if mono:
        audio = to_mono(audio)
    if sample_rate is not None and sr != sample_rate:
        audio = resample(audio, sr, sample_rate)
        sr = sample_rate
    return np.ascontiguousarray(audio, dtype=np.float32), int(sr)


def audio_bytes(audio: np.ndarray, sample_rate: int, *, format: str = "WAV", subtype: str = "PCM_16") -> bytes:
    """Encode audio to WAV/FLAC bytes (16-bit PCM by default, values clipped to [-1, 1])."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1.0, 1.0), sample_rate, format=format, subtype=subtype)
    return buf.getvalue()


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, *, subtype: str = "PCM_16") -> Path:
    """Write audio atomically; the format follows the suffix (.wav or .flac)."""
    from .io_utils import atomic_write_bytes

    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC"}.get(path.suffix.lower())
    if fmt is None:
        raise BadInputError(f"{path}: audio output must be .wav or .flac")
    return atomic_write_bytes(path, audio_bytes(audio, sample_rate, format=fmt, subtype=subtype))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
