"""MT3's conventions on the multi-instrument datasets (issue 14, part 1): Slakh class programs,
the sustain pedal on every stem, the drum F1 averaged over all items, and MT3's other scores
(non-drum program-aware F1, precision/recall, Cerberus4's per-track scores, the tolerance sweep).

MT3 facts are checked against magenta/mt3 (``mt3/preprocessors.py``, ``mt3/metrics.py``,
``mt3/datasets.py``) and quoted in docs/transcription.md; expected scores here come from mir_eval.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pytest

import fixtures_datasets as F
from musebench.datasets.slakh import SLAKH_CLASS_PROGRAMS, Cerberus4, slakh_class_program
from musebench.metrics import METRICS
from musebench.metrics import transcription as tm
from musebench.metrics.stats import bootstrap_mean_ci
from musebench.types import Notes


def notes(rows, program=0, drum=False) -> Notes:
    a = np.array(rows, float).reshape(-1, 3)
    return Notes(a[:, :2], a[:, 2], np.full(len(a), 90.0), np.full(len(a), program, np.int64), np.full(len(a), drum))


# --- Slakh class programs ---------------------------------------------------------------------

def test_slakh_class_table_is_mt3s():
    # mt3/preprocessors.py _SLAKH_CLASS_PROGRAMS: 34 classes; a few spot checks
    assert len(SLAKH_CLASS_PROGRAMS) == 34
    assert SLAKH_CLASS_PROGRAMS["Electric Bass"] == 33 and SLAKH_CLASS_PROGRAMS["Distorted Electric Guitar"] == 29
    assert SLAKH_CLASS_PROGRAMS["Synth Pad"] == 88 and SLAKH_CLASS_PROGRAMS["Soprano/Alto Sax"] == 64


@pytest.mark.parametrize("stem, want", [
    ({"program_num": 34, "slakh_class": "Electric Bass"}, (33, False)),      # named: exact
    ({"program_num": 34, "inst_class": "Electric Bass"}, (33, False)),
    ({"program_num": 34, "inst_class": "Bass"}, (33, True)),                # GM family only: approximated
    ({"program_num": 32, "inst_class": "Bass"}, (32, True)),
    ({"program_num": 27, "inst_class": "Guitar"}, (26, True)),
    ({"program_num": 30, "inst_class": "Guitar"}, (29, True)),
    ({"program_num": 100, "inst_class": "Synth Effects"}, (100, True)),      # no class in the family
])
def test_slakh_class_program(stem, want):
    assert slakh_class_program(stem) == want


def test_program_34_for_a_program_33_stem_is_right_under_mt3s_rule(tmp_path):
    fx = F.build_slakh(tmp_path)
    ds, raw = fx.dataset(), fx.dataset(programs="raw")
    item = ds.items("test")[0]  # Track01876: stems of programs 0, 25, 33 (+ drums, 48)
    ref_class, ref_raw = ds.load_notes(item), raw.load_notes(item)
    # an estimate that is the reference with every 33 turned into 34 (same Slakh class "Electric Bass")
    est = Notes(ref_raw.intervals, ref_raw.pitches, ref_raw.velocities,
                np.where(ref_raw.programs == 33, 34, ref_raw.programs), ref_raw.is_drum)
    est_class = Notes(est.intervals, est.pitches, est.velocities,
                      np.array([0 if d else slakh_class_program({"program_num": int(p)})[0]
                                for p, d in zip(est.programs, est.is_drum)]), est.is_drum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tm.evaluate(ref_class, est_class)["multi_instrument_f1"] == 1.0
        assert tm.evaluate(ref_raw, est)["multi_instrument_f1"] < 1.0
    assert ds.fingerprint("test") != raw.fingerprint("test")  # the choice is in the fingerprint


def test_sustain_pedal_is_applied_to_every_stem_by_default(tmp_path):
    fx = F.build_slakh(tmp_path)
    ds = fx.dataset()
    item = ds.items("test")[0]
    folder = ds.track_dir(item.id)
    # give stem S00 (piano) a pedal held from 0.0 s to 1.5 s
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(folder / "MIDI" / "S00.mid"))
    pm.instruments[0].control_changes = [pretty_midi.ControlChange(64, 127, 0.0), pretty_midi.ControlChange(64, 0, 1.5)]
    pm.write(str(folder / "MIDI" / "S00.mid"))
    with_pedal = ds.load_notes(item)
    without = fx.dataset(sustain_pedal=False).load_notes(item)
    piano = lambda n: n.select((n.programs == 0) & ~n.is_drum)  # noqa: E731
    assert piano(with_pedal).offsets.max() == pytest.approx(1.5)
    assert piano(without).offsets.max() < 1.5
    assert ds.fingerprint("test") != fx.dataset(sustain_pedal=False).fingerprint("test")


# --- drum F1 averaging ------------------------------------------------------------------------

def test_drum_onset_f1_is_zero_without_drums_and_averaged_over_all_items():
    drums = notes([[0.0, 0.1, 36], [0.5, 0.6, 38]], drum=True)
    piano = notes([[0.0, 1.0, 60]])
    with_drums = tm.evaluate(Notes.concatenate([piano, drums]), Notes.concatenate([piano, drums]))
    without = tm.evaluate(piano, piano)
    assert with_drums["drum_onset_f1"] == with_drums["drum_onset_f1_with_drums"] == 1.0
    assert without["drum_onset_f1"] == 0.0 and "drum_onset_f1_with_drums" not in without
    # a run over these two items: MT3's mean is 0.5, the other average (its own name) is 1.0
    items = [with_drums, without]
    assert bootstrap_mean_ci([s["drum_onset_f1"] for s in items]).mean == 0.5
    assert bootstrap_mean_ci([s["drum_onset_f1_with_drums"] for s in items
                              if "drum_onset_f1_with_drums" in s]).mean == 1.0


# --- MT3's other scores ---------------------------------------------------------------------------

def hz(n: Notes) -> np.ndarray:
    return mir_eval.util.midi_to_hz(n.pitches)


def test_tolerance_sweep_equals_mir_eval_with_mt3s_arguments():
    rng = np.random.default_rng(0)
    on = np.sort(rng.uniform(0, 10, 60))
    ref = Notes.from_arrays(intervals=np.stack([on, on + rng.uniform(0.1, 1.0, 60)], 1),
                            pitches=rng.integers(40, 80, 60))
    est = Notes(ref.intervals + rng.normal(0, 0.04, ref.intervals.shape), ref.pitches, ref.velocities,
                ref.programs, ref.is_drum)
    est = Notes(np.stack([est.onsets, np.maximum(est.offsets, est.onsets + 0.02)], 1), est.pitches, est.velocities,
                est.programs, est.is_drum)
    got = tm.evaluate(ref, est)
    for tol in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5):  # mt3/metrics.py _note_onset_tolerance_sweep
        r, e = ref.sorted(), est.sorted()
        want = mir_eval.transcription.precision_recall_f1_overlap(
            r.intervals, hz(r), e.intervals, hz(e), onset_tolerance=tol, offset_min_tolerance=tol)[2]
        assert got[tm.sweep_name(tol)] == pytest.approx(want, abs=1e-12), tol
    assert got["onset_offset_f1_at_10ms"] < got["onset_offset_f1_at_50ms"] <= got["onset_offset_f1_at_500ms"]


def test_program_aware_precision_recall_and_nondrum_f1():
    ref = Notes.concatenate([notes([[0, 1, 60], [1, 2, 62]], program=0), notes([[0, 1, 40]], program=33),
                             notes([[0, 0.1, 36]], drum=True)])
    est = Notes.concatenate([notes([[0, 1, 60]], program=0), notes([[0, 1, 40]], program=34),
                             notes([[0, 0.1, 36], [1.0, 1.1, 38]], drum=True)])
    got = tm.evaluate(ref, est)
    # 4 reference and 4 estimated notes; matched: 1 piano (of 2), 0 bass (33 vs 34 at full granularity),
    # 1 drum (1 reference, 2 estimated)
    assert got["multi_instrument_precision"] == pytest.approx(2 / 4)
    assert got["multi_instrument_recall"] == pytest.approx(2 / 4)
    assert got["multi_instrument_nondrum_f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert got["drum_onset_f1"] == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_frame_precision_and_recall():
    ref = notes([[0.0, 1.0, 60]])
    est = notes([[0.0, 0.5, 60], [0.0, 0.5, 64]])
    p, r, f = tm.frame_scores(ref, est)
    got = tm.evaluate(ref, est)
    assert (got["frame_precision"], got["frame_recall"], got["frame_f1"]) == (p, r, f)
    assert p == pytest.approx(0.5) and r == pytest.approx(31 / 62)  # 31 of 62 reference frames


def test_cerberus4_track_specs_are_mt3s_and_scored_per_track():
    # mt3/datasets.py CERBERUS4_CONFIG.track_specs
    assert Cerberus4.track_specs == (("bass", 32, False), ("drums", 0, True), ("guitar", 24, False),
                                     ("piano", 0, False))
    ref = Notes.concatenate([notes([[0, 1, 40]], program=32), notes([[0, 1, 60], [1, 2, 64]], program=0),
                             notes([[0, 1, 55]], program=24), notes([[0, 0.1, 36]], drum=True)])
    est = Notes.concatenate([notes([[0, 1, 40]], program=32), notes([[0, 1, 60]], program=0),
                             notes([[0, 0.1, 36]], drum=True)])
    got = tm.evaluate(ref, est, track_specs=Cerberus4.track_specs)
    assert got["track_bass_onset_f1"] == got["track_bass_onset_offset_f1"] == 1.0
    assert got["track_guitar_onset_f1"] == 0.0  # nothing estimated on the guitar track
    assert got["track_piano_onset_f1"] == pytest.approx(2 / 3)
    assert got["track_drums_onset_f1"] == 1.0 and "track_drums_onset_offset_f1" not in got
    assert got["track_drums_frame_f1"] == 1.0
    assert all(name in METRICS for name in got)  # every score declared in the catalogue


def test_tasks_use_mt3s_conventions():
    from musebench.tasks import get_task

    slakh, cerb = get_task("slakh2100"), get_task("cerberus4")
    assert slakh.version == 2 and slakh.dataset_params["programs"] == "slakh_class"
    assert slakh.dataset_params["sustain_pedal"] is True and cerb.dataset_params["sustain_pedal"] is True
    assert {"drum_onset_f1", "drum_onset_f1_with_drums", "multi_instrument_nondrum_f1",
            "onset_offset_f1_at_10ms"} <= set(slakh.metrics)
    assert {"track_bass_onset_offset_f1", "track_drums_onset_f1", "track_piano_frame_f1"} <= set(cerb.metrics)


def test_docs_conventions_table_cites_mt3_files_and_lines():
    text = (Path(__file__).resolve().parents[2] / "docs" / "transcription.md").read_text()
    section = text.split("## MT3's conventions")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "mt3/" in line]
    assert len(rows) >= 10
    for row in rows:
        assert "line" in row, row
