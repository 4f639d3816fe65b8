"""Generation metrics, shaped like mir_eval: ``validate()``, metric functions, ``evaluate()``.

Per clip (:func:`evaluate`):

* descriptors that catch broken generators — :func:`silence_ratio`, :func:`clipping_ratio`,
  :func:`spectral_flatness` (noisiness) and :func:`pitch_salience` (tonal clarity, from the
  Basic Pitch posteriorgram);
* continuation coherence — :func:`seed_coherence` (seed vs continuation) and
  :func:`continuation_correlation` (generated vs true continuation): correlations of
  pitch-class profiles folded from the note posteriorgram, i.e. key and chroma consistency.

Per set of clips:

* :func:`frechet` — Fréchet distance between Gaussians fitted to the window embeddings of
  generated and reference clips, with a bootstrap CI over clips, the sample sizes, and a
  warning when the sample is small for the dimension;
* :func:`build_memorization_index`, :func:`memorization_distance` and :func:`memorized_ratio`
  — nearest-training-window distances, normalised by and flagged against held-out real clips.

Edge cases are decided, not left to NaN: an empty clip is a :class:`BadInputError`; a silent
clip has silence ratio 1, flatness 1 (nothing tonal), salience from the network's idle
output, and profile correlations 0 (no pitch content correlates with nothing).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import BadInputError, ConfigError

SILENCE_DB = -60.0
CLIP_LEVEL = 0.999
FRAME_SECONDS = 0.064
HOP_SECONDS = 0.032
#: Fréchet warns when there are fewer windows than this many per embedding dimension
MIN_WINDOWS_PER_DIM = 2.0
#: ... or fewer clips than this in either set
MIN_CLIPS = 10
#: a clip is flagged as memorized below this fraction of the smallest held-out distance
THRESHOLD_FACTOR = 0.5


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run BLAS/LAPACK single-threaded: the matrices here are small (tens of dimensions), and
    multi-threaded OpenBLAS on small matrices is up to 15x slower on a busy machine.
    A no-op without ``threadpoolctl``."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


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


def validate_embeddings(clips: Sequence[np.ndarray], *, name: str) -> list[np.ndarray]:
    """Check a set of per-clip window embeddings: non-empty list of finite (n_i, d) arrays, one d."""
    if len(clips) == 0:
        raise BadInputError(f"{name}: no clips")
    out = [np.asarray(c, dtype=np.float64) for c in clips]
    dims = {c.shape[1] if c.ndim == 2 else None for c in out}
    if None in dims or len(dims) != 1:
        raise BadInputError(f"{name}: every clip's embedding must be a 2-D (windows, dim) array of one dim")
    for k, c in enumerate(out):
        if len(c) == 0:
            raise BadInputError(f"{name}: clip {k} has no windows")
        if not np.all(np.isfinite(c)):
            raise BadInputError(f"{name}: clip {k} has non-finite embedding values")
    return out


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


# ---- Fréchet distance -------------------------------------------------------------------------
def gaussian_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (rows = observations; unbiased; zeros for a single row)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=0)
    if len(x) < 2:
        return mu, np.zeros((x.shape[1], x.shape[1]))
    return mu, np.atleast_2d(np.cov(x, rowvar=False))


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``, with the trace
    term computed as the sum of square roots of the eigenvalues of the symmetric
    ``sigma1^(1/2) sigma2 sigma1^(1/2)`` (same value as ``scipy.linalg.sqrtm``, but stable for
    singular covariances). Never negative.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
        raise BadInputError(f"frechet_distance: shapes do not match (mu {mu1.shape} / {mu2.shape}, "
                            f"sigma {s1.shape} / {s2.shape})")
    r1 = _psd_sqrt(s1)
    inner = r1 @ s2 @ r1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    tr_covmean = float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return max(value, 0.0)


@dataclass(frozen=True)
class FrechetResult:
    """A Fréchet distance with its bootstrap CI and sample sizes."""

    value: float
    ci_low: float
    ci_high: float
    n_generated: int
    n_reference: int
    n_windows_generated: int
    n_windows_reference: int
    dim: int
    n_resamples: int
    paired: bool = False
    warning: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The shape of a set metric in results.json (``mean`` is the full-sample value)."""
        return {"mean": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n_generated,
                "n_generated": self.n_generated, "n_reference": self.n_reference,
                "n_windows_generated": self.n_windows_generated, "n_windows_reference": self.n_windows_reference,
                "dim": self.dim, "n_resamples": self.n_resamples, "paired": self.paired, "warning": self.warning,
                "ci_method": "clip bootstrap, centred on the estimate (centred_interval)"}


