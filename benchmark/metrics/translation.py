"""Music translation metrics: content and timbre correlation (raw and DTW-aligned), pitch
accuracy through a judge transcription, and a Fréchet distance to the target domain.

Shaped like :mod:`mir_eval.transcription`: :func:`validate` first, then feature functions,
then metric functions, then one :func:`evaluate` returning the named scores declared in
:mod:`musebench.metrics`. ``docs/translation.md`` states every definition with its numbers.

Features (:func:`extract_features`), on a frame grid of ``hop_length`` samples
-------------------------------------------------------------------------------------
All features come from one power spectrogram per signal: a centred STFT (periodic Hann
window of ``n_fft`` samples, the signal zero-padded by ``n_fft // 2`` at both ends, so frame
``t`` is centred on ``t * hop_length / sample_rate`` seconds and a signal of ``n`` samples has
``1 + n // hop_length`` frames), scaled so that a full-scale sine reads 0 dB in its bin.
The defaults (16 kHz, ``n_fft=2048``, ``hop_length=1024``: 128 ms windows every 64 ms,
15.625 frames per second) keep the whole suite for a 10-minute triple under one second on
one CPU core (``scripts/bench_translation.py``).

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
* ``mfcc`` (timbre): ``n_mfcc`` DCT-II (orthonormal) coefficients of the log power of a
  ``n_mels``-band Slaney mel filterbank (:func:`librosa.filters.mel`, 0 Hz to Nyquist), in dB
  with the same relative floor; coefficient 0 (the overall level) is dropped, leaving
  ``n_mfcc - 1`` (19 by default).
* ``active``: frames whose windowed RMS level is within ``silence_db`` (60) dB of the signal's
  loudest frame and above ``min_level_db`` (-100) dBFS. A signal with no active frame is *silent*.

Normalized correlation (:func:`normalized_correlation`)
-------------------------------------------------------
Mor et al. (2018, "A Universal Music Translation Network") report a normalized correlation
between source and output, with and without DTW alignment; the formula is not restated here
from the paper. MuseBench defines it as follows. For two feature sequences ``X`` (``T1 x D``)
and ``Y`` (``T2 x D``) and a list of frame pairs ``(i_k, j_k)`` (the common timeline
``i_k = j_k = k`` for ``k < max(T1, T2)``, the shorter sequence counting as silent past its
end; or a DTW path):

1. (MFCC only, ``standardize=True``) every dimension is standardised with the mean and
   standard deviation of that dimension over the *active* frames of both sequences pooled
   (dimensions with zero spread become 0), because MFCCs have very different spreads
   (without it the correlation reads c1 and c2 only). The 12 chroma classes share one scale
   and are used as they are;
2. for each pair, ``r_k`` is the Pearson correlation across the ``D`` dimensions of the two
   frames (0 if either frame is constant);
3. pairs where both frames are silent are skipped; pairs where exactly one is silent score
   ``r_k = 0``;
4. the normalized correlation is the mean of ``r_k`` over the remaining pairs (0, with a
   warning, when no pair remains, i.e. both signals are silent).

Identical signals score 1; the scores do not depend on the gain of either signal.

DTW (:func:`align`)
-------------------
fastdtw (Salvador & Chan 2007; the package's C extension, Euclidean distance ``dist=2``,
``radius`` default 2) on the chroma sequences, each frame z-normalised across its 12 pitch
classes (silent frames become zero vectors), so that the squared distance between two
active frames is ``24 * (1 - r)``. The path cost is within 1 % of the exact DTW
(:func:`librosa.sequence.dtw`) on the tests' inputs; time and memory are linear in length.
``*_dtw`` scores evaluate the normalized correlation along this path. Timbre is aligned on
content (chroma of output vs reference), never on the timbre features themselves.

Scores
------
``content_correlation(_dtw)``: chroma, source vs output. ``timbre_correlation(_dtw)``: MFCC,
output vs paired reference. ``source_timbre_correlation``: MFCC, output vs source.
``pitch_accuracy``: :func:`pitch_accuracy`. ``target_domain_distance``:
:func:`target_domain_distance`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import BadInputError, ConfigError
from ..types import Notes

__all__ = [
    "FeatureConfig",
    "Features",
    "validate",
    "extract_features",
    "normalized_correlation",
    "frame_correlations",
    "dtw",
    "align",
    "content_correlation",
    "content_correlation_dtw",
    "timbre_correlation",
    "timbre_correlation_dtw",
    "source_timbre_correlation",
    "pitch_accuracy",
    "clip_embedding",
    "frechet_distance",
    "target_domain_distance",
    "evaluate",
    "evaluate_features",
]

#: pitch range of the content features (MIDI numbers, inclusive): C1-B7
PITCH_MIN, PITCH_MAX = 24, 107
DEFAULT_RADIUS = 2
#: added to the diagonal of both covariances before the matrix square root
FRECHET_EPS = 1e-6
_BLOCK = 1024  # frames per STFT block: bounds the working memory


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
    """One dense (n_freq, 84 + n_mels + 1) float32 matrix mapping a power spectrum to the
    semitone bins, the mel bands and (last column) the frame's mean square.

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
    return np.ascontiguousarray(np.column_stack([semitone * scale, mel * scale, mean_square]), dtype=np.float32)


