"""Transcription metrics: regression fixtures (mir_eval/MT3 computed independently), invariants,
edge cases, bad input, and the ``musebench score`` command."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from musebench.errors import BadInputError, ConfigError
from musebench.metrics import METRICS
from musebench.metrics import transcription as tm
from musebench.midi import read_midi, write_midi
from musebench.types import Notes

DATA = Path(__file__).resolve().parents[1] / "data" / "transcription"
FIXTURES = sorted(p.name[: -len(".scores.json")] for p in DATA.glob("*.scores.json"))
ALWAYS = {
    "onset_precision", "onset_recall", "onset_f1", "onset_offset_precision", "onset_offset_recall",
    "onset_offset_f1", "onset_velocity_f1", "onset_offset_velocity_f1", "frame_f1", "multi_instrument_f1",
    "multi_instrument_f1_midi_class", "multi_instrument_f1_flat",
    # MT3's other scores (issue 14): frame P/R, program-aware P/R and non-drum F1, the tolerance
    # sweep, and the drum onset F1 of every item (0 without drums, as MT3 averages it)
    "frame_precision", "frame_recall", "multi_instrument_precision", "multi_instrument_recall",
    "multi_instrument_nondrum_f1", "drum_onset_f1",
    *(f"onset_offset_f1_at_{t}ms" for t in (10, 20, 50, 100, 200, 500)),
}


def piece(n: int = 40, *, seed: int = 0, program: int = 0, velocity: float = 80.0) -> Notes:
    """Random non-overlapping-per-pitch notes with velocities above MT3's frame threshold."""
    rng = np.random.default_rng(seed)
    onsets = np.sort(rng.uniform(0, 10, n))
    pitches = 24 + 2 * rng.permutation(n)  # whole tones apart: a semitone error hits no other note
    return Notes.from_arrays(intervals=np.column_stack([onsets, onsets + rng.uniform(0.2, 1.0, n)]),
                             pitches=pitches, velocities=np.full(n, velocity), programs=program)


def drums(n: int = 16, *, program: int = 0) -> Notes:
    onsets = np.arange(n) * 0.25
    return Notes.from_arrays(intervals=np.column_stack([onsets, onsets + 0.01]), pitches=np.full(n, 36),
                             programs=program, is_drum=True)


def shifted(notes: Notes, *, onset: float = 0.0, pitch: float = 0.0) -> Notes:
    return Notes(notes.intervals + onset, notes.pitches + pitch, notes.velocities, notes.programs, notes.is_drum)


def quiet_evaluate(ref: Notes, est: Notes, **kwargs) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tm.evaluate(ref, est, **kwargs)


# --- regression fixtures ---------------------------------------------------------------------

