"""Set-level distances between the window embeddings of generated and reference clips.

:func:`frechet` (with a clip-bootstrap CI and a small-sample warning), :func:`frechet_inf`
(fadtk's FAD-inf), :func:`kad` (Kernel Audio Distance), :func:`per_clip_frechet` (fadtk's
per-song FAD) and :func:`real_floor` (what two halves of the real set score). Every Fréchet
distance goes through :func:`musebench.metrics.frechet.frechet_distance`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BadInputError
from .frechet import frechet_distance, gaussian_stats

__all__ = ["single_thread_blas", "validate_embeddings", "FrechetResult", "sample_size_warning", "frechet",
           "centred_interval", "frechet_inf", "KAD_SCALE", "median_pairwise_distance", "kad",
           "per_clip_frechet", "real_floor", "MIN_WINDOWS_PER_DIM", "MIN_CLIPS"]

#: Fréchet warns when there are fewer windows than this many per embedding dimension
MIN_WINDOWS_PER_DIM = 2.0
#: ... or fewer clips than this in either set
MIN_CLIPS = 10


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