def sample_size_warning(*, n_windows: int, n_clips: int, dim: int) -> str | None:
    """The warning attached to a Fréchet distance estimated from few windows or clips (else None)."""
    problems = []
    if n_windows < MIN_WINDOWS_PER_DIM * dim:
        problems.append(f"{n_windows} windows for {dim} dimensions (< {MIN_WINDOWS_PER_DIM:g} per dimension)")
    if n_clips < MIN_CLIPS:
        problems.append(f"{n_clips} clips (< {MIN_CLIPS})")
    if not problems:
        return None
    return ("small sample: " + " and ".join(problems)
            + "; the covariance is poorly estimated and the distance biased upward; compare runs only "
              "on the same task and through the CI")


def frechet(generated: Sequence[np.ndarray], reference: Sequence[np.ndarray], *, n_resamples: int = 200,
            confidence: float = 0.95, seed: int = 0, paired: bool = False) -> FrechetResult:
    """Fréchet distance between the window embeddings of generated and reference clips.

    Parameters
    ----------
    generated, reference : sequence of np.ndarray, each shape=(n_windows_i, dim)
        One embedding matrix per clip (e.g. :meth:`musebench.embeddings.Embedding.embed`).
        All windows of a set are pooled into one Gaussian.
    n_resamples : int
        Bootstrap resamples. Each resample draws generated and reference *clips* with
        replacement (windows of one clip are not independent), so the CI reflects the number
        of clips.
    paired : bool
        Generated clip ``i`` belongs with reference clip ``i`` (e.g. a continuation and the
        true continuation of the same item): resample the pairs, drawing the same indices for
        both sets, as per-item metrics resample items. Requires equally many clips. Unpaired
        sets are resampled independently (then even two identical sets get a CI above 0: the
        distance between two bootstrap samples of one set).
    confidence : float
        Level of the percentile interval.
    seed : int
        Seed of the resampling.

    Returns
    -------
    FrechetResult
        ``value`` on the full samples; the interval is :func:`centred_interval` of the
        bootstrap replicates (so it always contains ``value``); ``warning`` when either set has
        fewer than :data:`MIN_WINDOWS_PER_DIM` windows per dimension or fewer than
        :data:`MIN_CLIPS` clips.
    """
    gen = validate_embeddings(generated, name="frechet: generated")
    ref = validate_embeddings(reference, name="frechet: reference")
    dim = gen[0].shape[1]
    if ref[0].shape[1] != dim:
        raise BadInputError(f"frechet: generated embeddings have dim {dim}, reference {ref[0].shape[1]}")
    if paired and len(gen) != len(ref):
        raise BadInputError(f"frechet: paired sets need equally many clips, got {len(gen)} generated "
                            f"and {len(ref)} reference")
    rng = np.random.default_rng(seed)
    boots = []
    with single_thread_blas():
        value = frechet_distance(*gaussian_stats(np.concatenate(gen)), *gaussian_stats(np.concatenate(ref)))
        for _ in range(n_resamples):
            gi = rng.integers(0, len(gen), len(gen))
            ri = gi if paired else rng.integers(0, len(ref), len(ref))
            g = np.concatenate([gen[i] for i in gi])
            r = np.concatenate([ref[i] for i in ri])
            boots.append(frechet_distance(*gaussian_stats(g), *gaussian_stats(r)))
    lo, hi = centred_interval(value, boots, confidence=confidence)
    n_wg, n_wr = sum(len(c) for c in gen), sum(len(c) for c in ref)
    warning = sample_size_warning(n_windows=min(n_wg, n_wr), n_clips=min(len(gen), len(ref)), dim=dim)
    return FrechetResult(value=value, ci_low=lo, ci_high=hi, n_generated=len(gen), n_reference=len(ref),
                         n_windows_generated=n_wg, n_windows_reference=n_wr, dim=dim,
                         n_resamples=n_resamples, paired=paired, warning=warning)


def centred_interval(value: float, replicates: Sequence[float], *, confidence: float = 0.95,
                     lower_bound: float | None = 0.0) -> tuple[float, float]:
    """A bootstrap interval for a biased set statistic that always contains ``value``.

    Resampling clips with replacement duplicates some of them, which shrinks a set's spread and
    moves every replicate of a distance *up*: the plain percentile interval of an exact match
    (distance 0) or of any small distance can lie wholly above the point estimate (the oracle
    once scored 343.1 with CI [343.9, 1106]). This interval keeps the bootstrap's spread but
    removes its median bias: ``[value - (median - q_lo), value + (q_hi - median)]`` with
    ``q_lo, q_hi`` the ``(1 -/+ confidence) / 2`` quantiles of the replicates, the lower end
    clipped at ``lower_bound`` (distances are >= 0; pass None for an unbiased estimator that may
    be negative). With no replicates it is ``[value, value]``.
    """
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[np.isfinite(reps)]
    if len(reps) == 0:
        return float(value), float(value)
    alpha = (1.0 - confidence) / 2.0
    q_lo, med, q_hi = (float(q) for q in np.quantile(reps, [alpha, 0.5, 1.0 - alpha]))
    lo, hi = value - (med - q_lo), value + (q_hi - med)
    if lower_bound is not None:
        lo = max(lo, lower_bound)
    return float(min(lo, value)), float(max(hi, value))


