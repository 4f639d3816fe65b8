"""Translation metrics: invariants on seeded synthetic signals, edge cases, regression triples."""
from __future__ import annotations

import json
import os
import platform
import warnings
from pathlib import Path

import numpy as np
import pytest

from musebench.errors import BadInputError, ConfigError
from musebench.metrics import frechet
from musebench.metrics import translation as tm
from musebench.metrics.alignment import alignment_features
from musebench.metrics.translation_signals import SR, melody
from musebench.types import Notes

DATA = Path(__file__).resolve().parents[1] / "data" / "translation"


def feats(audio: np.ndarray) -> tm.Features:
    return tm.extract_features(audio, sample_rate=SR)


# --- invariants -------------------------------------------------------------------------------

def test_identical_signals_correlate_one():
    x = melody(1)
    f = feats(x)
    scores = tm.evaluate(x, x.copy(), x.copy(), sample_rate=SR)
    for name in ("content_correlation", "content_correlation_dtw", "timbre_correlation", "timbre_correlation_dtw",
                 "source_timbre_correlation"):
        assert scores[name] == pytest.approx(1.0, abs=1e-12), name
    same = tm.normalized_correlation(f.chroma, f.chroma, active_x=f.active, active_y=f.active)
    assert same == pytest.approx(1.0, abs=1e-12)


def test_gain_does_not_change_scores():
    x = melody(2)
    a = tm.evaluate(x, x * 0.05, sample_rate=SR)
    assert a["content_correlation"] == pytest.approx(1.0, abs=1e-9)
    assert a["source_timbre_correlation"] == pytest.approx(1.0, abs=1e-9)


def test_time_stretched_copy_correlates_higher_after_dtw():
    x = melody(3)
    y = melody(3, stretch=1.25)
    scores = tm.evaluate(x, y, sample_rate=SR)
    assert scores["content_correlation_dtw"] > scores["content_correlation"] + 0.2
    assert scores["content_correlation_dtw"] > 0.8
    assert scores["content_correlation"] < 0.6


def test_transposition_lowers_content_correlation():
    x = melody(4)
    same = tm.evaluate(x, melody(4, harmonics=(1.0, 0.1, 0.6, 0.05)), sample_rate=SR)["content_correlation"]
    moved = tm.evaluate(x, melody(4, transpose=1), sample_rate=SR)["content_correlation"]
    assert same > 0.8 > 0.3 > moved


def test_program_change_lowers_timbre_correlation_with_source():
    pytest.importorskip("tinysoundfont")
    from musebench.render import render_notes

    notes = Notes.from_arrays(intervals=[[0.1, 0.6], [0.6, 1.1], [1.1, 1.9], [0.1, 1.9]],
                              pitches=[67, 71, 74, 55], velocities=[90, 90, 90, 70])
    piano = render_notes(notes, sample_rate=SR, program_override=0)
    again = render_notes(notes, sample_rate=SR, program_override=0)
    violin = render_notes(notes, sample_rate=SR, program_override=40)
    assert tm.evaluate(piano, again, sample_rate=SR)["source_timbre_correlation"] == pytest.approx(1.0, abs=1e-12)
    changed = tm.evaluate(piano, violin, sample_rate=SR)
    assert changed["source_timbre_correlation"] < 0.6
    assert changed["content_correlation"] > changed["source_timbre_correlation"]


def test_fastdtw_cost_within_one_percent_of_exact_dtw():
    """On what the metric aligns (the same music, stretched and in another timbre)."""
    import librosa

    for seed in range(4):
        a = alignment_features(feats(melody(seed)))
        b = alignment_features(feats(melody(seed, stretch=1.05 + 0.1 * seed, harmonics=(1.0, 0.1, 0.7, 0.3))))
        cost, path = tm.dtw(a, b, radius=tm.DEFAULT_RADIUS)
        D = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean", backtrack=False)
        exact = float(D[-1, -1])
        assert exact <= cost <= 1.01 * exact
        assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (len(a) - 1, len(b) - 1)
        assert np.all(np.diff(path, axis=0) >= 0)


def test_memory_and_frames_are_linear():
    x = melody(5)
    f = feats(x)
    assert len(f) == 1 + len(x) // 1024
    assert f.log_cqt.shape == (len(f), 84) and f.chroma.shape == (len(f), 12) and f.mfcc.shape == (len(f), 19)
    assert f.config.frame_rate == 15.625


# --- edge cases -------------------------------------------------------------------------------