def test_fixture_list_is_not_empty():
    assert len(FIXTURES) >= 8
    assert {"piano_polyphony", "tolerance_edges", "multi_instrument_drums", "empty_estimate",
            "pedal_offsets"} <= set(FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_regression_fixture(name):
    doc = json.loads((DATA / f"{name}.scores.json").read_text())
    ref = read_midi(DATA / f"{name}.ref.mid", sustain_pedal=doc["sustain_pedal"])
    est = read_midi(DATA / f"{name}.est.mid")
    assert (len(ref), len(est)) == (doc["n_ref"], doc["n_est"])
    got = quiet_evaluate(ref, est, **doc["params"])
    assert set(got) == set(doc["scores"])
    for key, want in doc["scores"].items():
        assert np.allclose(got[key], want, rtol=0, atol=1e-9), f"{name}: {key} = {got[key]!r}, expected {want!r}"


def test_fixtures_cover_distinct_situations():
    scores = {n: json.loads((DATA / f"{n}.scores.json").read_text())["scores"] for n in FIXTURES}
    pc = scores["program_confusion"]
    assert pc["multi_instrument_f1"] < pc["multi_instrument_f1_midi_class"] < pc["multi_instrument_f1_flat"]
    assert scores["tolerance_edges"]["onset_f1"] == pytest.approx(0.7)        # 7 of 10 onsets within 50 ms
    assert scores["tolerance_edges"]["onset_offset_f1"] == pytest.approx(0.5)
    assert scores["drums_only"]["onset_f1"] == 0.0
    assert scores["drums_only"]["drum_onset_f1"] == pytest.approx(scores["drums_only"]["multi_instrument_f1"])
    assert "drum_onset_f1_with_drums" not in scores["piano_polyphony"]
    assert scores["piano_polyphony"]["drum_onset_f1"] == 0.0  # MT3: 0 on an item without drums


# --- invariants --------------------------------------------------------------------------------

def test_perfect_estimate_scores_one_everywhere():
    ref = Notes.concatenate([piece(seed=1), piece(seed=2, program=33), drums()])
    scores = tm.evaluate(ref, ref)
    assert set(scores) == ALWAYS | {"drum_onset_f1_with_drums"}
    assert all(v == 1.0 for v in scores.values()), scores


def test_score_names_are_declared_in_the_catalogue():
    names = set(quiet_evaluate(drums(), drums()))
    for name in names:
        assert METRICS.get(name).family == "transcription"


def test_onsets_shifted_past_tolerance_score_zero():
    ref = piece(seed=3)
    scores = tm.evaluate(ref, shifted(ref, onset=0.06))
    for key in ("onset_f1", "onset_offset_f1", "onset_velocity_f1", "multi_instrument_f1", "multi_instrument_f1_flat"):
        assert scores[key] == 0.0
    assert 0.5 < scores["frame_f1"] < 1.0  # frames still mostly overlap


def test_onsets_shifted_within_tolerance_still_match():
    ref = piece(seed=3)
    assert tm.evaluate(ref, shifted(ref, onset=0.04))["onset_f1"] == 1.0


def test_pitch_shift_by_a_semitone_scores_zero_and_49_cents_still_matches():
    ref = piece(seed=4)
    wrong = tm.evaluate(ref, shifted(ref, pitch=1.0))
    assert wrong["onset_f1"] == wrong["frame_f1"] == wrong["multi_instrument_f1"] == 0.0
    near = tm.evaluate(ref, shifted(ref, pitch=0.49))
    assert near["onset_offset_f1"] == near["frame_f1"] == 1.0


def test_drums_do_not_change_the_note_scores():
    ref, est = piece(seed=5), shifted(piece(seed=5), onset=0.03)
    plain = tm.evaluate(ref, est)
    with_drums = tm.evaluate(Notes.concatenate([ref, drums()]), Notes.concatenate([est, drums()]))
    for key in ("onset_f1", "onset_offset_f1", "onset_velocity_f1", "frame_f1"):
        assert with_drums[key] == plain[key]
    assert "drum_onset_f1_with_drums" not in plain and plain["drum_onset_f1"] == 0.0
    assert with_drums["drum_onset_f1"] == with_drums["drum_onset_f1_with_drums"] == 1.0


def test_drums_are_scored_on_onsets_only_whatever_the_kit_program():
    ref = drums()
    est = Notes(ref.intervals + [[0.0, 0.5]], ref.pitches, ref.velocities, np.full(len(ref), 25), ref.is_drum)
    assert quiet_evaluate(ref, est)["drum_onset_f1"] == 1.0


def test_program_granularities():
    ref = Notes.concatenate([piece(seed=6, program=0), piece(seed=7, program=40)])
    est = Notes(ref.intervals, ref.pitches, ref.velocities, ref.programs + 1, ref.is_drum)  # 0->1, 40->41
    scores = tm.evaluate(ref, est)
    assert scores["multi_instrument_f1"] == 0.0
    assert scores["multi_instrument_f1_midi_class"] == scores["multi_instrument_f1_flat"] == 1.0
    assert scores["onset_offset_f1"] == 1.0
    other_class = Notes(ref.intervals, ref.pitches, ref.velocities, ref.programs + 8, ref.is_drum)
    assert tm.evaluate(ref, other_class)["multi_instrument_f1_midi_class"] == 0.0


def test_program_aware_counts_pool_over_tracks():
    piano, violin = piece(10, seed=8, program=0), piece(30, seed=9, program=40)
    ref = Notes.concatenate([piano, violin])
    est = Notes.concatenate([piano, shifted(violin, onset=0.2)])  # violin all wrong
    pooled = tm.program_aware_counts(ref, est, granularity="full")
    assert pooled["all"] == tm.MatchCounts(n_ref=40, n_est=40, n_matched=10)
    assert pooled["drum"] == tm.MatchCounts(0, 0, 0)
    assert pooled["all"].f1 == pytest.approx(0.25)  # 10 / 40, not the mean of per-track F1 (0.5)


def test_affine_velocities_are_fitted_and_random_ones_are_not():
    ref = piece(seed=10)
    rng = np.random.default_rng(0)
    ref = Notes(ref.intervals, ref.pitches, rng.integers(20, 120, len(ref)).astype(float), ref.programs, ref.is_drum)
    affine = Notes(ref.intervals, ref.pitches, 0.5 * ref.velocities + 7, ref.programs, ref.is_drum)
    assert tm.evaluate(ref, affine)["onset_velocity_f1"] == 1.0
    flat = Notes(ref.intervals, ref.pitches, np.full(len(ref), 64.0), ref.programs, ref.is_drum)
    assert tm.evaluate(ref, flat)["onset_velocity_f1"] < 0.5


def test_velocity_scores_equal_mir_eval():
    ref, est = piece(seed=11), shifted(piece(seed=11), onset=0.02)
    rng = np.random.default_rng(1)
    est = Notes(est.intervals + rng.normal(0, 0.05, est.intervals.shape).clip(-0.04, 0.04), est.pitches,
                rng.integers(1, 128, len(est)).astype(float), est.programs, est.is_drum)
    ref, est = ref.sorted(), est.sorted()
    hz = mir_eval.util.midi_to_hz
    for ratio, key in ((None, "onset_velocity_f1"), (0.2, "onset_offset_velocity_f1")):
        want = mir_eval.transcription_velocity.precision_recall_f1_overlap(
            ref.intervals, hz(ref.pitches), ref.velocities, est.intervals, hz(est.pitches), est.velocities,
            offset_ratio=ratio)[2]
        assert tm.evaluate(ref, est)[key] == pytest.approx(want, abs=1e-12)


# --- frames ----------------------------------------------------------------------------------

def test_piano_roll_cells_follow_pretty_midi_truncation_and_min_duration():
    notes = Notes.from_arrays(intervals=[[0.0, 0.1], [1.0, 1.01]], pitches=[60, 61.4], velocities=[50, 70])
    roll = tm.piano_roll(notes, frame_rate=62.5)
    assert roll.shape == (128, 65)  # int(62.5 * 1.05): the short note is lengthened to 50 ms
    assert np.flatnonzero(roll[60]).tolist() == [0, 1, 2, 3, 4, 5]  # [int(0), int(6.25))
    assert np.flatnonzero(roll[61]).tolist() == [62, 63, 64]  # [int(62.5), int(65.625)), pitch rounded
    assert roll[60, 0] == 50 and roll[61, 62] == 70


def test_frame_reference_threshold_sums_overlapping_velocities():
    a = Notes.from_arrays(intervals=[[0.0, 1.0]], pitches=[70], velocities=[20], programs=0)
    b = Notes.from_arrays(intervals=[[0.5, 1.5]], pitches=[70], velocities=[20], programs=1)
    ref = Notes.concatenate([a, b])
    p, r, f = tm.frame_scores(ref, ref)
    # only the overlap [0.5, 1.0) has 20 + 20 > 30: 31 of 93 estimated cells are "right"
    assert (p, r) == (pytest.approx(31 / 93), 1.0)
    quiet_solo = tm.frame_scores(a, a)
    assert quiet_solo == (0.0, 0.0, 0.0)  # a reference at velocity <= 30 has no active frame



def _dense_frame_scores(ref: Notes, est: Notes) -> tuple[float, float, float]:
    """frame_scores from whole piano rolls (the definition; quadratic in memory)."""
    n = max(int(tm._frame_spans(x, frame_rate=62.5, min_duration=0.05)[1].max()) for x in (ref, est))
    ref_on = tm.piano_roll(ref, n_frames=n) > 30
    est_on = tm.piano_roll(est, n_frames=n) > 0
    tp, n_ref, n_est = (int(np.count_nonzero(x)) for x in (ref_on & est_on, ref_on, est_on))
    p, r = tp / n_est if n_est else 0.0, tp / n_ref if n_ref else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@pytest.mark.parametrize("chunk", [1, 7, 64, 8192])
def test_frame_scores_in_chunks_equal_whole_rolls(monkeypatch, chunk):
    """Chunked rolls give exactly the whole rolls' counts: overlapping notes, fractional and
    zero velocities, sub-frame notes, notes across chunk edges."""
    monkeypatch.setattr(tm, "FRAME_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    for case in range(60):
        notes = []
        for _ in range(2):
            n = int(rng.integers(1, 80))
            on = rng.uniform(0, 6, n)
            off = on + rng.choice([0.001, 0.03, 0.2, 1.5], n) * rng.uniform(0.5, 1.5, n)
            vel = rng.choice([0.0, 10.0, 15.5, 16.1, 30.0, 64.3, 127.0], n)
            notes.append(Notes.from_arrays(intervals=np.stack([on, off], 1), pitches=rng.integers(60, 66, n),
                                           velocities=vel))
        ref, est = notes
        assert tm.frame_scores(ref, est) == _dense_frame_scores(ref, est), f"case {case}"


def test_unknown_velocities_are_drawn_at_default_velocity():
    ref = piece(seed=12, velocity=0.0)
    assert tm.frame_scores(ref, ref) == (1.0, 1.0, 1.0)


# --- empty input ---------------------------------------------------------------------------

def test_empty_estimate_scores_zero_with_a_warning():
    with pytest.warns(UserWarning, match="estimated notes are empty; scores involving them are 0"):
        scores = tm.evaluate(piece(seed=13), Notes.empty())
    assert set(scores) == ALWAYS and all(v == 0.0 for v in scores.values())


def test_empty_reference_scores_zero_with_a_warning():
    with pytest.warns(UserWarning, match="reference notes are empty"):
        scores = tm.evaluate(Notes.empty(), Notes.concatenate([piece(seed=14), drums()]))
    assert all(v == 0.0 for v in scores.values()) and "drum_onset_f1" in scores


def test_both_empty_score_zero_like_mir_eval():
    with pytest.warns(UserWarning):
        scores = tm.evaluate(Notes.empty(), Notes.empty())
    assert set(scores) == ALWAYS and all(v == 0.0 for v in scores.values())


def test_drum_only_reference_warns_and_scores_notes_zero():
    with pytest.warns(UserWarning) as record:
        scores = tm.evaluate(drums(), drums())
    assert [str(w.message) for w in record] == ["reference has only drum notes; note and frame scores are 0",
                                                "estimate has only drum notes; note and frame scores are 0"]
    assert scores["onset_f1"] == scores["frame_f1"] == 0.0
    assert scores["drum_onset_f1"] == scores["multi_instrument_f1"] == 1.0


# --- matcher plug-in -------------------------------------------------------------------------

def test_matcher_is_pluggable_and_identical_subsets_are_matched_once():
    calls = []

    def counting_matcher(*args, **kwargs):
        calls.append(kwargs["offset_ratio"])
        return mir_eval.transcription.match_notes(*args, **kwargs)

    ref, est = piece(seed=15), shifted(piece(seed=15), onset=0.03)
    assert tm.evaluate(ref, est, matcher=counting_matcher) == tm.evaluate(ref, est)
    # one program, no drums: onset and onset+offset matchings serve all 3 granularities; MT3's
    # tolerance sweep adds one onset+offset matching per tolerance other than the main 50 ms
    assert sorted(calls, key=str) == [0.2] * 6 + [None]


def test_note_counts_helper():
    ref = piece(seed=16)
    est = Notes.concatenate([ref.select(np.arange(30)), shifted(ref.select(np.arange(30, 40)), onset=0.2)])
    counts = tm.note_counts(ref, est, offset_ratio=None)
    assert counts == tm.MatchCounts(n_ref=40, n_est=40, n_matched=30)
    assert (counts.precision, counts.recall, counts.f1) == (0.75, 0.75, 0.75)


# --- bad input -----------------------------------------------------------------------------

def test_malformed_reference_is_named():
    bad = Notes.from_arrays(intervals=[[0.0, np.nan]], pitches=[60])
    with pytest.raises(BadInputError, match=r"^reference: note times contain NaN or inf$"):
        tm.evaluate(bad, piece())


def test_malformed_estimate_is_named():
    bad = Notes.from_arrays(intervals=[[1.0, 0.5]], pitches=[60])
    with pytest.raises(BadInputError) as err:
        tm.evaluate(piece(), bad)
    assert str(err.value) == "estimate: note 0 (pitch 60) has end <= start (0.5 s <= 1 s)"


def test_bad_parameters_raise_config_error():
    with pytest.raises(ConfigError) as err:
        tm.evaluate(piece(), piece(), onset_tolerance=0.0)
    assert str(err.value) == "transcription metrics: onset_tolerance must be a positive number (got 0.0)"
    with pytest.raises(ConfigError) as err:
        tm.map_programs(piece(), granularity="coarse")
    assert str(err.value) == ("transcription metrics: unknown program granularity 'coarse' "
                              "(known: full, midi_class, flat)")


# --- musebench score -----------------------------------------------------------------------

@pytest.fixture
def cli(monkeypatch):
    import musebench.cli as cli_pkg

    # only this subcommand: the other command modules belong to other parts of the suite
    monkeypatch.setattr(cli_pkg, "COMMAND_MODULES", ["musebench.cli.score"])
    return cli_pkg.main


def test_cli_table(cli, capsys):
    name = "multi_instrument_drums"
    code = cli(["score", "--ref", str(DATA / f"{name}.ref.mid"), "--est", str(DATA / f"{name}.est.mid")])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith("reference: ") and out[0].endswith("(160 notes, 40 drum)")
    assert out[2].split() == ["metric", "score"]
    rows = dict(line.split() for line in out[3:])
    want = json.loads((DATA / f"{name}.scores.json").read_text())["scores"]
    assert set(rows) == set(want)
    assert rows["drum_onset_f1"] == f"{want['drum_onset_f1']:.4f}"
    assert len({line.index(line.split()[1]) for line in out[2:]}) == 1  # one aligned column


def test_cli_json_with_pedal_and_tolerance(cli, capsys):
    name = "pedal_offsets"
    ref, est = str(DATA / f"{name}.ref.mid"), str(DATA / f"{name}.est.mid")
    assert cli(["score", "--ref", ref, "--est", est, "--json", "--sustain-pedal"]) == 0
    doc = json.loads(capsys.readouterr().out)
    want = json.loads((DATA / f"{name}.scores.json").read_text())["scores"]
    assert doc["sustain_pedal"] is True and doc["n_ref"] == 24
    assert doc["scores"] == pytest.approx(want, abs=1e-9)
    assert cli(["score", "--ref", ref, "--est", est, "--json", "--onset-tolerance", "0.001"]) == 0
    loose = json.loads(capsys.readouterr().out)
    assert loose["params"]["onset_tolerance"] == 0.001
    assert loose["scores"]["onset_f1"] < want["onset_f1"]


def test_cli_missing_file_exits_2_with_one_line(cli, capsys, tmp_path):
    missing = tmp_path / "nope.mid"
    code = cli(["score", "--ref", str(missing), "--est", str(DATA / "piano_polyphony.est.mid")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"musebench: error: {missing}: MIDI file not found\n"


def test_cli_empty_estimate_warns(cli, capsys, tmp_path):
    empty = tmp_path / "empty.mid"
    write_midi(Notes.empty(), empty)
    assert cli(["score", "--ref", str(DATA / "piano_polyphony.ref.mid"), "--est", str(empty), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "musebench: warning: estimated notes are empty; scores involving them are 0\n"
    assert json.loads(captured.out)["scores"]["onset_f1"] == 0.0


def test_cli_rejects_a_negative_tolerance(cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(["score", "--ref", "a.mid", "--est", "b.mid", "--onset-tolerance", "-1"])
    assert exit_info.value.code == 2
    assert "must be a positive number: '-1'" in capsys.readouterr().err
