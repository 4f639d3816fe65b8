"""Generation metrics: descriptors, coherence, Fréchet distance, memorization (no models)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from musebench.embeddings import EMBEDDINGS, frechet_metric_spec, get_embedding, pool_windows
from musebench.errors import BadInputError, ConfigError
from musebench.metrics import METRICS
from musebench.metrics import generation as gm

SR = 16000
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "generation"


# ---- validate ---------------------------------------------------------------------------------
def test_validate_rejects_bad_audio_with_one_line_messages():
    with pytest.raises(BadInputError, match=r"^clip: audio is empty \(zero samples\)$"):
        gm.validate(np.zeros(0), name="clip")
    with pytest.raises(BadInputError, match=r"^clip: audio must be 1-D \(mono\), got shape \(4, 2\)$"):
        gm.validate(np.zeros((4, 2)), name="clip")
    with pytest.raises(BadInputError, match=r"^clip: audio contains 2 NaN/inf sample\(s\)$"):
        gm.validate(np.array([0.0, np.nan, np.inf, 0.1]), name="clip")
    assert gm.validate(np.array([0, 1], np.int16)).dtype == np.float64


# ---- descriptors ------------------------------------------------------------------------------
def test_silence_ratio(sine):
    assert gm.silence_ratio(np.zeros(SR), sample_rate=SR) == 1.0
    assert gm.silence_ratio(sine(seconds=1.0), sample_rate=SR) == 0.0
    half = np.concatenate([np.zeros(SR), sine(seconds=1.0)])
    # 62 frames of 1024 samples every 512 (the last zero-padded); frames 0..29 end by sample 16000
    assert gm.silence_ratio(half, sample_rate=SR) == pytest.approx(30 / 62)
    quiet = sine(amplitude=10 ** (-70 / 20) * np.sqrt(2))  # -70 dBFS RMS: silent at -60, not at -80
    assert gm.silence_ratio(quiet, sample_rate=SR) == 1.0
    assert gm.silence_ratio(quiet, sample_rate=SR, threshold_db=-80.0) == 0.0


def test_clipping_ratio():
    x = np.array([0.0, 0.5, 0.999, -1.0, 1.0, -0.2, 0.9989, 0.3])
    assert gm.clipping_ratio(x) == 3 / 8
    assert gm.clipping_ratio(x, level=0.5) == 5 / 8


def test_spectral_flatness_orders_noise_above_tones_and_silence_is_one(sine):
    rng = np.random.default_rng(0)
    white = 0.1 * rng.standard_normal(SR)
    assert gm.spectral_flatness(white, sample_rate=SR) > 0.5
    assert gm.spectral_flatness(sine(), sample_rate=SR) < 0.01
    assert gm.spectral_flatness(np.zeros(SR), sample_rate=SR) == 1.0


def test_pitch_salience_and_pitch_class_profile():
    p = np.zeros((4, 88))
    p[:, 39] = [0.9, 0.8, 0.2, 0.0]   # C4 (MIDI 60)
    p[:, 46] = [0.1, 0.5, 0.6, 0.4]   # G4 (MIDI 67)
    assert gm.pitch_salience(p) == pytest.approx((0.9 + 0.8 + 0.6 + 0.4) / 4)
    profile = gm.pitch_class_profile(p)
    expected = np.zeros(12)
    expected[0] = 0.9 + 0.8             # 0.2 and 0.0 are below the 0.3 frame threshold
    expected[7] = 0.5 + 0.6 + 0.4
    np.testing.assert_allclose(profile, expected)
    with pytest.raises(BadInputError, match="posteriorgram must be a non-empty 2-D array"):
        gm.pitch_salience(np.zeros(5))


def test_profile_correlation_edge_cases():
    a = np.arange(12.0)
    assert gm.profile_correlation(a, 2 * a + 1) == pytest.approx(1.0)
    assert gm.profile_correlation(a, -a) == pytest.approx(-1.0)
    assert gm.profile_correlation(a, np.zeros(12)) == 0.0  # nothing sounds: no correlation
    with pytest.raises(BadInputError, match=r"shapes differ \(\(12,\) vs \(3,\)\)"):
        gm.profile_correlation(a, np.zeros(3))


def test_coherence_from_posteriorgrams():
    seed = np.zeros((10, 88))
    seed[:, [39, 43, 46]] = 0.9                       # C major triad
    same_key = np.zeros((10, 88))
    same_key[:, [51, 55, 58]] = 0.8                   # the same triad an octave up
    other = np.zeros((10, 88))
    other[:, [40, 44, 47]] = 0.8                      # C# major
    assert gm.seed_coherence(seed, same_key) == pytest.approx(1.0)
    assert gm.seed_coherence(seed, other) < 0
    assert gm.continuation_correlation(np.zeros((10, 88)), seed) == 0.0


def test_evaluate_returns_the_scores_it_can(sine):
    scores = gm.evaluate(sine(), sample_rate=SR)
    assert sorted(scores) == ["clipping_ratio", "silence_ratio", "spectral_flatness"]
    pg = np.full((5, 88), 0.1)
    pg[:, 39] = 0.7
    scores = gm.evaluate(sine(), sample_rate=SR, posteriorgram=pg, seed_posteriorgram=pg, reference_posteriorgram=pg)
    assert scores["pitch_salience"] == pytest.approx(0.7)
    assert scores["seed_coherence"] == pytest.approx(1.0)
    assert scores["continuation_correlation"] == pytest.approx(1.0)
    with pytest.raises(BadInputError, match="coherence scores need the generated clip's posteriorgram"):
        gm.evaluate(sine(), sample_rate=SR, seed_posteriorgram=pg)


# ---- Fréchet ----------------------------------------------------------------------------------
def test_frechet_distance_closed_forms_and_scipy():
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2
    assert gm.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[9.0]])) \
        == pytest.approx(4.0 + 1.0)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((50, 6)), rng.standard_normal((40, 6)) @ rng.standard_normal((6, 6))
    mu1, s1 = gm.gaussian_stats(a)
    mu2, s2 = gm.gaussian_stats(b)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    reference = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    assert gm.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-9, abs=1e-9)
    assert gm.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)
    # a singular covariance (fewer samples than dimensions) stays finite and non-negative
    few = rng.standard_normal((3, 6))
    assert gm.frechet_distance(*gm.gaussian_stats(few), mu2, s2) >= 0


def test_frechet_paired_identical_sets_give_zero_with_zero_ci():
    rng = np.random.default_rng(2)
    clips = [rng.standard_normal((8, 3)) for _ in range(12)]
    r = gm.frechet(clips, clips, paired=True, n_resamples=50)
    assert r.value == 0.0
    assert r.ci_low == pytest.approx(0.0, abs=1e-12) and r.ci_high == pytest.approx(0.0, abs=1e-12)
    assert (r.n_generated, r.n_reference, r.n_windows_generated, r.dim) == (12, 12, 96, 3)
    assert r.warning is None
    unpaired = gm.frechet(clips, clips, n_resamples=50)
    assert unpaired.value == 0.0 and unpaired.ci_high > 0  # two bootstrap samples of one set differ


def test_frechet_separates_distributions_and_warns_on_small_samples():
    rng = np.random.default_rng(3)
    ref = [rng.standard_normal((10, 4)) for _ in range(6)]
    near = [rng.standard_normal((10, 4)) + 0.1 for _ in range(6)]
    far = [rng.standard_normal((10, 4)) + 3.0 for _ in range(6)]
    r_near, r_far = gm.frechet(near, ref, n_resamples=100), gm.frechet(far, ref, n_resamples=100)
    assert r_far.value > r_near.value and r_far.ci_low > r_near.ci_high
    assert r_far.ci_low <= r_far.value <= r_far.ci_high
    assert r_far.warning == ("small sample: 6 clips (< 10); the covariance is poorly estimated and the distance "
                             "biased upward; compare runs only on the same task and through the CI")
    thin = gm.frechet([rng.standard_normal((3, 40)) for _ in range(12)], [rng.standard_normal((3, 40))] * 12,
                      n_resamples=10)
    assert thin.warning.startswith("small sample: 36 windows for 40 dimensions (< 2 per dimension);")
    js = thin.to_json()
    assert js["mean"] == thin.value and js["n"] == 12 and js["dim"] == 40 and js["n_windows_reference"] == 36


def test_frechet_input_errors():
    with pytest.raises(BadInputError, match="^frechet: generated: no clips$"):
        gm.frechet([], [np.zeros((2, 2))])
    with pytest.raises(BadInputError, match="paired sets need equally many clips, got 1 generated and 2 reference"):
        gm.frechet([np.zeros((2, 2))], [np.zeros((2, 2))] * 2, paired=True)
    with pytest.raises(BadInputError, match="generated embeddings have dim 2, reference 3"):
        gm.frechet([np.zeros((2, 2))], [np.zeros((2, 3))])
    with pytest.raises(BadInputError, match="clip 0 has non-finite embedding values"):
        gm.frechet([np.full((2, 2), np.nan)], [np.zeros((2, 2))])


# ---- memorization -----------------------------------------------------------------------------
def test_memorization_flags_copies_and_calibrates_on_held_out_clips():
    rng = np.random.default_rng(4)
    train = [rng.standard_normal((30, 5)) for _ in range(10)]
    held_out = [rng.standard_normal((30, 5)) for _ in range(6)]
    index = gm.build_memorization_index(train, held_out)
    assert np.median(index.calibration) == pytest.approx(1.0)
    assert index.threshold == pytest.approx(0.5 * index.calibration.min())
    copy = train[3][5:25]
    assert gm.memorization_distance(copy, index) == pytest.approx(0.0, abs=1e-6)
    novel = rng.standard_normal((20, 5))
    assert gm.memorization_distance(novel, index) > index.threshold
    ratio = gm.memorized_ratio([0.0, 0.0, 1.2, 0.9], threshold=index.threshold)
    assert (ratio["mean"], ratio["n"], ratio["n_flagged"]) == (0.5, 4, 2)
    with pytest.raises(ConfigError, match=r"threshold_factor must be in \(0, 1\], not 2"):
        gm.build_memorization_index(train, held_out, threshold_factor=2)
    with pytest.raises(BadInputError, match="calibration clips are copies of training clips"):
        gm.build_memorization_index(train, train)


# ---- embeddings -------------------------------------------------------------------------------
def test_pool_windows_counts_and_stats():
    feats = np.arange(20.0)[:, None] * np.ones((1, 2))
    pooled = pool_windows(feats, frame_rate=10, window_seconds=0.5, hop_seconds=0.3, stats=("mean", "std"))
    assert pooled.shape == (6, 4)  # starts 0, 3, 6, 9, 12, 15 (window 5 frames)
    np.testing.assert_allclose(pooled[1], [5.0, 5.0, np.sqrt(2.0), np.sqrt(2.0)])
    assert pool_windows(feats[:3], frame_rate=10, window_seconds=1.0, hop_seconds=0.5).shape == (1, 2)
    with pytest.raises(ConfigError, match="unknown statistic 'max'"):
        pool_windows(feats, frame_rate=10, window_seconds=0.5, hop_seconds=0.5, stats=("max",))


def test_mfcc_embedding_shape_and_silence_is_finite(sine):
    emb = get_embedding("mfcc", window_seconds=1.0, hop_seconds=0.5)
    x = emb.embed(sine(seconds=3.0), sample_rate=SR)
    assert x.shape == (5, 52) and emb.dim == 52
    silent = emb.embed(np.zeros(2 * SR, np.float32), sample_rate=SR)
    assert np.all(np.isfinite(silent))
    # resampled input gives (nearly) the same embedding
    x22 = emb.embed(sine(seconds=3.0, sample_rate=22050), sample_rate=22050)
    np.testing.assert_allclose(x22[:, :20], x[:, :20], atol=2.0)


def test_embedding_registry_and_plugin_metric_spec():
    assert {"mfcc", "basic-pitch"} <= set(EMBEDDINGS.names())
    with pytest.raises(Exception, match="did you mean 'mfcc'"):
        get_embedding("mfc")
    spec = frechet_metric_spec("my-clap")
    assert (spec.name, spec.family, spec.higher_is_better, spec.aggregate) == \
        ("frechet_my_clap", "generation", False, "set")
    assert METRICS.get("frechet_mfcc").aggregate == "set" and METRICS.get("memorized_ratio").aggregate == "set"
    with pytest.raises(ConfigError, match="embedding 'mfcc': unknown parameter\\(s\\) colour"):
        get_embedding("mfcc", colour="red")


# ---- regression triples -----------------------------------------------------------------------
def test_regression_fixtures():
    """Stored inputs and expected scores, made by scripts/generate_generation_fixtures.py."""
    inputs = dict(np.load(FIXTURES / "inputs.npz"))
    expected = json.loads((FIXTURES / "expected.json").read_text())
    clips = sorted(k for k in inputs if k.startswith("clip_"))
    assert len(clips) == 5 and len(expected) == 7
    for name in clips:
        got = gm.evaluate(inputs[name], sample_rate=SR)
        for key, value in expected[name].items():
            assert got[key] == pytest.approx(value, abs=1e-9), (name, key)
    pg = expected["posteriorgrams"]
    assert gm.pitch_salience(inputs["pg_a"]) == pytest.approx(pg["pitch_salience_a"], abs=1e-9)
    assert gm.seed_coherence(inputs["pg_a"], inputs["pg_b"]) == pytest.approx(pg["seed_coherence_ab"], abs=1e-9)
    gen = [inputs[f"fd_gen_{k}"] for k in range(4)]
    ref = [inputs[f"fd_ref_{k}"] for k in range(4)]
    assert gm.frechet(gen, ref, n_resamples=0).value == pytest.approx(expected["frechet"]["value"], abs=1e-9)