@lru_cache(maxsize=8)
def _window(n_fft: int) -> np.ndarray:
    n = np.arange(n_fft)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)  # periodic Hann


def _stft_bands(audio: np.ndarray, config: FeatureConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Semitone power (T, 84), mel power (T, n_mels) and frame mean square (T,), block by block."""
    import scipy.fft
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
        power = np.abs(spec)
        power *= power
        np.matmul(power, bands, out=out[start:start + len(block)])
    n_pitch = PITCH_MAX - PITCH_MIN + 1
    return out[:, :n_pitch], out[:, n_pitch:-1], out[:, -1].astype(np.float64)


def _to_db(power: np.ndarray, floor_db: float) -> np.ndarray:
    """10 log10(power), floored ``floor_db`` below the maximum (and at -200 dB)."""
    top = float(power.max()) if power.size else 0.0
    floor = max(top * 10.0 ** (-floor_db / 10.0), 1e-20)
    out = np.maximum(power, np.float32(floor))
    np.log10(out, out=out)
    out *= np.float32(10.0)
    return out


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
    import scipy.fft

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
    log_cqt = _to_db(semitone, config.floor_db)
    mel_db = _to_db(mel, config.floor_db)
    mfcc = scipy.fft.dct(mel_db, type=2, norm="ortho", axis=1, workers=1)[:, 1:config.n_mfcc]
    return Features(log_cqt=log_cqt, chroma=chroma.astype(np.float32), mfcc=np.ascontiguousarray(mfcc, np.float32),
                    active=active, level_db=level_db, config=config)


# --- correlation -----------------------------------------------------------------------------

def _pooled_stats(x: np.ndarray, y: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and 1/std over the active frames of both sequences (1/std = 0 where
    a dimension does not vary)."""
    n = int(ax.sum()) + int(ay.sum())
    if n == 0:
        return np.zeros(x.shape[1]), np.zeros(x.shape[1])
    wx, wy = ax.astype(np.float64), ay.astype(np.float64)
    mean = (wx @ x + wy @ y) / n
    xc, yc = x - mean, y - mean  # float64
    var = (wx @ (xc * xc) + wy @ (yc * yc)) / n
    std = np.sqrt(var)
    scale = max(1.0, float(np.abs(mean).max()))
    inv = np.divide(1.0, std, out=np.zeros_like(std), where=std > 1e-9 * scale)
    return mean, inv


def _row_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``a`` with the same row of ``b`` (0 for constant rows)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    num = np.einsum("ij,ij->i", a, b)
    den = np.sqrt(np.einsum("ij,ij->i", a, a)) * np.sqrt(np.einsum("ij,ij->i", b, b))
    r = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return np.clip(r, -1.0, 1.0)


def _check_pair(x: np.ndarray, y: np.ndarray, active_x: np.ndarray, active_y: np.ndarray) -> None:
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise BadInputError(f"normalized_correlation: feature sequences must be (frames, dims) with equal dims, "
                            f"got {x.shape} and {y.shape}")
    if len(active_x) != len(x) or len(active_y) != len(y):
        raise BadInputError("normalized_correlation: activity masks must have one entry per frame")


def frame_correlations(x: np.ndarray, y: np.ndarray, *, active_x: np.ndarray, active_y: np.ndarray,
                       path: np.ndarray | None = None, standardize: bool = False) -> np.ndarray:
    """Per-pair correlations ``r_k`` of :func:`normalized_correlation` (NaN for skipped pairs).

    Parameters
    ----------
    x, y : np.ndarray, shape=(T1, D) and (T2, D)
    active_x, active_y : np.ndarray, shape=(T1,) and (T2,), bool
    path : np.ndarray, shape=(K, 2), int, optional
        Frame pairs; default the common timeline ``(k, k)`` for ``k < max(T1, T2)``.
    standardize : bool
        Standardise every dimension with pooled statistics first (step 1).

    Returns
    -------
    np.ndarray, shape=(K,), float64
        ``K = max(T1, T2)`` on the common timeline, else ``len(path)``.
    """
    x, y = np.asarray(x), np.asarray(y)
    active_x = np.asarray(active_x, dtype=bool)
    active_y = np.asarray(active_y, dtype=bool)
    _check_pair(x, y, active_x, active_y)
    if standardize:
        mean, inv = _pooled_stats(x, y, active_x, active_y)
    else:
        mean, inv = np.zeros(x.shape[1]), np.ones(x.shape[1])
    if path is None:
        m = min(len(x), len(y))
        ix = iy = np.arange(m)
        ax, ay = active_x[:m], active_y[:m]
        tail = active_x[m:] if len(x) > m else active_y[m:]  # the longer one alone
    else:
        path = np.asarray(path, dtype=np.int64)
        if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
            raise BadInputError(f"normalized_correlation: path must have shape (K, 2), got {path.shape}")
        if path.min() < 0 or path[:, 0].max() >= len(x) or path[:, 1].max() >= len(y):
            raise BadInputError("normalized_correlation: path indexes frames outside the sequences")
        ix, iy = path[:, 0], path[:, 1]
        ax, ay = active_x[ix], active_y[iy]
        tail = np.zeros(0, dtype=bool)
    r = np.full(len(ix) + len(tail), np.nan)
    both = ax & ay
    xs = (x[ix[both]] - mean) * inv
    ys = (y[iy[both]] - mean) * inv
    r[:len(ix)][both] = _row_pearson(xs, ys)
    r[:len(ix)][ax ^ ay] = 0.0
    r[len(ix):][tail] = 0.0
    return r


def normalized_correlation(x: np.ndarray, y: np.ndarray, *, active_x: np.ndarray, active_y: np.ndarray,
                           path: np.ndarray | None = None, standardize: bool = False) -> float:
    """Normalized correlation of two feature sequences (definition in the module docstring).

    Parameters
    ----------
    x, y : np.ndarray, shape=(T1, D) and (T2, D)
        Feature sequences.
    active_x, active_y : np.ndarray, shape=(T1,) and (T2,), bool
        Which frames are not silent.
    path : np.ndarray, shape=(K, 2), optional
        Frame pairs to compare (e.g. from :func:`align`); default the common timeline.
    standardize : bool
        Standardise each dimension with statistics pooled over both sequences' active frames
        first (for MFCCs, whose coefficients have very different spreads).

    Returns
    -------
    float
        In [-1, 1]; 1 for identical sequences; 0 (with a warning) when both are silent.
    """
    r = frame_correlations(x, y, active_x=active_x, active_y=active_y, path=path, standardize=standardize)
    kept = r[np.isfinite(r)]
    if len(kept) == 0:
        warnings.warn("normalized_correlation: both signals are silent; the score is 0", stacklevel=2)
        return 0.0
    return float(kept.mean())


# --- alignment -------------------------------------------------------------------------------

def _alignment_features(f: Features) -> np.ndarray:
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
    return dtw(_alignment_features(a), _alignment_features(b), radius=radius)


# --- metrics ---------------------------------------------------------------------------------

def content_correlation(source: Features, output: Features) -> float:
    """Normalized correlation of the chroma of source and output on the common timeline."""
    return normalized_correlation(source.chroma, output.chroma, active_x=source.active, active_y=output.active)


def content_correlation_dtw(source: Features, output: Features, *, radius: int = DEFAULT_RADIUS,
                            path: np.ndarray | None = None) -> float:
    """As :func:`content_correlation`, along the DTW path of :func:`align` (source, output)."""
    if path is None:
        _, path = align(source, output, radius=radius)
    return normalized_correlation(source.chroma, output.chroma, active_x=source.active,
                                  active_y=output.active, path=path)


def timbre_correlation(output: Features, reference: Features) -> float:
    """Normalized correlation of the MFCCs (without c0, standardised) of output and paired reference."""
    return normalized_correlation(output.mfcc, reference.mfcc, active_x=output.active, active_y=reference.active,
                                  standardize=True)


def timbre_correlation_dtw(output: Features, reference: Features, *, radius: int = DEFAULT_RADIUS,
                           path: np.ndarray | None = None) -> float:
    """As :func:`timbre_correlation`, along the chroma DTW path between output and reference."""
    if path is None:
        _, path = align(output, reference, radius=radius)
    return normalized_correlation(output.mfcc, reference.mfcc, active_x=output.active,
                                  active_y=reference.active, path=path, standardize=True)


def source_timbre_correlation(output: Features, source: Features) -> float:
    """Normalized correlation of the MFCCs of output and source (lower: the timbre moved)."""
    return normalized_correlation(output.mfcc, source.mfcc, active_x=output.active, active_y=source.active,
                                  standardize=True)


def pitch_accuracy(source_notes: Notes, output_notes: Notes, *, onset_tolerance: float = 0.05,
                   pitch_tolerance: float = 50.0) -> float:
    """Note onset F1 of the notes found in the output against the source's notes.

    mir_eval's ``precision_recall_f1_overlap`` with ``offset_ratio=None`` (onsets within
    ``onset_tolerance`` s, pitches within ``pitch_tolerance`` cents), through
    :func:`musebench.metrics.transcription.note_scores`; drum notes are ignored; 0 when
    either set is empty.
    """
    from . import transcription

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _, _, f1 = transcription.note_scores(source_notes, output_notes, onset_tolerance=onset_tolerance,
                                             pitch_tolerance=pitch_tolerance, offset_ratio=None)
    return float(f1)


# --- distributions ---------------------------------------------------------------------------

def clip_embedding(features: Features) -> np.ndarray:
    """Mean and standard deviation of each MFCC (c1 ..) over a clip's active frames.

    All frames are used when none is active.

    Returns
    -------
    np.ndarray, shape=(2 * (n_mfcc - 1),), float64
    """
    m = features.mfcc[features.active] if not features.silent else features.mfcc
    m = m.astype(np.float64)
    return np.concatenate([m.mean(axis=0), m.std(axis=0)])


def frechet_distance(a: np.ndarray, b: np.ndarray, *, eps: float = FRECHET_EPS) -> float:
    """Fréchet distance between Gaussians fitted to two sets of embeddings.

    ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with ``S = cov + eps * I``
    (unbiased covariances; ``eps`` keeps the square root defined when a set has fewer
    clips than dimensions); :func:`scipy.linalg.sqrtm`, imaginary parts from rounding
    dropped. Clamped at 0.

    Parameters
    ----------
    a, b : np.ndarray, shape=(N, D) and (M, D)
        At least two embeddings each.
    """
    import scipy.linalg

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise BadInputError(f"frechet_distance: embeddings must be (N, D) with equal D, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise BadInputError(f"frechet_distance: need at least 2 embeddings per set, got {len(a)} and {len(b)}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise BadInputError("frechet_distance: embeddings contain NaN or inf")
    d = a.shape[1]
    mu = a.mean(axis=0) - b.mean(axis=0)
    sa = np.cov(a, rowvar=False) + eps * np.eye(d)
    sb = np.cov(b, rowvar=False) + eps * np.eye(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = scipy.linalg.sqrtm(sa @ sb)
    root = np.real(root)
    value = float(mu @ mu + np.trace(sa) + np.trace(sb) - 2.0 * np.trace(root))
    return max(value, 0.0)


def target_domain_distance(outputs: list[Features] | np.ndarray, references: list[Features] | np.ndarray,
                           *, eps: float = FRECHET_EPS) -> float:
    """Fréchet distance between the outputs' and the target domain's :func:`clip_embedding`."""
    def emb(x):
        if isinstance(x, np.ndarray):
            return x
        return np.stack([clip_embedding(f) for f in x])

    return frechet_distance(emb(outputs), emb(references), eps=eps)


# --- all at once -----------------------------------------------------------------------------

def evaluate(source: np.ndarray, output: np.ndarray, reference: np.ndarray | None = None, *,
             sample_rate: int, source_notes: Notes | None = None, output_notes: Notes | None = None,
             radius: int = DEFAULT_RADIUS, config: FeatureConfig | None = None,
             onset_tolerance: float = 0.05, pitch_tolerance: float = 50.0) -> dict[str, float]:
    """Every per-item translation score.

    Parameters
    ----------
    source, output : np.ndarray, shape=(n,) and (m,)
        Mono audio at ``sample_rate`` (lengths may differ).
    reference : np.ndarray, optional
        The paired target-domain rendering; without it the timbre scores against the
        reference are left out.
    sample_rate : int
    source_notes, output_notes : Notes, optional
        The source's notes and the judge's transcription of the output; ``pitch_accuracy``
        needs both.
    radius : int
        fastdtw radius.
    config : FeatureConfig, optional
    onset_tolerance, pitch_tolerance : float
        For ``pitch_accuracy``.

    Returns
    -------
    dict
        ``content_correlation``, ``content_correlation_dtw``, ``source_timbre_correlation``,
        and where possible ``timbre_correlation``, ``timbre_correlation_dtw``, ``pitch_accuracy``.
    """
    config = config or FeatureConfig(sample_rate=sample_rate)
    src = extract_features(source, sample_rate=sample_rate, config=config, name="source")
    out = extract_features(output, sample_rate=sample_rate, config=config, name="output")
    ref = (extract_features(reference, sample_rate=sample_rate, config=config, name="reference")
           if reference is not None else None)
    return evaluate_features(src, out, ref, source_notes=source_notes, output_notes=output_notes, radius=radius,
                             onset_tolerance=onset_tolerance, pitch_tolerance=pitch_tolerance)


def evaluate_features(source: Features, output: Features, reference: Features | None = None, *,
                      source_notes: Notes | None = None, output_notes: Notes | None = None,
                      radius: int = DEFAULT_RADIUS, onset_tolerance: float = 0.05,
                      pitch_tolerance: float = 50.0) -> dict[str, float]:
    """:func:`evaluate` on precomputed :class:`Features`."""
    if source.silent:
        raise BadInputError("source: audio is silent (no frame within "
                            f"{source.config.silence_db:g} dB of its peak above {source.config.min_level_db:g} dBFS)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # silent output: documented 0 scores
        scores = {
            "content_correlation": content_correlation(source, output),
            "content_correlation_dtw": content_correlation_dtw(source, output, radius=radius),
            "source_timbre_correlation": source_timbre_correlation(output, source),
        }
        if reference is not None:
            scores["timbre_correlation"] = timbre_correlation(output, reference)
            scores["timbre_correlation_dtw"] = timbre_correlation_dtw(output, reference, radius=radius)
    if source_notes is not None and output_notes is not None:
        scores["pitch_accuracy"] = pitch_accuracy(source_notes, output_notes, onset_tolerance=onset_tolerance,
                                                  pitch_tolerance=pitch_tolerance)
    return scores
