"""metrics/frechet.py: the one Fréchet distance of translation and generation."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from musebench.errors import BadInputError
from musebench.metrics import frechet


def test_singular_covariances_against_a_closed_form():
    """Fewer clips than dimensions, the common case: two commuting covariances of rank 7 in 38
    dimensions (plus 1e-6 on the diagonal, as translation adds), whose root has a closed form:
    tr((S1 S2)^(1/2)) = sum sqrt(d1 d2). The nuclear-norm form is exact to rounding; sqrtm and
    the eigenvalues of S1^(1/2) S2 S1^(1/2) are off by 3e-8 and 7e-8 relative here."""
    rng = np.random.default_rng(0)
    d = 38
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    d1 = np.r_[rng.uniform(1, 300, 7), np.zeros(d - 7)] + 1e-6
    d2 = np.r_[rng.uniform(1, 300, 7)[::-1], np.zeros(d - 7)] + 1e-6
    s1, s2 = q @ np.diag(d1) @ q.T, q @ np.diag(d2) @ q.T
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    exact = d * 0.25 + d1.sum() + d2.sum() - 2 * np.sqrt(d1 * d2).sum()
    assert frechet.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(exact, rel=1e-12)


def test_well_conditioned_covariances_equal_pytorch_fids_sqrtm():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((200, 6)), rng.standard_normal((150, 6)) @ rng.standard_normal((6, 6))
    (mu1, s1), (mu2, s2) = frechet.gaussian_stats(a), frechet.gaussian_stats(b)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real  # pytorch-fid's calculate_frechet_distance
    reference = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    assert frechet.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-11)
    assert frechet.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_gaussian_stats():
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    mu, sigma = frechet.gaussian_stats(x, eps=0.5)
    np.testing.assert_allclose(mu, [1.0, 2.0])
    np.testing.assert_allclose(sigma, [[2.5, 2.0], [2.0, 2.5]])  # unbiased, plus eps on the diagonal
    mu, sigma = frechet.gaussian_stats(x[:1])
    assert np.all(sigma == 0) and sigma.shape == (2, 2)
    with pytest.raises(BadInputError, match="non-empty"):
        frechet.gaussian_stats(np.zeros((0, 3)))


def test_shape_mismatch_is_bad_input():
    with pytest.raises(BadInputError, match="shapes do not match"):
        frechet.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
