"""Generation metrics, shaped like mir_eval: ``validate()``, metric functions, ``evaluate()``.

Per clip (:func:`evaluate`):

* descriptors that catch broken generators — :func:`silence_ratio`, :func:`clipping_ratio`,
  :func:`spectral_flatness` (noisiness) and :func:`pitch_salience` (tonal clarity, from the
  Basic Pitch posteriorgram);
* continuation coherence — :func:`seed_coherence` (seed vs continuation) and
  :func:`continuation_correlation` (generated vs true continuation): correlations of
  pitch-class profiles folded from the note posteriorgram, i.e. key and chroma consistency.

Per set of clips, in their own modules and re-exported here (the generation family reads them
as ``generation.frechet`` and so on):

* :mod:`musebench.metrics.distances` — :func:`frechet` (Fréchet distance between Gaussians fitted
  to the window embeddings of generated and reference clips, through
  :func:`musebench.metrics.frechet.frechet_distance`, with a bootstrap CI, the sample sizes,
  and a warning when the sample is small for the dimension), :func:`frechet_inf`, :func:`kad`,
  :func:`per_clip_frechet`, :func:`real_floor`;
* :mod:`musebench.metrics.memorization` — :func:`build_memorization_index`,
  :func:`memorization_distance` and :func:`memorized_ratio`: nearest-training-window
  distances, normalised by and flagged against held-out real clips.

Edge cases are decided, not left to NaN: an empty clip is a :class:`BadInputError`; a silent
clip has silence ratio 1, flatness 1 (nothing tonal), salience from the network's idle
output, and profile correlations 0 (no pitch content correlates with nothing).
"""
from __future__ import annotations

import numpy as np

from ..errors import BadInputError
from .distances import (KAD_SCALE, MIN_CLIPS, MIN_WINDOWS_PER_DIM, FrechetResult, centred_interval, frechet,
                        frechet_inf, kad, median_pairwise_distance, per_clip_frechet, real_floor,
                        sample_size_warning, single_thread_blas, validate_embeddings)
from .frechet import frechet_distance, gaussian_stats
from .memorization import (THRESHOLD_FACTOR, MemorizationIndex, build_memorization_index, memorization_distance,
                           memorized_ratio)

__all__ = [
    "SILENCE_DB", "CLIP_LEVEL", "FRAME_SECONDS", "HOP_SECONDS", "LOWEST_MIDI", "FRAME_THRESHOLD",
    "validate", "silence_ratio", "clipping_ratio", "spectral_flatness", "pitch_salience",
    "pitch_class_profile", "profile_correlation", "seed_coherence", "continuation_correlation", "evaluate",
    # set-level (musebench.metrics.frechet, .distances, .memorization)
    "gaussian_stats", "frechet_distance", "single_thread_blas", "validate_embeddings", "FrechetResult",
    "sample_size_warning", "frechet", "centred_interval", "frechet_inf", "KAD_SCALE", "median_pairwise_distance",
    "kad", "per_clip_frechet", "real_floor", "MIN_WINDOWS_PER_DIM", "MIN_CLIPS", "THRESHOLD_FACTOR",
    "MemorizationIndex", "build_memorization_index", "memorization_distance", "memorized_ratio",
]

SILENCE_DB = -60.0
CLIP_LEVEL = 0.999
FRAME_SECONDS = 0.064
HOP_SECONDS = 0.032


# ---- validation -------------------------------------------------------------------------------
def validate(audio: np.ndarray, *, name: str = "audio") -> np.ndarray:
    """Check one generated clip: a non-empty, finite, 1-D (mono) array. Returns float64.

    Raises
    ------
    BadInputError
        Empty, multi-channel, non-numeric or non-finite audio.
    """
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise BadInputError(f"{name}: audio must be 1-D (mono), got shape {audio.shape}")
    if audio.size == 0:
        raise BadInputError(f"{name}: audio is empty (zero samples)")
    if not np.issubdtype(audio.dtype, np.number):
        raise BadInputError(f"{name}: audio has non-numeric dtype {audio.dtype}")
    audio = audio.astype(np.float64)
    if not np.all(np.isfinite(audio)):
        raise BadInputError(f"{name}: audio contains {int(np.sum(~np.isfinite(audio)))} NaN/inf sample(s)")
    return audio


