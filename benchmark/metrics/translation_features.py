"""Frame-wise features of the translation metrics: content (chroma), timbre (MFCC) and activity.

Features (:func:`extract_features`), on a frame grid of ``hop_length`` samples
-------------------------------------------------------------------------------------
All features come from one power spectrogram per signal: a centred STFT (periodic Hann
window of ``n_fft`` samples, the signal zero-padded by ``n_fft // 2`` at both ends, so frame
``t`` is centred on ``t * hop_length / sample_rate`` seconds and a signal of ``n`` samples has
``1 + n // hop_length`` frames), scaled so that a full-scale sine reads 0 dB in its bin.
The defaults (16 kHz, ``n_fft=2048``, ``hop_length=1024``: 128 ms windows every 64 ms,
15.625 frames per second) keep the whole suite for a 10-minute triple under one second on
one CPU core (``scripts/bench_translation.py``: 0.89 s CPU, of which 0.26 s per signal's features).

* ``log_cqt``: a semitone spectrogram, one bin per MIDI pitch 24-107 (C1-B7, 84 bins). Bin
  ``m`` sums the power of the STFT bins under a triangle in frequency that peaks at the
  pitch's centre frequency ``440 * 2 ** ((m - 69) / 12)`` Hz and reaches zero at the
  neighbouring semitones' centres, or one STFT bin (``sample_rate / n_fft`` Hz) away where
  that is wider (below about C3 with the defaults, where a 128 ms window cannot resolve
  semitones, neighbouring pitch bins share STFT bins). In dB, floored ``floor_db`` below the
  signal's loudest bin. A constant-Q *approximation* read off one STFT;
  ``content_backend="cqt"`` computes it with :func:`librosa.cqt` (same pitch range and hop)
  instead, about 10 times slower. Used for figures.
* ``chroma`` (content): the semitone power folded onto the 12 pitch classes (C first), each
  frame scaled to a maximum of 1. Content correlation and DTW use chroma, not the log-CQT:
  on four synth test pieces the log-CQT correlation with the piano source barely separates a
  violin rendering of the same notes (0.81) from the piano transposed by one semitone (0.73),
  as it is dominated by the spectral envelope; chroma separates them (0.81 vs 0.00).
* ``mfcc`` (timbre): :func:`musebench.embeddings.mfcc.mfcc` (librosa's ``power_to_db`` and
  ``feature.mfcc``: ``n_mfcc`` DCT-II, orthonormal, coefficients) of the power of a
  ``n_mels``-band Slaney mel filterbank (:func:`librosa.filters.mel`, 0 Hz to Nyquist), in dB
  with the same relative floor (``top_db=floor_db``); coefficient 0 (the overall level) is
  dropped, leaving ``n_mfcc - 1`` (19 by default). The generation family's ``mfcc``
  embedding uses the same function with its own settings.
* ``active``: frames whose windowed RMS level is within ``silence_db`` (60) dB of the signal's

Cross-CPU determinism
---------------------
The features are the same, bit for bit, on every CPU. They once were not: the band
projection (power spectrum times the semitone/mel matrix) was a float32 BLAS product, and
BLAS picks its kernels by CPU (OpenBLAS's Haswell and Prescott kernels sum in different
orders), so the last bits of the chroma differed between machines, enough to flip a near-tie
of the DTW path and move ``timbre_correlation_dtw`` of a regression triple by 3e-4
(0.136469 vs 0.136751). The product is now summed in float64 (of the same float32 values) and
rounded to float32 once: whatever order a CPU's kernel adds the terms in, the float64 sums
differ by about 1e-16 relative, far below half a float32 step (6e-8), so they round to the same
float32 unless a sum lies within 1e-16 of a rounding boundary (about one value in 10^9). The
power spectrum is ``re * re + im * im`` (IEEE products and sums, the same with or without
SIMD) rather than ``abs()``, whose vectorised paths vary. The logarithms (``log_cqt`` and the
MFCCs' dB) are taken in float64 and rounded to float32 once, for the same reason: NumPy's
float32 ``log10`` has an AVX-512 path that differs from its AVX2 one in the last bit (seen on an
AMD EPYC with AVX512_ICL: ``source_timbre_correlation`` of a regression triple moved by 1e-8). This costs about 0.07 s per
10-minute signal. tests/metrics/test_translation_metrics.py runs the suite under two OpenBLAS
kernels (``OPENBLAS_CORETYPE``) and requires the same scores, and extracts features under three
NumPy dispatch levels (``NPY_DISABLE_CPU_FEATURES``) and requires the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft

from ..embeddings.mfcc import mfcc as mfcc_from_mel
from ..errors import BadInputError, ConfigError

__all__ = ["PITCH_MIN", "PITCH_MAX", "FeatureConfig", "Features", "validate", "extract_features"]

#: pitch range of the content features (MIDI numbers, inclusive): C1-B7
PITCH_MIN, PITCH_MAX = 24, 107
_BLOCK = 1024  # frames per STFT block: bounds the working memory
#: absolute floor of the log features' power (-200 dB), below the relative floor of any audible signal
AMIN = 1e-20


@dataclass(frozen=True)
class FeatureConfig:
    """Feature settings; the defaults are MuseBench's documented ones.

    Attributes
    ----------
    sample_rate : int
        Rate (Hz) every signal must have (the family resamples outputs to it).
    n_fft, hop_length : int
        STFT window and hop in samples.
    n_mels, n_mfcc : int
        Mel bands and MFCC coefficients (coefficient 0 is dropped afterwards).
    floor_db : float
        Dynamic range of the log features: values are floored this many dB below the
        signal's loudest bin.
    silence_db : float
        A frame is active when its level is within this many dB of the loudest frame ...
    min_level_db : float
        ... and above this absolute level (dBFS).
    content_backend : {"stft", "cqt"}
        ``stft``: semitone bins read off the STFT (default, fast); ``cqt``: :func:`librosa.cqt`.
    """

    sample_rate: int = 16000
    n_fft: int = 2048
    hop_length: int = 1024
    n_mels: int = 64
    n_mfcc: int = 20
    floor_db: float = 80.0
    silence_db: float = 60.0
    min_level_db: float = -100.0
    content_backend: str = "stft"

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels", "n_mfcc"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ConfigError(f"translation features: {name} must be a positive integer, not {value!r}")
        if self.n_mfcc < 3:
            raise ConfigError(f"translation features: n_mfcc must be at least 3, not {self.n_mfcc}")
        if self.hop_length > self.n_fft:
            raise ConfigError(f"translation features: hop_length {self.hop_length} exceeds n_fft {self.n_fft}")
        for name in ("floor_db", "silence_db"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(f"translation features: {name} must be a positive number of dB")
        if self.content_backend not in ("stft", "cqt"):
            raise ConfigError(f"translation features: content_backend must be 'stft' or 'cqt', "
                              f"not {self.content_backend!r}")
        if 440.0 * 2 ** ((PITCH_MAX + 1 - 69) / 12) >= self.sample_rate / 2:
            raise ConfigError(f"translation features: sample_rate {self.sample_rate} Hz is too low for "
                              f"pitches up to MIDI {PITCH_MAX}")

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop_length

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> FeatureConfig:
        """Build from a task's ``features`` mapping, rejecting unknown keys."""
        params = dict(params or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(f"translation features: unknown setting(s) {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(known))})")
        return cls(**params)


@dataclass(frozen=True)
class Features:
    """Frame-wise features of one signal (``T`` frames at ``config.frame_rate``).

    Attributes
    ----------
    log_cqt : np.ndarray, shape=(T, 84), float32
        Semitone spectrogram in dB (MIDI 24-107).
    chroma : np.ndarray, shape=(T, 12), float32
        Pitch-class power (C, C#, ..., B), each frame scaled to a maximum of 1.
    mfcc : np.ndarray, shape=(T, n_mfcc - 1), float32
        MFCC 1 .. n_mfcc-1.
    active : np.ndarray, shape=(T,), bool
        Frames loud enough to compare (see the module docstring).
    level_db : np.ndarray, shape=(T,), float32
        Windowed RMS level of each frame in dBFS.
    config : FeatureConfig
    """

    log_cqt: np.ndarray
    chroma: np.ndarray
    mfcc: np.ndarray
    active: np.ndarray
    level_db: np.ndarray
    config: FeatureConfig = field(repr=False)

    def __len__(self) -> int:
        return len(self.active)

    @property
    def silent(self) -> bool:
        """True when no frame is active."""
        return not bool(self.active.any())

    @property
    def duration(self) -> float:
        return len(self) / self.config.frame_rate

# --- validation ------------------------------------------------------------------------------

def validate(audio: np.ndarray, *, sample_rate: int, config: FeatureConfig | None = None,
             name: str = "audio") -> np.ndarray:
    """Check one signal and return it as contiguous float32.

    Parameters
    ----------
    audio : np.ndarray, shape=(n,)
        Mono audio in [-1, 1] (values beyond are accepted as they are).
    sample_rate : int
        Its rate; must equal ``config.sample_rate``.
    config : FeatureConfig, optional
    name : str
        What to call the signal in error messages.

    Returns
    -------
    np.ndarray, shape=(n,), float32

    Raises
    ------
    BadInputError
        Not 1-D, empty, non-numeric, NaN/inf samples, or another sample rate.
    """
    config = config or FeatureConfig()
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise BadInputError(f"{name}: audio must be mono (1-D), got shape {audio.shape}")
    if audio.size == 0:
        raise BadInputError(f"{name}: audio is empty (zero samples)")
    if not np.issubdtype(audio.dtype, np.number) or np.iscomplexobj(audio):
        raise BadInputError(f"{name}: audio has non-real dtype {audio.dtype}")
    if not np.all(np.isfinite(audio)):
        bad = int(audio.size - np.count_nonzero(np.isfinite(audio)))
        raise BadInputError(f"{name}: audio contains {bad} NaN/inf sample(s)")
    if int(sample_rate) != config.sample_rate:
        raise BadInputError(f"{name}: sample rate {sample_rate} Hz, but the features need {config.sample_rate} Hz")
    return np.ascontiguousarray(audio, dtype=np.float32)


# --- features --------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _band_matrix(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """One dense (n_freq, 84 + n_mels + 1) matrix mapping a power spectrum to the semitone bins,
    the mel bands and (last column) the frame's mean square: float32 values, held as float64
    so that the product is summed in float64 (see the module docstring).

    The power spectrum it expects is ``|X|^2`` of the windowed frame, unscaled.
    """
    import librosa

    n_freq = n_fft // 2 + 1
    freqs = np.arange(n_freq) * sample_rate / n_fft
    df = sample_rate / n_fft
    pitches = np.arange(PITCH_MIN, PITCH_MAX + 1)
    centre = 440.0 * 2.0 ** ((pitches - 69) / 12.0)
    lower = np.minimum(440.0 * 2.0 ** ((pitches - 70) / 12.0), centre - df)
    upper = np.maximum(440.0 * 2.0 ** ((pitches - 68) / 12.0), centre + df)
    f = freqs[:, None]
    semitone = np.clip(np.minimum((f - lower) / (centre - lower), (upper - f) / (upper - centre)), 0.0, None)
    mel = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=0.0,
                              fmax=sample_rate / 2.0, htk=False, norm="slaney").T
    window = _window(n_fft).astype(np.float64)
    scale = (2.0 / window.sum()) ** 2  # a full-scale sine reads 1.0 (0 dB) in its bin
    # Parseval for rfft: sum_n (x w)^2 = (|X_0|^2 + 2 sum_k |X_k|^2 + |X_N/2|^2) / N
    parseval = np.full(n_freq, 2.0 / n_fft)
    parseval[0] = parseval[-1] = 1.0 / n_fft
    mean_square = parseval / np.sum(window ** 2)
    matrix = np.column_stack([semitone * scale, mel * scale, mean_square]).astype(np.float32)
    return np.ascontiguousarray(matrix, dtype=np.float64)


@lru_cache(maxsize=8)
def _window(n_fft: int) -> np.ndarray:
    n = np.arange(n_fft)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)  # periodic Hann


def _stft_bands(audio: np.ndarray, config: FeatureConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Semitone power (T, 84), mel power (T, n_mels) and frame mean square (T,), block by block."""
    from numpy.lib.stride_tricks import sliding_window_view

    n_fft, hop = config.n_fft, config.hop_length
    pad = n_fft // 2
    padded = np.zeros(len(audio) + 2 * pad, dtype=np.float32)
    padded[pad:pad + len(audio)] = audio
    n_frames = 1 + len(audio) // hop
    frames = sliding_window_view(padded, n_fft)[::hop][:n_frames]
    window = _window(n_fft)
    bands = _band_matrix(config.sample_rate, n_fft, config.n_mels)
    out = np.empty((n_frames, bands.shape[1]), dtype=np.float32)
    for start in range(0, n_frames, _BLOCK):
        block = frames[start:start + _BLOCK] * window
        spec = scipy.fft.rfft(block, axis=1, workers=1)
        power = spec.real * spec.real + spec.imag * spec.imag  # |X|^2: IEEE products and sums, any CPU
        out[start:start + len(block)] = power.astype(np.float64) @ bands  # float64 sums, rounded to float32 once
    n_pitch = PITCH_MAX - PITCH_MIN + 1
    return out[:, :n_pitch], out[:, n_pitch:-1], out[:, -1].astype(np.float64)


def _power_to_db(power: np.ndarray, floor_db: float) -> np.ndarray:
    """``librosa.power_to_db``: 10 log10(power), floored ``floor_db`` below the maximum and at
    :data:`AMIN` (the same dB scale as the MFCCs')."""
    import librosa

    db = librosa.power_to_db(np.asarray(power, dtype=np.float64), ref=1.0, amin=AMIN, top_db=floor_db)
    return np.asarray(db, dtype=np.float32)  # float64 logarithms, rounded to float32 once (module docstring)


def _cqt_power(audio: np.ndarray, config: FeatureConfig, n_frames: int) -> np.ndarray:
    import librosa

    C = librosa.cqt(audio, sr=config.sample_rate, hop_length=config.hop_length,
                    fmin=float(librosa.midi_to_hz(PITCH_MIN)), n_bins=PITCH_MAX - PITCH_MIN + 1,
                    bins_per_octave=12)
    power = (np.abs(C) ** 2).T.astype(np.float32)
    if len(power) < n_frames:
        power = np.pad(power, ((0, n_frames - len(power)), (0, 0)))
    return power[:n_frames]


def extract_features(audio: np.ndarray, *, sample_rate: int, config: FeatureConfig | None = None,
                     name: str = "audio") -> Features:
    """Content, timbre and activity features of one signal (see the module docstring).

    Parameters
    ----------
    audio : np.ndarray, shape=(n,)
        Mono audio at ``config.sample_rate``.
    sample_rate : int
    config : FeatureConfig, optional
    name : str
        For error messages.

    Returns
    -------
    Features
        ``1 + n // hop_length`` frames.
    """
    config = config or FeatureConfig()
    audio = validate(audio, sample_rate=sample_rate, config=config, name=name)
    semitone, mel, mean_square = _stft_bands(audio, config)
    if config.content_backend == "cqt":
        semitone = _cqt_power(audio, config, len(semitone))
    level_db = (10.0 * np.log10(np.maximum(mean_square, 1e-30))).astype(np.float32)
    top = float(level_db.max())
    active = (level_db > top - config.silence_db) & (level_db > config.min_level_db)
    chroma = semitone.reshape(len(semitone), -1, 12).sum(axis=1)  # MIDI 24 is a C: column 0 = C
    peak = chroma.max(axis=1, keepdims=True)
    chroma = np.divide(chroma, peak, out=np.zeros_like(chroma), where=peak > 0)
    log_cqt = _power_to_db(semitone, config.floor_db)
    mfcc = mfcc_from_mel(mel.T.astype(np.float64), n_mfcc=config.n_mfcc, amin=AMIN, top_db=config.floor_db).T[:, 1:]
    return Features(log_cqt=log_cqt, chroma=chroma.astype(np.float32), mfcc=np.ascontiguousarray(mfcc, np.float32),
                    active=active, level_db=level_db, config=config)
