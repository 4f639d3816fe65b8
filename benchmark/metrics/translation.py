"""Music translation metrics: content and timbre correlation (raw and DTW-aligned), pitch
accuracy through a judge transcription, and a Fréchet distance to the target domain.

Shaped like :mod:`mir_eval.transcription`: :func:`validate` first, then metric functions,
then one :func:`evaluate` returning the named scores declared in :mod:`musebench.metrics`.
``docs/translation.md`` states every definition with its numbers. The features
(:mod:`musebench.metrics.translation_features`: ``chroma``, ``mfcc``, ``active``) and the DTW
alignment (:mod:`musebench.metrics.alignment`) live in their own modules; their public names
(:class:`FeatureConfig`, :class:`Features`, :func:`validate`, :func:`extract_features`,
:func:`dtw`, :func:`align`, ``PITCH_MIN``, ``DEFAULT_RADIUS``) are re-exported here.


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

Scores
------
``content_correlation(_dtw)``: chroma, source vs output. ``timbre_correlation(_dtw)``: MFCC,
output vs paired reference, the ``_dtw`` variants along the chroma DTW path of :func:`align`.
``source_timbre_correlation``: MFCC, output vs source. ``pitch_accuracy``:
:func:`pitch_accuracy`. ``target_domain_distance``: :func:`target_domain_distance`.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import BadInputError
from ..types import Notes
from . import transcription
from .alignment import DEFAULT_RADIUS, align, dtw
from .frechet import frechet_distance, gaussian_stats
from .translation_features import PITCH_MAX, PITCH_MIN, FeatureConfig, Features, extract_features, validate

__all__ = [
    "PITCH_MIN",
    "PITCH_MAX",
    "DEFAULT_RADIUS",
    "FRECHET_EPS",
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
    "target_domain_distance",
    "evaluate",
    "evaluate_features",
]

#: added to the diagonal of both covariances of :func:`target_domain_distance`
FRECHET_EPS = 1e-6


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

def target_domain_distance(outputs: list[Features] | np.ndarray, references: list[Features] | np.ndarray,
                           *, eps: float = FRECHET_EPS) -> float:
    """Fréchet distance between Gaussians fitted to the outputs' and the target domain's
    :func:`clip_embedding`.

    ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with ``S = cov + eps * I``
    (unbiased covariances; ``eps`` keeps the square root defined when a set has fewer clips
    than dimensions), through :func:`musebench.metrics.frechet.frechet_distance`. Clamped at 0.

    Parameters
    ----------
    outputs, references : list of Features, or np.ndarray, shape=(N, D) and (M, D)
        Clips, or their embeddings (at least two per set).
    eps : float

    Raises
    ------
    BadInputError
        Fewer than two embeddings in a set, unequal dimensions, or NaN/inf.
    """
    def emb(x: list[Features] | np.ndarray) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return np.asarray(x, dtype=np.float64)
        return np.stack([clip_embedding(f) for f in x])

    a, b = emb(outputs), emb(references)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise BadInputError(f"target_domain_distance: embeddings must be (N, D) with equal D, "
                            f"got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise BadInputError(f"target_domain_distance: need at least 2 embeddings per set, got {len(a)} and {len(b)}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise BadInputError("target_domain_distance: embeddings contain NaN or inf")
    return frechet_distance(*gaussian_stats(a, eps=eps), *gaussian_stats(b, eps=eps))


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
