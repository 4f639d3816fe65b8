"""Statistics over per-item scores: means with bootstrap confidence intervals, paired tests.

All resampling is seeded, so the same scores give the same intervals on every machine.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class MeanCI:
    mean: float
    ci_low: float
    ci_high: float
    n: int

    def to_json(self) -> dict[str, float | int | None]:
        def clean(x: float):
            return None if not np.isfinite(x) else float(x)

        return {"mean": clean(self.mean), "ci_low": clean(self.ci_low), "ci_high": clean(self.ci_high), "n": self.n}


def bootstrap_mean_ci(values, *, confidence: float = 0.95, n_resamples: int = DEFAULT_RESAMPLES,
                      seed: int = DEFAULT_SEED) -> MeanCI:
    """Mean of ``values`` with a percentile bootstrap CI (resampling items with replacement).

    NaN values are dropped. With fewer than two values the interval collapses to the mean.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return MeanCI(float("nan"), float("nan"), float("nan"), 0)
    mean = float(x.mean())
    if n < 2 or np.all(x == x[0]):
        return MeanCI(mean, mean, mean, n)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    means = x[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return MeanCI(mean, float(lo), float(hi), n)


def paired_bootstrap_ci(a, b, *, confidence: float = 0.95, n_resamples: int = DEFAULT_RESAMPLES,
                        seed: int = DEFAULT_SEED) -> MeanCI:
    """Mean of the paired differences ``b - a`` with a percentile bootstrap CI."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return bootstrap_mean_ci(b - a, confidence=confidence, n_resamples=n_resamples, seed=seed)


def wilcoxon_p(a, b, *, alternative: str = "two-sided") -> float:
    """Wilcoxon signed-rank p-value for paired samples (1.0 when all differences are zero)."""
    from scipy import stats

    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    d = d[np.isfinite(d)]
    if len(d) == 0 or np.all(d == 0):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(d, alternative=alternative, zero_method="wilcox").pvalue)