def frechet_inf(generated: Sequence[np.ndarray], reference: Sequence[np.ndarray], *, steps: int = 25,
                min_n: int | None = None, seed: int = 0) -> dict[str, Any]:
    """FAD-∞: the Fréchet distance extrapolated to infinitely many generated windows.

    As fadtk's ``FrechetAudioDistance.score_inf`` (microsoft/fadtk ``fadtk/fad.py``, lines
    304-350): the reference Gaussian is fitted to all reference windows; for ``steps`` sample
    sizes ``n`` evenly spaced from ``min_n`` to the number of generated windows, ``n`` generated
    windows are drawn **with replacement**, the distance computed, and a line fitted to the
    distance against ``1/n`` (least squares); the intercept is FAD-∞, returned with the slope
    and the fit's R². fadtk's default ``min_n`` is 500 windows; with fewer generated windows
    than 1000 MuseBench starts at half of them (``min_n = min(500, n_windows // 2)``).

    Returns
    -------
    dict
        ``value`` (the intercept; may be negative for sets that are close, as the linear fit
        extrapolates), ``slope``, ``r2``, ``points`` ([n, distance] pairs), ``min_n``, ``steps``;
        ``value`` is None when fewer than 4 generated windows make a fit meaningless.
    """
    gen = np.concatenate(validate_embeddings(generated, name="frechet_inf: generated"))
    ref = np.concatenate(validate_embeddings(reference, name="frechet_inf: reference"))
    if gen.shape[1] != ref.shape[1]:
        raise BadInputError(f"frechet_inf: generated embeddings have dim {gen.shape[1]}, reference {ref.shape[1]}")
    max_n = len(gen)
    lo_n = min(500, max_n // 2) if min_n is None else int(min_n)
    if max_n < 4 or lo_n < 2 or lo_n >= max_n:
        return {"value": None, "slope": None, "r2": None, "points": [], "min_n": lo_n, "steps": steps}
    ns = [int(n) for n in np.linspace(lo_n, max_n, steps)]
    rng = np.random.default_rng(seed)
    mu_r, sig_r = gaussian_stats(ref)
    points = []
    with single_thread_blas():
        for n in ns:
            idx = rng.choice(max_n, size=n, replace=True)
            points.append([n, frechet_distance(*gaussian_stats(gen[idx]), mu_r, sig_r)])
    xs = 1.0 / np.asarray(ns, dtype=np.float64)
    ys = np.asarray([d for _, d in points])
    slope, intercept = np.polyfit(xs, ys, 1)
    ss = float(np.sum((ys - ys.mean()) ** 2))
    r2 = 1.0 - float(np.sum((ys - (slope * xs + intercept)) ** 2)) / ss if ss > 0 else 1.0
    return {"value": float(intercept), "slope": float(slope), "r2": r2, "points": points, "min_n": lo_n,
            "steps": steps}


#: kadtk reports MMD² multiplied by this (``SCALE_FACTOR``), so KAD values read as in its papers
KAD_SCALE = 100.0


def median_pairwise_distance(x: np.ndarray) -> float:
    """Median Euclidean distance over all pairs of rows (the kernel bandwidth heuristic)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return 1.0
    sq = np.sum(x * x, axis=1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0, None)
    iu = np.triu_indices(len(x), k=1)
    med = float(np.median(np.sqrt(d2[iu])))
    return med if med > 0 else 1.0


def kad(generated: Sequence[np.ndarray], reference: Sequence[np.ndarray], *, bandwidth: float | None = None,
        n_resamples: int = 200, confidence: float = 0.95, seed: int = 0, paired: bool = False) -> dict[str, Any]:
    """Kernel Audio Distance: the unbiased estimator of MMD² with a Gaussian kernel, times 100.

    KAD (Chung et al., "KAD: No More FAD!", 2025; the kadtk toolkit): with the characteristic
    kernel ``k(a, b) = exp(-|a - b|^2 / (2 sigma^2))`` over all windows of each set,
    ``MMD²_u = mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j)``,
    reported as ``100 * MMD²_u`` (kadtk's ``SCALE_FACTOR``). Unbiased: its expectation is 0 for
    two samples of one distribution, whatever their size, so it may be slightly negative.
    ``sigma`` is the median pairwise distance of the **reference** windows (the same kernel
    for every system on a task; kadtk's code takes the median of its second argument).
    The interval is :func:`centred_interval` of a clip bootstrap (no lower bound).
    """
    gen = validate_embeddings(generated, name="kad: generated")
    ref = validate_embeddings(reference, name="kad: reference")
    if gen[0].shape[1] != ref[0].shape[1]:
        raise BadInputError(f"kad: generated embeddings have dim {gen[0].shape[1]}, reference {ref[0].shape[1]}")
    if paired and len(gen) != len(ref):
        raise BadInputError(f"kad: paired sets need equally many clips, got {len(gen)} and {len(ref)}")
    sigma = float(bandwidth) if bandwidth is not None else median_pairwise_distance(np.concatenate(ref))
    gamma = 1.0 / (2.0 * sigma * sigma)

    def value_of(g: np.ndarray, r: np.ndarray) -> float:
        return KAD_SCALE * _mmd2_unbiased(g, r, gamma)

    with single_thread_blas():
        value = value_of(np.concatenate(gen), np.concatenate(ref))
        rng = np.random.default_rng(seed)
        reps = []
        for _ in range(n_resamples):
            gi = rng.integers(0, len(gen), len(gen))
            ri = gi if paired else rng.integers(0, len(ref), len(ref))
            reps.append(value_of(np.concatenate([gen[i] for i in gi]), np.concatenate([ref[i] for i in ri])))
    lo, hi = centred_interval(value, reps, confidence=confidence, lower_bound=None)
    return {"mean": value, "ci_low": lo, "ci_high": hi, "n": len(gen), "n_generated": len(gen),
            "n_reference": len(ref), "bandwidth": sigma, "scale": KAD_SCALE, "paired": paired,
            "n_resamples": n_resamples, "ci_method": "clip bootstrap, centred on the estimate (centred_interval)"}


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray, gamma: float) -> float:
    def kernel_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sa, sb = np.sum(a * a, axis=1), np.sum(b * b, axis=1)
        return np.exp(-gamma * np.clip(sa[:, None] + sb[None, :] - 2.0 * a @ b.T, 0.0, None))

    m, n = len(x), len(y)
    if m < 2 or n < 2:
        return float("nan")
    kxx, kyy, kxy = kernel_sum(x, x), kernel_sum(y, y), kernel_sum(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def per_clip_frechet(generated: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> list[float]:
    """Each generated clip's own Fréchet distance to the whole reference set (fadtk's per-song
    FAD, ``FrechetAudioDistance.score_individual`` in ``fadtk/fad.py``, lines 353-388): a
    Gaussian fitted to the clip's windows against the Gaussian of all reference windows. Large
    values point at the outliers of a set."""
    gen = validate_embeddings(generated, name="per-clip frechet: generated")
    ref = np.concatenate(validate_embeddings(reference, name="per-clip frechet: reference"))
    mu_r, sig_r = gaussian_stats(ref)
    with single_thread_blas():
        return [frechet_distance(*gaussian_stats(c), mu_r, sig_r) for c in gen]


def real_floor(reference: Sequence[np.ndarray], *, seed: int = 0) -> dict[str, Any]:
    """The distance between two disjoint halves of the reference clips (seeded split): what two
    real sets of this size score, i.e. the floor below which no system can be told apart from
    real data. Fréchet and KAD; None with fewer than 4 reference clips."""
    ref = validate_embeddings(reference, name="floor: reference")
    if len(ref) < 4:
        return {"frechet": None, "kad": None, "n_per_half": len(ref) // 2}
    order = np.random.default_rng(seed).permutation(len(ref))
    a, b = [ref[i] for i in order[: len(ref) // 2]], [ref[i] for i in order[len(ref) // 2:]]
    with single_thread_blas():
        fd = frechet_distance(*gaussian_stats(np.concatenate(a)), *gaussian_stats(np.concatenate(b)))
    sigma = median_pairwise_distance(np.concatenate(ref))
    k = KAD_SCALE * _mmd2_unbiased(np.concatenate(a), np.concatenate(b), 1.0 / (2.0 * sigma * sigma))
    return {"frechet": fd, "kad": k, "n_per_half": len(a)}


# ---- memorization -----------------------------------------------------------------------------
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
    from .stats import bootstrap_mean_ci

    d = np.asarray(distances, dtype=np.float64)
    flags = (d < threshold).astype(np.float64)
    ci = bootstrap_mean_ci(flags, seed=seed)
    return {**ci.to_json(), "n_flagged": int(flags.sum()), "threshold": float(threshold)}


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