def test_silent_output_scores_zero():
    x = melody(6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # evaluate must not leak warnings for a silent output
        scores = tm.evaluate(x, np.zeros_like(x), x, sample_rate=SR,
                             source_notes=Notes.from_arrays(intervals=[[0, 1]], pitches=[60]),
                             output_notes=Notes.empty())
    assert scores == {"content_correlation": 0.0, "content_correlation_dtw": 0.0, "source_timbre_correlation": 0.0,
                      "timbre_correlation": 0.0, "timbre_correlation_dtw": 0.0, "pitch_accuracy": 0.0}
    assert feats(np.zeros(SR, np.float32)).silent


def test_silent_source_is_an_error():
    with pytest.raises(BadInputError, match=r"^source: audio is silent"):
        tm.evaluate(np.zeros(SR, np.float32), melody(0), sample_rate=SR)


def test_both_silent_warns_and_scores_zero():
    f = feats(np.zeros(SR, np.float32))
    with pytest.warns(UserWarning, match="both signals are silent"):
        assert tm.normalized_correlation(f.chroma, f.chroma, active_x=f.active, active_y=f.active) == 0.0


def test_different_lengths_count_missing_frames_as_silence():
    x = melody(7)
    half = x[: len(x) // 2]
    fx, fh = feats(x), feats(half)
    r = tm.frame_correlations(fx.chroma, fh.chroma, active_x=fx.active, active_y=fh.active)
    assert len(r) == len(fx)
    tail = r[len(fh):]
    assert np.all(tail[fx.active[len(fh):]] == 0.0)
    assert np.all(np.isnan(tail[~fx.active[len(fh):]]))


@pytest.mark.parametrize("audio, sr, message", [
    (np.array([0.0, np.nan, 0.1], np.float32), SR, r"^output: audio contains 1 NaN/inf sample\(s\)$"),
    (np.zeros((10, 2), np.float32), SR, r"^output: audio must be mono \(1-D\), got shape \(10, 2\)$"),
    (np.zeros(0, np.float32), SR, r"^output: audio is empty \(zero samples\)$"),
    (np.zeros(100, np.float32), 22050, r"^output: sample rate 22050 Hz, but the features need 16000 Hz$"),
])
def test_validate_rejects_bad_audio(audio, sr, message):
    with pytest.raises(BadInputError, match=message):
        tm.validate(audio, sample_rate=sr, name="output")


def test_feature_config_errors():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) hop"):
        tm.FeatureConfig.from_params({"hop": 512})
    with pytest.raises(ConfigError, match="content_backend must be 'stft' or 'cqt'"):
        tm.FeatureConfig(content_backend="mel")
    for radius in (0, -1, 1.5, True):  # radius 0 would crash fastdtw's C extension
        with pytest.raises(ConfigError, match="radius must be a positive integer"):
            tm.dtw(np.zeros((3, 2)), np.zeros((3, 2)), radius=radius)


def test_cqt_backend_agrees_on_content():
    x, y = melody(8), melody(8, harmonics=(1.0, 0.2, 0.5))
    fast = tm.evaluate(x, y, sample_rate=SR)["content_correlation"]
    cqt = tm.FeatureConfig(content_backend="cqt")
    slow = tm.evaluate(x, y, sample_rate=SR, config=cqt)["content_correlation"]
    assert abs(fast - slow) < 0.1


# --- pitch accuracy and Frechet distance ------------------------------------------------------

def test_pitch_accuracy_equals_mir_eval_onset_f1():
    import mir_eval

    ref = Notes.from_arrays(intervals=[[0.0, 0.5], [0.5, 1.0], [1.0, 1.5]], pitches=[60, 62, 64])
    est = Notes.from_arrays(intervals=[[0.02, 0.3], [0.5, 1.4], [1.2, 1.5]], pitches=[60, 62, 64])
    expected = mir_eval.transcription.precision_recall_f1_overlap(
        ref.intervals, mir_eval.util.midi_to_hz(ref.pitches), est.intervals, mir_eval.util.midi_to_hz(est.pitches),
        onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None)[2]
    assert tm.pitch_accuracy(ref, est) == pytest.approx(expected, abs=1e-12) == pytest.approx(2 / 3)
    assert tm.pitch_accuracy(ref, Notes.empty()) == 0.0


def test_target_domain_distance_known_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 3))
    assert tm.target_domain_distance(a, a) == pytest.approx(0.0, abs=1e-5)
    # equal covariances: the distance is the squared distance of the means
    assert tm.target_domain_distance(a, a + np.array([3.0, 0.0, 4.0])) == pytest.approx(25.0, abs=1e-5)
    # 1-D Gaussians: (m1 - m2)^2 + (s1 - s2)^2
    b = np.array([[-1.0], [1.0]]) * np.sqrt(0.5)  # unbiased variance 1
    c = np.array([[-2.0], [2.0]]) * np.sqrt(0.5) + 1.0  # variance 4, mean 1
    assert tm.target_domain_distance(b, c, eps=0.0) == pytest.approx(1.0 + 1.0, abs=1e-9)
    with pytest.raises(BadInputError, match="need at least 2 embeddings per set, got 1 and 2"):
        tm.target_domain_distance(a[:1], a[:2])
    with pytest.raises(BadInputError, match="NaN or inf"):
        tm.target_domain_distance(np.array([[0.0], [np.nan]]), b)