# ---- descriptors ------------------------------------------------------------------------------
def _frame_rms_db(audio: np.ndarray, *, sample_rate: int) -> np.ndarray:
    frame = max(1, int(round(FRAME_SECONDS * sample_rate)))
    hop = max(1, int(round(HOP_SECONDS * sample_rate)))
    n = 1 + max(0, -(-(len(audio) - frame) // hop))
    padded = np.concatenate([audio, np.zeros(max(0, (n - 1) * hop + frame - len(audio)))])
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    rms = np.sqrt(np.mean(padded[idx] ** 2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def silence_ratio(audio: np.ndarray, *, sample_rate: int, threshold_db: float = SILENCE_DB) -> float:
    """Share of 64 ms frames (hop 32 ms) whose RMS level is below ``threshold_db`` dBFS.

    Returns
    -------
    float in [0, 1]; 1 for digital silence.
    """
    audio = validate(audio)
    return float(np.mean(_frame_rms_db(audio, sample_rate=sample_rate) < threshold_db))


def clipping_ratio(audio: np.ndarray, *, level: float = CLIP_LEVEL) -> float:
    """Share of samples whose magnitude is at or above ``level`` (full scale is 1.0)."""
    audio = validate(audio)
    return float(np.mean(np.abs(audio) >= level))


def spectral_flatness(audio: np.ndarray, *, sample_rate: int, silence_db: float = SILENCE_DB) -> float:
    """Mean spectral flatness (geometric / arithmetic mean of the power spectrum) of non-silent frames.

    1 for white noise, near 0 for a few sinusoids. Frames below ``silence_db`` are skipped
    (their flatness is that of the quantisation noise); a clip with no frame above it scores
    1.0: it has nothing tonal.
    """
    import librosa

    audio = validate(audio)
    n_fft = max(16, int(round(FRAME_SECONDS * sample_rate)))
    hop = max(1, int(round(HOP_SECONDS * sample_rate)))
    y = audio.astype(np.float32)
    if len(y) < n_fft:
        y = np.concatenate([y, np.zeros(n_fft - len(y), np.float32)])
    mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, center=True))
    flat = librosa.feature.spectral_flatness(S=mag, power=2.0)[0]
    level = librosa.feature.rms(S=mag, frame_length=n_fft)[0]
    loud = 20.0 * np.log10(np.maximum(level, 1e-10)) >= silence_db
    if not np.any(loud):
        return 1.0
    return float(np.mean(flat[loud]))


def pitch_salience(posteriorgram: np.ndarray) -> float:
    """Mean over frames of the strongest key's activation in a note posteriorgram.

    Parameters
    ----------
    posteriorgram : np.ndarray, shape=(n_frames, n_keys), values in [0, 1]
        E.g. Basic Pitch's note output (:meth:`musebench.embeddings.basic_pitch.BasicPitchEmbedding.posteriorgram`).
    """
    p = np.asarray(posteriorgram, dtype=np.float64)
    if p.ndim != 2 or p.size == 0:
        raise BadInputError(f"pitch_salience: posteriorgram must be a non-empty 2-D array, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise BadInputError("pitch_salience: posteriorgram has non-finite values")
    return float(np.mean(p.max(axis=1)))


# ---- coherence --------------------------------------------------------------------------------
#: MIDI number of a posteriorgram's first key (Basic Pitch: A0)
LOWEST_MIDI = 21
#: activations below this are not counted as sounding (Basic Pitch's default frame threshold)
FRAME_THRESHOLD = 0.3


def pitch_class_profile(posteriorgram: np.ndarray, *, lowest_midi: int = LOWEST_MIDI,
                        threshold: float = FRAME_THRESHOLD) -> np.ndarray:
    """Pitch-class profile of a note posteriorgram: activations at or above ``threshold``,
    summed over time and folded onto the 12 pitch classes (C = 0).

    A chroma computed from the pitch estimator rather than from the spectrum, so that noise
    (whose activations stay below the threshold) has no pitch content instead of a random one.

    Returns
    -------
    np.ndarray, shape=(12,), float64 (all zeros when nothing sounds)
    """
    p = np.asarray(posteriorgram, dtype=np.float64)
    if p.ndim != 2:
        raise BadInputError(f"pitch_class_profile: posteriorgram must be 2-D, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise BadInputError("pitch_class_profile: posteriorgram has non-finite values")
    per_key = np.where(p >= threshold, p, 0.0).sum(axis=0)
    profile = np.zeros(12)
    np.add.at(profile, (lowest_midi + np.arange(p.shape[1])) % 12, per_key)
    return profile


def profile_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two profiles; 0.0 when either is constant (e.g. nothing sounds)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise BadInputError(f"profile_correlation: shapes differ ({a.shape} vs {b.shape})")
    a = a - a.mean()
    b = b - b.mean()
    na, nb = float(np.sqrt(np.sum(a * a))), float(np.sqrt(np.sum(b * b)))
    if na <= 1e-9 or nb <= 1e-9:
        return 0.0
    return float(np.clip(np.sum(a * b) / (na * nb), -1.0, 1.0))


def seed_coherence(seed_posteriorgram: np.ndarray, generated_posteriorgram: np.ndarray) -> float:
    """Pitch-class-profile correlation between the seed and its continuation (key consistency)."""
    return profile_correlation(pitch_class_profile(seed_posteriorgram), pitch_class_profile(generated_posteriorgram))


def continuation_correlation(generated_posteriorgram: np.ndarray, reference_posteriorgram: np.ndarray) -> float:
    """Pitch-class-profile correlation between the generated and the true continuation."""
    return profile_correlation(pitch_class_profile(generated_posteriorgram),
                               pitch_class_profile(reference_posteriorgram))

# ---- evaluate ---------------------------------------------------------------------------------
def evaluate(generated: np.ndarray, *, sample_rate: int, posteriorgram: np.ndarray | None = None,
             seed_posteriorgram: np.ndarray | None = None, reference_posteriorgram: np.ndarray | None = None,
             silence_db: float = SILENCE_DB, clip_level: float = CLIP_LEVEL) -> dict[str, float]:
    """Per-clip scores of one generated clip.

    Parameters
    ----------
    generated : np.ndarray, shape=(n,)
        The generated clip (mono, full scale 1.0).
    sample_rate : int
    posteriorgram : np.ndarray, shape=(n_frames, 88), optional
        Note posteriorgram of ``generated`` (e.g. Basic Pitch's); adds ``pitch_salience`` and
        is needed for the two coherence scores.
    seed_posteriorgram : np.ndarray, optional
        Posteriorgram of the seed the clip continues; adds ``seed_coherence``.
    reference_posteriorgram : np.ndarray, optional
        Posteriorgram of the true continuation; adds ``continuation_correlation``.
    silence_db, clip_level : float
        Thresholds of :func:`silence_ratio` / :func:`spectral_flatness` and :func:`clipping_ratio`.

    Returns
    -------
    dict
        ``silence_ratio``, ``clipping_ratio``, ``spectral_flatness`` and the optional scores.
    """
    generated = validate(generated, name="generated clip")
    scores = {
        "silence_ratio": silence_ratio(generated, sample_rate=sample_rate, threshold_db=silence_db),
        "clipping_ratio": clipping_ratio(generated, level=clip_level),
        "spectral_flatness": spectral_flatness(generated, sample_rate=sample_rate, silence_db=silence_db),
    }
    if posteriorgram is None:
        if seed_posteriorgram is not None or reference_posteriorgram is not None:
            raise BadInputError("evaluate: coherence scores need the generated clip's posteriorgram")
        return scores
    scores["pitch_salience"] = pitch_salience(posteriorgram)
    if seed_posteriorgram is not None:
        scores["seed_coherence"] = seed_coherence(seed_posteriorgram, posteriorgram)
    if reference_posteriorgram is not None:
        scores["continuation_correlation"] = continuation_correlation(posteriorgram, reference_posteriorgram)
    return scores
