"""The Fréchet distance between two Gaussians, for every family that reports one.

Translation's ``target_domain_distance`` (one MFCC-statistics embedding per clip) and
generation's ``frechet_<embedding>`` (all analysis windows of a set of clips) fit a Gaussian
to each set with :func:`gaussian_stats` and compare the two with :func:`frechet_distance`.

The square root
---------------
``d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))``. pytorch-fid computes the
trace term with ``scipy.linalg.sqrtm(sigma1.dot(sigma2))`` (mseitzer/pytorch-fid
``src/pytorch_fid/fid_score.py:217``, in ``calculate_frechet_distance``, commit b9c1811), then
patches its two failure modes: a non-finite root of a near-singular product (it retries with
``eps`` added to both diagonals, line 225) and "slight imaginary components" from rounding (dropped,
or an error above 1e-3, lines 229-232). Both are the common case here, where a set has fewer clips than
dimensions (8 clips and 38 dimensions in the synthetic translation tasks). MuseBench uses
the eigenvalue form instead: ``S1 S2`` is similar to the symmetric positive semi-definite
``S1^(1/2) S2 S1^(1/2)`` (``S1^(1/2) (S1^(1/2) S2 S1^(1/2)) S1^(-1/2)`` when ``S1`` is
invertible, and by continuity otherwise), so the trace of its square root is the sum of the
square roots of that matrix's eigenvalues, computed with :func:`numpy.linalg.eigh` (real,
no complex parts to drop, negative rounding clipped to 0). On well-conditioned covariances it
equals the ``sqrtm`` value to about 1e-12 relative (tests/data/generation, made with
``sqrtm`` exactly as pytorch-fid, is checked at ``rel=1e-9``).
"""
from __future__ import annotations

import numpy as np

from ..errors import BadInputError

__all__ = ["gaussian_stats", "frechet_distance"]


def gaussian_stats(x: np.ndarray, *, eps: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a set of embeddings.

    Parameters
    ----------
    x : np.ndarray, shape=(n, d)
        One embedding per row.
    eps : float
        Added to the covariance's diagonal (translation adds 1e-6, as pytorch-fid's retry
        does, so that a set of fewer clips than dimensions keeps a well-defined root).

    Returns
    -------
    mu : np.ndarray, shape=(d,), float64
    sigma : np.ndarray, shape=(d, d), float64
        Unbiased (``n - 1``) covariance; zeros (plus ``eps``) for a single row.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise BadInputError(f"gaussian_stats: embeddings must be a non-empty (n, d) array, got shape {x.shape}")
    mu = x.mean(axis=0)
    if len(x) < 2:
        sigma = np.zeros((x.shape[1], x.shape[1]))
    else:
        sigma = np.atleast_2d(np.cov(x, rowvar=False))
    if eps:
        sigma = sigma + eps * np.eye(x.shape[1])
    return mu, sigma


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2.0)
    return np.asarray((v * np.sqrt(np.clip(w, 0.0, None))) @ v.T)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``, the trace term
    as the sum of the square roots of the eigenvalues of ``sigma1^(1/2) sigma2 sigma1^(1/2)``
    (see the module docstring for why not ``scipy.linalg.sqrtm``). Clamped at 0.

    Parameters
    ----------
    mu1, mu2 : np.ndarray, shape=(d,)
    sigma1, sigma2 : np.ndarray, shape=(d, d)
        Symmetric positive semi-definite covariances (e.g. from :func:`gaussian_stats`).

    Raises
    ------
    BadInputError
        The shapes do not match.
    """
    m1, m2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if m1.shape != m2.shape or s1.shape != s2.shape or s1.shape != (len(m1), len(m1)):
        raise BadInputError(f"frechet_distance: shapes do not match (mu {m1.shape} / {m2.shape}, "
                            f"sigma {s1.shape} / {s2.shape})")
    r1 = _psd_sqrt(s1)
    inner = r1 @ s2 @ r1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    tr_covmean = float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))
    diff = m1 - m2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return max(value, 0.0)