def test_target_domain_distance_is_the_one_frechet_distance():
    """metrics/frechet.py with eps on both diagonals: the same number, bit for bit."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((8, 38)), rng.standard_normal((8, 38)) + 0.5  # fewer clips than dimensions
    eps = tm.FRECHET_EPS
    expected = frechet.frechet_distance(*frechet.gaussian_stats(a, eps=eps), *frechet.gaussian_stats(b, eps=eps))
    assert tm.target_domain_distance(a, b) == expected
    assert np.isfinite(expected) and expected > 0


def test_clip_embedding_shape():
    e = tm.clip_embedding(feats(melody(9)))
    assert e.shape == (38,) and np.all(np.isfinite(e))


# --- regression triples -----------------------------------------------------------------------

def test_regression_triples():
    """Expected scores written by scripts/generate_translation_fixtures.py. The features are
    rounded to float32 from float64 products, so they are the same on every CPU (a float32 BLAS
    product once flipped a DTW near-tie: wrong-notes timbre_correlation_dtw 0.136469 on one CPU,
    0.136751 on another); the float64 statistics after them still vary in their last bits, hence
    1e-9 rather than equality."""
    cases = json.loads((DATA / "regression.json").read_text())
    assert cases, "no regression cases"
    for case in cases:
        spec = case["signals"]
        src = melody(**spec["source"])
        out = melody(**spec["output"])
        ref = melody(**spec["reference"])
        scores = tm.evaluate(src, out, ref, sample_rate=SR)
        for name, value in case["expected"].items():
            assert scores[name] == pytest.approx(value, abs=1e-9), (case["name"], name)


def _openblas_dynamic_arch() -> bool:
    try:
        config = np.show_config(mode="dicts")
    except TypeError:  # NumPy < 1.26
        return False
    blas = (config or {}).get("Build Dependencies", {}).get("blas", {})
    return "openblas" in str(blas.get("name", "")).lower() and "DYNAMIC_ARCH" in str(blas)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not _openblas_dynamic_arch(), reason="needs NumPy on OpenBLAS built with DYNAMIC_ARCH")
def test_features_do_not_depend_on_the_blas_kernel():
    """OpenBLAS picks its kernels by CPU; OPENBLAS_CORETYPE forces another CPU's. The DTW near-tie
    of the wrong-notes triple (0.136469 vs 0.136751 with float32 products) must not move."""
    import subprocess
    import sys

    code = ("from musebench.metrics import translation as tm\n"
            "from musebench.metrics.translation_signals import SR, melody\n"
            "s = tm.evaluate(melody(3), melody(4), melody(3, transpose=2), sample_rate=SR)\n"
            "print(repr(s['timbre_correlation_dtw']))\n")
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    if " avx2" not in flags:
        pytest.skip("the Haswell kernels need AVX2")
    values = set()
    for core in ("Prescott", "Haswell"):  # SSE3-only and AVX2 kernels: they differed before the fix
        env = {**os.environ, "OPENBLAS_CORETYPE": core}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        values.add(round(float(out.stdout.strip()), 9))
    assert len(values) == 1, values


def _numpy_has_avx512() -> bool:
    try:  # what np.show_runtime() reads
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        return False
    return bool(__cpu_features__.get("AVX512F"))


@pytest.mark.skipif(not _numpy_has_avx512(), reason="NumPy has no AVX-512 path on this CPU")
def test_features_do_not_depend_on_numpys_simd_dispatch():
    """NumPy picks its float32 loops (log10 among them) by CPU; on an AVX-512 CPU the AVX-512 and
    AVX2 paths of float32 log10 differ in the last bit, which moved source_timbre_correlation of
    a regression triple by 1e-8. NPY_DISABLE_CPU_FEATURES forces the older paths: the features
    must be the same bytes."""
    import subprocess
    import sys

    code = ("import hashlib\n"
            "from musebench.metrics.translation_features import extract_features\n"
            "from musebench.metrics.translation_signals import SR, melody\n"
            "f = extract_features(melody(3), sample_rate=SR)\n"
            "print(hashlib.sha256(f.log_cqt.tobytes() + f.chroma.tobytes() + f.mfcc.tobytes()"
            " + f.level_db.tobytes()).hexdigest())\n")
    digests = set()
    for disabled in ("", "X86_V4 AVX512_ICL AVX512_SPR", "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"):
        env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": disabled}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1, digests


def test_dtw_uses_fastdtws_c_extension(monkeypatch):
    import sys

    import fastdtw._fastdtw  # noqa: F401  (the C extension must be installed)

    monkeypatch.setitem(sys.modules, "fastdtw._fastdtw", None)
    with pytest.raises(ConfigError, match=r"^dtw: fastdtw's C extension \(fastdtw._fastdtw\) is not installed"):
        tm.dtw(np.zeros((3, 2)), np.zeros((3, 2)))
