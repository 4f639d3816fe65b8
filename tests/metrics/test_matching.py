"""musebench.metrics.matching gives exactly mir_eval's note matching and scores.

Thousands of seeded random cases built to hit the tolerance edges (onsets on 10/25/50 ms grids
and accumulated sums, pitches exactly 50 cents apart, offsets exactly at the tolerance), dense
chords and repeated notes, compared with mir_eval 0.8.2 for identical matched pairs and
bit-identical precision, recall, F-measure and average overlap ratio.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from musebench.errors import BadInputError
from musebench.metrics import matching as M

DATA = Path(__file__).resolve().parents[1] / "data" / "transcription"
CONFIGS = [  # (offset_ratio, strict)
    (None, False),
    (0.2, False),
    (0.2, True),
    (None, True),
]


def hz(midi, cents=0.0):
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69) / 12 + np.asarray(cents) / 1200)


def mir_pairs(pairs) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in pairs]


def mir_prf(*args, velocity=False, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = mir_eval.transcription_velocity if velocity else mir_eval.transcription
        return module.precision_recall_f1_overlap(*args, **kw)


# --------------------------------------------------------------------------- random cases
def random_case(rng: np.random.Generator):
    """Small note sets built to produce ties at every tolerance edge."""
    kind = rng.choice(["grid", "accumulated", "far", "continuous", "chords"])
    n = int(rng.integers(0, 25))
    grid = float(rng.choice([0.01, 0.025, 0.05]))
    if kind == "grid":
        onsets = rng.integers(0, 40, n) * grid
    elif kind == "accumulated":  # 0.05 + 0.05 + ... carries binary rounding errors
        onsets = np.cumsum(np.full(40, grid))[rng.integers(0, 40, n)]
    elif kind == "far":  # the same grid far from zero, where spacing between floats is larger
        onsets = float(rng.choice([1000.0, 3600.123, 86399.9])) + rng.integers(0, 40, n) * grid
    elif kind == "continuous":
        onsets = rng.uniform(0, 2, n)
    else:  # few onsets, few pitches: dense chords, repeated notes, many maximum matchings
        onsets = rng.choice([0.0, 0.02, 0.05, 0.1], n)
    durations = np.where(rng.random(n) < 0.7, rng.choice([0.05, 0.1, 0.25, 0.3, 0.5, 1.0], n),
                         rng.uniform(0.01, 1.5, n))
    midi = rng.choice([60, 61, 72] if kind == "chords" else np.arange(55, 67), n)
    ref_cents = rng.choice([0.0, 0.0, 0.0, 25.0], n)
    ref = (np.c_[onsets, onsets + durations], hz(midi, ref_cents), rng.integers(1, 128, n).astype(float))

    # estimate: perturbed copies (shifts by exactly the tolerances) plus random notes
    k = int(rng.integers(0, n + 1)) if n else 0
    src = rng.integers(0, n, k) if n else np.zeros(0, int)
    on = onsets[src] + rng.choice([0.0, 0.0, 0.01, -0.01, 0.05, -0.05, 0.06, 0.05004, 0.05005], k)
    off = onsets[src] + durations[src] + rng.choice([0.0, 0.05, -0.05], k) \
        + rng.choice([0.0, 0.2, -0.2, 0.1], k) * durations[src]
    cents = ref_cents[src] + rng.choice([0.0, 50.0, -50.0, 49.99999, 50.00001, 100.0, 30.0], k)
    e_midi = midi[src].astype(float)
    r = int(rng.integers(0, 8))
    on = np.r_[on, rng.choice(onsets, r) if n else rng.uniform(0, 2, r)]
    off = np.r_[off, on[k:] + rng.choice([0.05, 0.25, 1.0], r)]
    cents = np.r_[cents, np.zeros(r)]
    e_midi = np.r_[e_midi, rng.choice([60, 61, 62, 72], r)]
    on = np.maximum(on, 0.0)
    off = np.maximum(off, on + 0.01)
    velocity = rng.integers(1, 128, len(on)).astype(float)
    if len(src) and rng.random() < 0.5:  # estimated velocities that do follow the reference
        velocity[:k] = np.clip(ref[2][src] * 0.7 + 12 + rng.normal(0, 4, k), 1, 127).round()
    est = (np.c_[on, off], hz(e_midi, cents), velocity)
    perm = rng.permutation(len(on))  # note order must not matter to either implementation's equality
    est = tuple(a[perm] for a in est)
    return ref, est


def random_kwargs(rng: np.random.Generator) -> dict:
    if rng.random() < 0.7:
        return {}
    return {"onset_tolerance": float(rng.choice([0.02, 0.05, 0.1])),
            "pitch_tolerance": float(rng.choice([25.0, 50.0, 100.0])),
            "offset_min_tolerance": float(rng.choice([0.05, 0.1]))}


@pytest.mark.parametrize("block", range(5))
def test_random_cases_equal_mir_eval(block):
    rng = np.random.default_rng(1000 + block)
    edge_pairs = 0
    for _ in range(300):
        (ri, rp, rv), (ei, ep, ev) = random_case(rng)
        extra = random_kwargs(rng)
        for offset_ratio, strict in CONFIGS:
            kw = dict(extra, offset_ratio=offset_ratio, strict=strict)
            expected = mir_pairs(mir_eval.transcription.match_notes(ri, rp, ei, ep, **kw))
            assert M.match_notes(ri, rp, ei, ep, **kw) == expected, (block, kw)
            ours = M.precision_recall_f1_overlap(ri, rp, ei, ep, **kw)
            theirs = mir_prf(ri, rp, ei, ep, **kw)
            assert ours == tuple(theirs), (block, kw)  # exact, average overlap ratio included
        # the velocity variant (its result depends on which pairs were chosen)
        for offset_ratio in (None, 0.2):
            kw = dict(extra, offset_ratio=offset_ratio)
            if len(rp):
                expected = mir_pairs(mir_eval.transcription_velocity.match_notes(ri, rp, rv, ei, ep, ev, **kw))
                assert M.match_notes_with_velocity(ri, rp, rv, ei, ep, ev, **kw) == expected
            ours = M.precision_recall_f1_overlap_with_velocity(ri, rp, rv, ei, ep, ev, **kw)
            assert ours == tuple(mir_prf(ri, rp, rv, ei, ep, ev, velocity=True, **kw))
        loose = M.candidate_pairs(ri, rp, ei, ep, **extra)[0].size
        edge_pairs += loose - M.candidate_pairs(ri, rp, ei, ep, strict=True, **extra)[0].size
    assert edge_pairs > 100  # the cases do exercise pairs exactly at a tolerance


def test_large_piano_like_case_equals_mir_eval():
    rng = np.random.default_rng(7)
    n = 2000
    onsets = np.repeat(np.cumsum(rng.exponential(0.2, n // 2)), 2)[:n]  # two-note chords
    midi = np.clip(60 + np.round(rng.normal(0, 7, n)), 21, 108)
    ref_i = np.c_[onsets, onsets + rng.uniform(0.05, 1.0, n)]
    keep = rng.random(n) > 0.05
    est_on = np.maximum(onsets[keep] + rng.normal(0, 0.02, keep.sum()), 0)
    est_i = np.c_[est_on, est_on + (ref_i[keep, 1] - ref_i[keep, 0]) * rng.uniform(0.7, 1.3, keep.sum())]
    est_midi = midi[keep] + rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 1, 12], keep.sum())
    ref_v, est_v = rng.integers(20, 120, n).astype(float), rng.integers(20, 120, keep.sum()).astype(float)
    for offset_ratio in (None, 0.2):
        args = (ref_i, hz(midi), est_i, hz(est_midi))
        assert M.match_notes(*args, offset_ratio=offset_ratio) == mir_pairs(
            mir_eval.transcription.match_notes(*args, offset_ratio=offset_ratio))
        assert M.precision_recall_f1_overlap(*args, offset_ratio=offset_ratio) == tuple(
            mir_prf(*args, offset_ratio=offset_ratio))
    vargs = (ref_i, hz(midi), ref_v, est_i, hz(est_midi), est_v)
    assert M.precision_recall_f1_overlap_with_velocity(*vargs) == tuple(mir_prf(*vargs, velocity=True))


@pytest.mark.parametrize("chunk", [1, 7, 100])
def test_chunked_candidate_search_gives_the_same_pairs(monkeypatch, chunk):
    rng = np.random.default_rng(3)
    onsets = np.sort(rng.choice(np.arange(60) * 0.025, 300))
    ref_i = np.c_[onsets, onsets + 0.3]
    est_i = ref_i[rng.permutation(300)[:250]] + rng.choice([0.0, 0.025, 0.05], (250, 1))
    rp, ep = hz(rng.choice([60, 64, 67], 300)), hz(rng.choice([60, 64, 67], 250))
    expected = M.match_notes(ref_i, rp, est_i, ep)
    monkeypatch.setattr(M, "_CHUNK_PAIRS", chunk)
    assert M.match_notes(ref_i, rp, est_i, ep) == expected
    assert expected == mir_pairs(mir_eval.transcription.match_notes(ref_i, rp, est_i, ep))


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_other_dtypes_follow_mir_eval(dtype):
    rng = np.random.default_rng(11)
    for _ in range(100):
        (ri, rp, _), (ei, ep, _) = random_case(rng)
        if dtype is np.int64:  # integer "times" (e.g. ticks) with integer tolerances
            ri, ei = np.round(ri * 40).astype(dtype), np.round(ei * 40).astype(dtype)
            ei[:, 1] = np.maximum(ei[:, 1], ei[:, 0] + 1)
            ri[:, 1] = np.maximum(ri[:, 1], ri[:, 0] + 1)
            kw = {"onset_tolerance": 2, "offset_min_tolerance": 2}
        else:
            ri, ei, rp, ep = ri.astype(dtype), ei.astype(dtype), rp.astype(dtype), ep.astype(dtype)
            kw = {}
        for offset_ratio, strict in CONFIGS:
            args = (ri, rp, ei, ep)
            assert M.match_notes(*args, offset_ratio=offset_ratio, strict=strict, **kw) == mir_pairs(
                mir_eval.transcription.match_notes(*args, offset_ratio=offset_ratio, strict=strict, **kw))


# --------------------------------------------------------------------------- known edges
@pytest.mark.parametrize("ref_on, est_on, loose, strict", [
    (0.1, 0.15, [(0, 0)], []),      # |0.1 - 0.15| = 0.04999999999999999 -> rounded 0.05
    (0.15, 0.2, [(0, 0)], []),      # 0.05000000000000002 -> rounded 0.05 (kept only thanks to rounding)
    (0.0, 0.05005, [(0, 0)], []),   # mir_eval rounds to 4 decimals: 0.05005 -> 0.05
    (0.0, 0.0501, [], []),
    (1000.1, 1000.15, [(0, 0)], []),  # 0.049999999999954525 -> 0.05
    (0.0, 0.04999, [(0, 0)], []),     # strict excludes it too: 0.04999 rounds to 0.05
    (0.0, 0.04994, [(0, 0)], [(0, 0)]),
])
def test_onset_tolerance_edges(ref_on, est_on, loose, strict):
    ref_i, est_i = np.array([[ref_on, ref_on + 1.0]]), np.array([[est_on, est_on + 1.0]])
    for is_strict, expected in ((False, loose), (True, strict)):
        kw = dict(offset_ratio=None, strict=is_strict)
        assert M.match_notes(ref_i, hz([60]), est_i, hz([60]), **kw) == expected
        assert mir_pairs(mir_eval.transcription.match_notes(ref_i, hz([60]), est_i, hz([60]), **kw)) == expected


@pytest.mark.parametrize("ref_hz, cents, loose, strict", [
    (440.0, 50.0, [(0, 0)], [(0, 0)]),   # distance 49.99999999999929: cents are not rounded,
    (440.0, -50.0, [(0, 0)], [(0, 0)]),  # so even strict=True keeps "exactly 50 cents" here
    (261.6255653005986, -50.0, [], []),  # 50.000000000000355: and drops it here
    (4186.009044809578, -50.0, [], []),  # 50.00000000000142
    (440.0, 49.99999, [(0, 0)], [(0, 0)]),
    (440.0, 50.00001, [], []),
])
def test_pitch_tolerance_edges(ref_hz, cents, loose, strict):
    ref_i = est_i = np.array([[0.0, 1.0]])
    ref_p, est_p = np.array([ref_hz]), np.array([ref_hz * 2 ** (cents / 1200)])
    for is_strict, expected in ((False, loose), (True, strict)):
        assert M.match_notes(ref_i, ref_p, est_i, est_p, strict=is_strict) == expected
        assert mir_pairs(mir_eval.transcription.match_notes(ref_i, ref_p, est_i, est_p, strict=is_strict)) == expected


@pytest.mark.parametrize("ref_interval, est_offset, loose, strict", [
    ([0.0, 1.0], 1.2, [(0, 0)], []),       # tolerance 0.2 * 1.0
    ([0.0, 1.0], 0.8, [(0, 0)], []),
    ([0.0, 1.0], 1.2001, [], []),
    ([0.0, 0.1], 0.15, [(0, 0)], []),      # tolerance max(0.02, 0.05) = 0.05
    ([0.0, 0.1], 0.05005, [(0, 0)], []),   # 0.04995 rounds to 0.05 (float 0.0499 or 0.05)
    ([0.0, 0.25], 0.3, [(0, 0)], []),      # 0.2 * 0.25 = 0.05 = the minimum
    ([0.0, 0.3], 0.36, [(0, 0)], []),      # 0.2 * 0.3 = 0.06; |0.3 - 0.36| rounds to 0.06
])
def test_offset_tolerance_edges(ref_interval, est_offset, loose, strict):
    ref_i, est_i = np.array([ref_interval]), np.array([[0.0, est_offset]])
    for is_strict, expected in ((False, loose), (True, strict)):
        assert M.match_notes(ref_i, hz([60]), est_i, hz([60]), strict=is_strict) == expected
        assert mir_pairs(mir_eval.transcription.match_notes(
            ref_i, hz([60]), est_i, hz([60]), strict=is_strict)) == expected


def test_pair_choice_and_overlap_ratio_follow_mir_eval():
    # Two maximum matchings exist: mir_eval's Hopcroft-Karp (greedy start in estimate order)
    # pairs est 0 with ref 0; the other matching would give a higher overlap ratio.
    ref_i = np.array([[0.0, 0.5], [0.01, 1.0]])
    est_i = np.array([[0.0, 1.0], [0.01, 0.5]])
    p = hz([60, 60])
    assert M.match_notes(ref_i, p, est_i, p, offset_ratio=None) == [(0, 0), (1, 1)]
    ours = M.precision_recall_f1_overlap(ref_i, p, est_i, p, offset_ratio=None)
    assert ours == (1.0, 1.0, 1.0, (0.5 / 1.0 + 0.49 / 0.99) / 2)
    assert ours == tuple(mir_prf(ref_i, p, est_i, p, offset_ratio=None))


def test_dense_unison_block_matches_mir_eval_pairs():
    # 12 identical-pitch notes within 50 ms on both sides: a complete bipartite graph where
    # the matched pairs (and so the overlap ratio) depend on the algorithm's visiting order.
    rng = np.random.default_rng(5)
    ref_on, est_on = rng.uniform(0, 0.04, 12), rng.uniform(0, 0.04, 9)
    ref_i = np.c_[ref_on, ref_on + rng.uniform(0.1, 1, 12)]
    est_i = np.c_[est_on, est_on + rng.uniform(0.1, 1, 9)]
    args = (ref_i, hz([60] * 12), est_i, hz([60] * 9))
    expected = mir_pairs(mir_eval.transcription.match_notes(*args, offset_ratio=None))
    assert len(expected) == 9
    assert M.match_notes(*args, offset_ratio=None) == expected
    assert M.precision_recall_f1_overlap(*args, offset_ratio=None) == tuple(mir_prf(*args, offset_ratio=None))


# --------------------------------------------------------------------------- empty and invalid
@pytest.mark.parametrize("n_ref, n_est", [(0, 0), (0, 3), (3, 0)])
def test_empty_inputs(n_ref, n_est):
    ref_i = np.c_[np.arange(n_ref) * 0.5, np.arange(n_ref) * 0.5 + 0.2].reshape(-1, 2)
    est_i = np.c_[np.arange(n_est) * 0.5, np.arange(n_est) * 0.5 + 0.2].reshape(-1, 2)
    rp, ep = hz(np.full(n_ref, 60)), hz(np.full(n_est, 60))
    rv, ev = np.full(n_ref, 80.0), np.full(n_est, 80.0)
    for offset_ratio in (None, 0.2):
        assert M.match_notes(ref_i, rp, est_i, ep, offset_ratio=offset_ratio) == []
        assert mir_pairs(mir_eval.transcription.match_notes(ref_i, rp, est_i, ep, offset_ratio=offset_ratio)) == []
    assert M.precision_recall_f1_overlap(ref_i, rp, est_i, ep) == (0.0, 0.0, 0.0, 0.0)
    assert mir_prf(ref_i, rp, est_i, ep) == (0.0, 0.0, 0.0, 0.0)
    assert M.precision_recall_f1_overlap_with_velocity(ref_i, rp, rv, est_i, ep, ev) == (0.0, 0.0, 0.0, 0.0)
    # mir_eval's velocity match_notes raises on an empty reference (np.min of nothing); ours is empty
    assert M.match_notes_with_velocity(ref_i, rp, rv, est_i, ep, ev) == []


def test_zero_length_notes():
    ref_i = np.array([[0.0, 0.0], [0.5, 0.5]])
    est_i = np.array([[0.01, 0.01], [0.5, 0.6]])
    p = hz([60, 62])
    # onsets only: neither implementation looks at durations
    assert M.match_notes(ref_i, p, est_i, p, offset_ratio=None) == [(0, 0), (1, 1)]
    assert mir_pairs(mir_eval.transcription.match_notes(ref_i, p, est_i, p, offset_ratio=None)) == [(0, 0), (1, 1)]
    message = ("reference note 0 has a non-positive duration (onset 0.0, offset 0.0); "
               "every note must end after it starts")
    with pytest.raises(BadInputError) as err:
        M.match_notes(ref_i, p, est_i, p)
    assert str(err.value) == message
    with pytest.raises(ValueError):  # mir_eval too (BadInputError is a ValueError)
        mir_eval.transcription.match_notes(ref_i, p, est_i, p)
    with pytest.raises(BadInputError, match="non-positive duration"):
        M.precision_recall_f1_overlap(ref_i, p, est_i, p, offset_ratio=None)
    with pytest.raises(ValueError):
        mir_prf(ref_i, p, est_i, p, offset_ratio=None)


GOOD_I, GOOD_P = np.array([[0.0, 1.0], [1.0, 2.0]]), hz([60, 62])


@pytest.mark.parametrize("ref_i, ref_p, est_i, est_p, message", [
    (np.zeros((2, 3)), GOOD_P, GOOD_I, GOOD_P, "reference intervals must have shape (n, 2), got (2, 3)"),
    (GOOD_I, GOOD_P[:1], GOOD_I, GOOD_P, "reference pitches has 1 values but there are 2 reference notes"),
    (GOOD_I, GOOD_P, np.array([[0.0, np.nan], [1.0, 2.0]]), GOOD_P,
     "estimated intervals contain NaN or infinite values"),
    (GOOD_I, GOOD_P, np.array([[-0.5, 1.0], [1.0, 2.0]]), GOOD_P,
     "estimated intervals contain negative times (first at note 0)"),
    (GOOD_I, np.array([261.6, 0.0]), GOOD_I, GOOD_P,
     "reference pitches must be positive frequencies in Hz (found 0.0)"),
    (GOOD_I, GOOD_P, GOOD_I, np.array(["a", "b"]), "estimated pitches must be real numbers, got dtype <U1"),
])
def test_invalid_inputs_raise_one_line_errors(ref_i, ref_p, est_i, est_p, message):
    with pytest.raises(BadInputError) as err:
        M.precision_recall_f1_overlap(ref_i, ref_p, est_i, est_p)
    assert str(err.value) == message


def test_invalid_velocities_and_tolerances():
    v = np.array([80.0, 90.0])
    with pytest.raises(BadInputError) as err:
        M.precision_recall_f1_overlap_with_velocity(GOOD_I, GOOD_P, v, GOOD_I, GOOD_P, np.array([-1.0, 5.0]))
    assert str(err.value) == "estimated velocities must not be negative (found -1.0)"
    with pytest.raises(BadInputError) as err:
        M.match_notes(GOOD_I, GOOD_P, GOOD_I, GOOD_P, onset_tolerance=float("inf"))
    assert str(err.value) == "onset_tolerance must be a finite number, got inf"


# --------------------------------------------------------------------------- regression fixtures
def _fixture_names() -> list[str]:
    return sorted(p.name[: -len(".ref.mid")] for p in DATA.glob("*.ref.mid")
                  if (DATA / p.name.replace(".ref.mid", ".est.mid")).exists())


def test_regression_fixtures_equal_mir_eval():
    from musebench.midi import read_midi

    names = _fixture_names()
    if not names:
        pytest.skip(f"no transcription fixtures in {DATA}")
    for name in names:
        meta = json.loads((DATA / f"{name}.scores.json").read_text())
        pedal = bool(meta.get("sustain_pedal", False))
        ref = read_midi(DATA / f"{name}.ref.mid", sustain_pedal=pedal)
        est = read_midi(DATA / f"{name}.est.mid", sustain_pedal=False)
        ref, est = ref.select(~ref.is_drum), est.select(~est.is_drum)
        args = (ref.intervals, mir_eval.util.midi_to_hz(ref.pitches), ref.velocities,
                est.intervals, mir_eval.util.midi_to_hz(est.pitches), est.velocities)
        for offset_ratio in (None, 0.2):
            plain = (args[0], args[1], args[3], args[4])
            assert M.precision_recall_f1_overlap(*plain, offset_ratio=offset_ratio) == tuple(
                mir_prf(*plain, offset_ratio=offset_ratio)), name
            assert M.precision_recall_f1_overlap_with_velocity(*args, offset_ratio=offset_ratio) == tuple(
                mir_prf(*args, offset_ratio=offset_ratio, velocity=True)), name


def test_regression_fixtures_through_transcription_metrics():
    """Plugged into musebench.metrics.transcription, the stored expected scores come out."""
    from musebench.metrics import transcription
    from musebench.midi import read_midi

    names = _fixture_names()
    if not names:
        pytest.skip(f"no transcription fixtures in {DATA}")
    for name in names:
        meta = json.loads((DATA / f"{name}.scores.json").read_text())
        ref = read_midi(DATA / f"{name}.ref.mid", sustain_pedal=bool(meta.get("sustain_pedal", False)))
        est = read_midi(DATA / f"{name}.est.mid")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = transcription.evaluate(ref, est, matcher=M.match_notes)
            default = transcription.evaluate(ref, est)
        assert got == default, name
        for key, value in meta["scores"].items():
            assert got[key] == pytest.approx(value, abs=1e-9), (name, key)
