"""Set-level distances with known bias (issue 14, part 4): FAD-inf, KAD, per-clip Fréchet and
the real-vs-real floor, each checked against an independent implementation of its published
formula; every point estimate lies inside its own interval."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from scipy import stats

from musebench.metrics import generation as gm


def clips(rng, n_clips: int, n_windows: int = 12, dim: int = 4, shift: float = 0.0) -> list[np.ndarray]:
    return [rng.normal(shift, 1.0, (n_windows, dim)) for _ in range(n_clips)]


def fd_published(x: np.ndarray, y: np.ndarray) -> float:
    """Fréchet distance as written in Heusel et al. 2017 / Kilgour et al. 2019, with scipy's sqrtm."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_frechet_equals_the_published_formula():
    rng = np.random.default_rng(0)
    g, r = clips(rng, 10, shift=0.3), clips(rng, 10)
    res = gm.frechet(g, r, n_resamples=50)
    assert res.value == pytest.approx(fd_published(np.concatenate(g), np.concatenate(r)), rel=1e-8)


def test_per_clip_frechet_equals_the_formula_clip_by_clip():
    rng = np.random.default_rng(1)
    g, r = clips(rng, 5, n_windows=20), clips(rng, 8)
    g[3] = g[3] + 3.0  # an outlier clip
    got = gm.per_clip_frechet(g, r)
    want = [fd_published(c, np.concatenate(r)) for c in g]
    assert got == pytest.approx(want, rel=1e-8)
    assert int(np.argmax(got)) == 3


def test_frechet_inf_follows_fadtk_and_fits_like_linregress():
    rng = np.random.default_rng(2)
    g, r = clips(rng, 20, dim=3), clips(rng, 20, dim=3)
    out = gm.frechet_inf(g, r, seed=7)
    gen, ref = np.concatenate(g), np.concatenate(r)
    max_n = len(gen)
    ns = [int(n) for n in np.linspace(min(500, max_n // 2), max_n, 25)]
    assert [n for n, _ in out["points"]] == ns and out["min_n"] == max_n // 2
    replay = np.random.default_rng(7)
    for n, d in out["points"]:  # the same draws, the distance by the published formula
        idx = replay.choice(max_n, size=n, replace=True)
        assert d == pytest.approx(fd_published(gen[idx], ref), rel=1e-7, abs=1e-10)
    fit = stats.linregress(1.0 / np.array(ns), [d for _, d in out["points"]])
    assert out["value"] == pytest.approx(fit.intercept, rel=1e-8, abs=1e-12)
    assert out["slope"] == pytest.approx(fit.slope, rel=1e-8)
    assert out["r2"] == pytest.approx(fit.rvalue ** 2, rel=1e-8)


def test_frechet_inf_extrapolates_the_one_over_n_bias_of_fewer_windows():
    """With enough windows the distance falls with n along a line in 1/n, and the intercept lies
    below the distance at any finite n. (FAD-inf as fadtk defines it draws from the generated set
    itself, so it removes the bias of evaluating fewer windows, not that of the finite set; on a few
    hundred windows the fit is noisy: results.json keeps r2 and the points.)"""
    rng = np.random.default_rng(9)
    g, r = clips(rng, 100, n_windows=20, dim=16), clips(rng, 200, n_windows=20, dim=16)
    out = gm.frechet_inf(g, r, seed=0)
    assert out["r2"] > 0.7 and out["slope"] > 0
    assert out["value"] < min(d for _, d in out["points"])
    # measured: the intercept lands near the plain full-set distance (0.055 vs 0.069), far below
    # the distance of 1,000 drawn windows (0.29): the bias it removes is the drawing's
    plain = gm.frechet(g, r, n_resamples=0).value
    assert abs(out["value"] - plain) < 0.5 * plain < out["points"][0][1]


def kad_published(x: np.ndarray, y: np.ndarray, sigma: float) -> float:
    """Unbiased MMD² (Gretton et al. 2012, eq. 3) with a Gaussian kernel, written as loops; x100."""
    k = lambda a, b: math.exp(-float(np.sum((a - b) ** 2)) / (2 * sigma ** 2))  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return 100.0 * (xx + yy - 2 * xy)


def test_kad_equals_the_published_unbiased_mmd():
    rng = np.random.default_rng(3)
    g, r = clips(rng, 4, n_windows=6, shift=0.5), clips(rng, 5, n_windows=6)
    out = gm.kad(g, r, n_resamples=20)
    ref = np.concatenate(r)
    pairs = [np.linalg.norm(ref[i] - ref[j]) for i in range(len(ref)) for j in range(i + 1, len(ref))]
    assert out["bandwidth"] == pytest.approx(float(np.median(pairs)), rel=1e-10)
    assert out["mean"] == pytest.approx(kad_published(np.concatenate(g), ref, out["bandwidth"]), rel=1e-9)
    assert out["ci_low"] <= out["mean"] <= out["ci_high"]


def test_kad_is_unbiased_for_two_samples_of_one_distribution():
    vals = []
    for seed in range(30):
        rng = np.random.default_rng(200 + seed)
        vals.append(gm.kad(clips(rng, 3, n_windows=5), clips(rng, 3, n_windows=5), n_resamples=0)["mean"])
    vals = np.array(vals)
    assert abs(vals.mean()) < 3 * vals.std(ddof=1) / np.sqrt(len(vals))
    assert (vals < 0).any()  # an unbiased estimator of 0 goes below it


@pytest.mark.parametrize("paired", [False, True])
def test_every_point_estimate_lies_inside_its_interval(paired):
    rng = np.random.default_rng(4)
    same = clips(rng, 8)
    res = gm.frechet(same, same, n_resamples=100, paired=paired)  # an oracle: distance 0
    assert res.value == pytest.approx(0.0, abs=1e-9) and res.ci_low <= res.value <= res.ci_high
    for seed in range(5):
        rng = np.random.default_rng(seed)
        g, r = clips(rng, 8, shift=0.2), clips(rng, 8)
        res = gm.frechet(g, r, n_resamples=100, paired=paired)
        assert res.ci_low <= res.value <= res.ci_high
        k = gm.kad(g, r, n_resamples=50, paired=paired)
        assert k["ci_low"] <= k["mean"] <= k["ci_high"]


def test_centred_interval_keeps_the_bootstrap_spread():
    lo, hi = gm.centred_interval(10.0, [12.0, 13.0, 14.0, 15.0, 16.0], confidence=0.5)
    # quantiles 13, 14 (median), 15 -> [10 - 1, 10 + 1]
    assert (lo, hi) == pytest.approx((9.0, 11.0))
    assert gm.centred_interval(0.0, [1.0, 2.0, 3.0]) [0] == 0.0  # clipped at 0 for distances


def test_real_floor_splits_the_reference_into_disjoint_halves():
    rng = np.random.default_rng(5)
    r = clips(rng, 10)
    out = gm.real_floor(r, seed=0)
    order = np.random.default_rng(0).permutation(10)
    a, b = np.concatenate([r[i] for i in order[:5]]), np.concatenate([r[i] for i in order[5:]])
    assert out["n_per_half"] == 5 and out["frechet"] == pytest.approx(fd_published(a, b), rel=1e-8)
    assert gm.real_floor(r[:3])["frechet"] is None


def test_run_summary_and_leaderboard_show_floor_and_small_sample_warning(tmp_path):
    import json

    from musebench.leaderboard import build_leaderboards
    from musebench.report import render
    from musebench.results import metric_notes

    m = {"mean": 50.0, "ci_low": 40.0, "ci_high": 70.0, "n": 4, "floor": 30.0, "floor_clips_per_half": 2,
         "reference_set": "the true continuations of the same 4 items", "higher_is_better": False,
         "warning": "small sample: 4 clips (< 10)"}
    data = {"metrics": {"frechet_mfcc": m}}
    (line,) = metric_notes(data)
    assert line == ("frechet_mfcc: against the true continuations of the same 4 items; real-vs-real floor 30 "
                    "(two halves of 2 clips); warning: small sample: 4 clips (< 10)")
    d = tmp_path / "runs" / "synth-continuation" / "noise" / "r1"
    (d / "items").mkdir(parents=True)
    ids = [f"c{k}" for k in range(4)]
    (d / "config.json").write_text(json.dumps({"item_ids": ids}))
    for i in ids:
        (d / "items" / f"{i}.json").write_text(json.dumps({"id": i, "status": "ok", "scores": {}}))
    (d / "results.json").write_text(json.dumps({
        "schema_version": 1, "run_id": "r1", "created": "2026-01-01",
        "task": {"name": "synth-continuation", "version": 2, "metrics": ["frechet_mfcc"]},
        "dataset": {"fingerprint": "a" * 64, "verified": True}, "model": {"name": "noise", "params": {}},
        "limit": None, "metrics": {"frechet_mfcc": m}, "n_items": 4, "n_scored": 4, "failures": [],
        "timing": {"real_time_factor": None}}))
    text = render(build_leaderboards(results_dir=tmp_path, task="synth-continuation"))
    assert "Warning: small sample: 4 clips (< 10)" in text and "frechet_mfcc floor" in text, text
