#!/usr/bin/env python
"""Regenerate the transcription regression fixtures in tests/data/transcription/.

For every case this writes ``{name}.ref.mid``, ``{name}.est.mid`` and ``{name}.scores.json``.
The notes come from seeded generators (or are written out by hand for the tolerance edges);
the expected scores are computed here *without* musebench.metrics.transcription, by calling
mir_eval directly and by following MT3's own recipe step by step (pretty_midi piano rolls,
scikit-learn's precision_recall_fscore_support, per-track matching pooled with
``precision * n_est`` sums), so that tests/metrics/test_metrics_transcription.py proves the module
equal to them. Requires scikit-learn (installed with the ``models`` extra).

Run from the repository root::

    .venv/bin/python scripts/generate_transcription_fixtures.py

MIDI times are whole ticks (480 per quarter at 120 bpm: 1/960 s), so the files hold exactly
the generated notes; the script reads every file back and checks that.
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pretty_midi
from sklearn.metrics import precision_recall_fscore_support

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "transcription"
TICKS_PER_SECOND = 960  # resolution 480 at 120 bpm

# MT3 / mir_eval defaults
ONSET_TOL, PITCH_TOL, OFFSET_RATIO, OFFSET_MIN = 0.05, 50.0, 0.2, 0.05
VELOCITY_TOL, FPS, FRAME_VELOCITY_THRESHOLD, FRAME_MIN_DURATION = 0.1, 62.5, 30, 0.05

COLUMNS = ("onset", "offset", "pitch", "velocity", "program", "is_drum")


# --- note tables: structured arrays with times in ticks ---------------------------------------

def table(rows) -> np.ndarray:
    dtype = [("onset", "i8"), ("offset", "i8"), ("pitch", "i8"), ("velocity", "i8"),
             ("program", "i8"), ("is_drum", "?")]
    return np.array([tuple(r) for r in rows], dtype=dtype)


def secs(t: float) -> int:
    return int(round(t * TICKS_PER_SECOND))


def trim_same_pitch_overlaps(notes: np.ndarray) -> np.ndarray:
    """One MIDI channel cannot hold two sounding copies of a pitch: cut the earlier one."""
    notes = np.sort(notes, order=["program", "is_drum", "pitch", "onset"])
    keep = np.ones(len(notes), bool)
    for i in range(len(notes) - 1):
        a, b = notes[i], notes[i + 1]
        if (a["program"], a["is_drum"], a["pitch"]) == (b["program"], b["is_drum"], b["pitch"]):
            if b["onset"] == a["onset"]:
                keep[i] = False
            elif a["offset"] > b["onset"]:
                notes[i]["offset"] = b["onset"]
    notes = notes[keep]
    return notes[notes["offset"] - notes["onset"] >= 2]


def write(notes: np.ndarray, path: Path, pedal: list[tuple[int, int]] = ()) -> None:
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    tick = 1.0 / TICKS_PER_SECOND
    keys = sorted({(int(n["program"]), bool(n["is_drum"])) for n in notes}, key=lambda k: (k[1], k[0]))
    for program, is_drum in keys:
        inst = pretty_midi.Instrument(program=program, is_drum=is_drum)
        for n in notes[(notes["program"] == program) & (notes["is_drum"] == is_drum)]:
            inst.notes.append(pretty_midi.Note(int(n["velocity"]), int(n["pitch"]),
                                               n["onset"] * tick, n["offset"] * tick))
        if pedal and not is_drum:
            inst.control_changes = [pretty_midi.ControlChange(64, value, t * tick) for t, value in pedal]
        pm.instruments.append(inst)
    if not pm.instruments and pedal:
        raise ValueError("pedal without notes")
    pm.write(str(path))


def read(path: Path) -> dict[str, np.ndarray]:
    """Read notes with pretty_midi (not musebench.midi), in the canonical order."""
    rows = []
    for inst in pretty_midi.PrettyMIDI(str(path)).instruments:
        rows += [(n.start, n.end, n.pitch, n.velocity, inst.program, inst.is_drum) for n in inst.notes]
    arr = np.array(rows, dtype=float).reshape(-1, 6)
    # canonical order of musebench.types.Notes.sorted: onset, pitch, offset, program, drum flag
    arr = arr[np.lexsort((arr[:, 5], arr[:, 4], arr[:, 1], arr[:, 2], arr[:, 0]))]
    return {"intervals": arr[:, :2], "pitches": arr[:, 2], "velocities": arr[:, 3],
            "programs": arr[:, 4].astype(int), "is_drum": arr[:, 5].astype(bool)}


def check_roundtrip(notes: np.ndarray, got: dict[str, np.ndarray], name: str) -> None:
    tick = 1.0 / TICKS_PER_SECOND
    want = np.sort(notes, order=["onset", "pitch", "offset", "program", "is_drum"])
    assert len(want) == len(got["pitches"]), name
    assert np.allclose(want["onset"] * tick, got["intervals"][:, 0], atol=1e-9), name
    assert np.allclose(want["offset"] * tick, got["intervals"][:, 1], atol=1e-9), name
    assert np.array_equal(want["pitch"], got["pitches"]), name
    assert np.array_equal(want["velocity"], got["velocities"]), name


def select(notes: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in notes.items()}


# --- expected scores, computed the way mir_eval and MT3 do ------------------------------------

def mir_eval_note_scores(ref, est) -> dict[str, float]:
    """MT3's transcription_metrics on drumless notes, calling mir_eval directly."""
    ref, est = select(ref, ~ref["is_drum"]), select(est, ~est["is_drum"])
    args = dict(ref_intervals=ref["intervals"], ref_pitches=pretty_midi.note_number_to_hz(ref["pitches"]),
                est_intervals=est["intervals"], est_pitches=pretty_midi.note_number_to_hz(est["pitches"]))
    vel = dict(ref_velocities=ref["velocities"], est_velocities=est["velocities"])
    out = {}
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(**args, offset_ratio=None)
    out.update(onset_precision=p, onset_recall=r, onset_f1=f)
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(**args)
    out.update(onset_offset_precision=p, onset_offset_recall=r, onset_offset_f1=f)
    out["onset_velocity_f1"] = mir_eval.transcription_velocity.precision_recall_f1_overlap(
        **args, **vel, offset_ratio=None)[2]
    out["onset_offset_velocity_f1"] = mir_eval.transcription_velocity.precision_recall_f1_overlap(**args, **vel)[2]
    return out


def mt3_pianoroll(notes, is_drum: bool) -> np.ndarray:
    """metrics_utils.get_prettymidi_pianoroll after note_seq.note_sequence_to_pretty_midi.

    Instruments as MT3's assign_instruments numbers them (one per program in note order,
    drums on 9), an empty instrument 0 created first, "all sound/notes off" CCs on it.
    """
    pm = pretty_midi.PrettyMIDI(resolution=220, initial_tempo=120.0)
    first = pretty_midi.Instrument(0)
    pm.instruments.append(first)
    instrument_of, tracks = {}, {}
    for (on, off), pitch, velocity, program, drum in zip(notes["intervals"], notes["pitches"], notes["velocities"],
                                                         notes["programs"], notes["is_drum"]):
        if is_drum or off - on < 0.05:
            off = on + 0.05
        if drum:
            inst_id = 9
        else:
            if program not in instrument_of:
                k = len(instrument_of)
                instrument_of[program] = k if k < 9 else k + 1
            inst_id = instrument_of[program]
        tracks.setdefault((inst_id, int(program), bool(drum)), []).append(
            pretty_midi.Note(int(velocity), int(pitch), float(on), float(off)))
    for inst_id, program, drum in sorted(tracks):
        inst = first if inst_id == 0 else pretty_midi.Instrument(program, drum)
        if inst_id > 0:
            pm.instruments.append(inst)
        inst.is_drum, inst.program, inst.notes = drum, program, tracks[(inst_id, program, drum)]
    end = pm.get_end_time()
    pm.instruments[0].control_changes = [pretty_midi.ControlChange(120, 0, end),
                                         pretty_midi.ControlChange(123, 0, end)]
    if is_drum:
        for inst in pm.instruments:
            inst.is_drum = False
    return pm.get_piano_roll(fs=FPS)


def mt3_frame_scores(ref, est) -> tuple[float, float, float]:
    ref, est = select(ref, ~ref["is_drum"]), select(est, ~est["is_drum"])
    is_drum = bool(np.all(ref["is_drum"]))  # MT3: all([]) is True for an empty reference
    ref_pr, est_pr = mt3_pianoroll(ref, is_drum), mt3_pianoroll(est, is_drum)
    n = max(ref_pr.shape[1], est_pr.shape[1])
    if n == 0:  # no non-drum note on either side: scikit-learn refuses empty arrays; score 0
        return 0.0, 0.0, 0.0
    ref_pr = np.pad(ref_pr, [(0, 0), (0, n - ref_pr.shape[1])])
    est_pr = np.pad(est_pr, [(0, 0), (0, n - est_pr.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UndefinedMetricWarning on empty input
        p, r, f1, _ = precision_recall_fscore_support((ref_pr > FRAME_VELOCITY_THRESHOLD).flatten(),
                                                      (est_pr > 0).flatten(), labels=[True, False])
    return float(p[0]), float(r[0]), float(f1[0])


def mt3_program_aware(ref, est, granularity: str) -> dict[str, float]:
    """metrics._program_aware_note_scores: overall precision/recall/F1, drum F1, non-drum F1."""
    program_map = {"flat": lambda p: 0, "midi_class": lambda p: 8 * (p // 8), "full": lambda p: p}[granularity]
    # MT3's drum notes always carry program 0 (Slakh loader and decoder); do the same here.
    def mapped(notes):
        return np.array([0 if d else program_map(int(p)) for p, d in zip(notes["programs"], notes["is_drum"])], int)
    ref_prog, est_prog = mapped(ref), mapped(est)
    tracks = set(zip(ref_prog.tolist(), ref["is_drum"].tolist())) | set(zip(est_prog.tolist(), est["is_drum"].tolist()))
    sums = {True: [0.0, 0, 0.0, 0], False: [0.0, 0, 0.0, 0]}  # precision sum/count, recall sum/count
    for program, drum in tracks:
        rt = select(ref, (ref_prog == program) & (ref["is_drum"] == drum))
        et = select(est, (est_prog == program) & (est["is_drum"] == drum))
        args = dict(ref_intervals=rt["intervals"], ref_pitches=pretty_midi.note_number_to_hz(rt["pitches"]),
                    est_intervals=et["intervals"], est_pitches=pretty_midi.note_number_to_hz(et["pitches"]))
        if drum:
            args["offset_ratio"] = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mir_eval warns on an empty side
            p, r, _, _ = mir_eval.transcription.precision_recall_f1_overlap(**args)
        s = sums[drum]
        s[0] += p * len(et["pitches"])
        s[1] += len(et["pitches"])
        s[2] += r * len(rt["pitches"])
        s[3] += len(rt["pitches"])

    def f(ps, pc, rs, rc):
        return mir_eval.util.f_measure(ps / pc if pc else 0, rs / rc if rc else 0)

    total = [a + b for a, b in zip(sums[True], sums[False])]
    ps, pc, rs, rc = total
    return {"precision": ps / pc if pc else 0, "recall": rs / rc if rc else 0, "f1": f(*total),
            "drum_f1": f(*sums[True]), "nondrum_f1": f(*sums[False])}


def mt3_tolerance_sweep(ref, est) -> dict[str, float]:
    """metrics._note_onset_tolerance_sweep on the drumless notes (onset tolerance = offset floor)."""
    ref, est = select(ref, ~ref["is_drum"]), select(est, ~est["is_drum"])
    out = {}
    for tol in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
                ref["intervals"], pretty_midi.note_number_to_hz(ref["pitches"]), est["intervals"],
                pretty_midi.note_number_to_hz(est["pitches"]), onset_tolerance=tol, offset_min_tolerance=tol)
        out[f"onset_offset_f1_at_{int(round(tol * 1000))}ms"] = f
    return out


def expected_scores(ref, est) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = mir_eval_note_scores(ref, est)
    scores["frame_precision"], scores["frame_recall"], scores["frame_f1"] = mt3_frame_scores(ref, est)
    scores.update(mt3_tolerance_sweep(ref, est))
    for granularity, name in (("full", "multi_instrument_f1"), ("midi_class", "multi_instrument_f1_midi_class"),
                              ("flat", "multi_instrument_f1_flat")):
        pa = mt3_program_aware(ref, est, granularity)
        scores[name] = pa["f1"]
        if granularity == "full":
            scores["multi_instrument_precision"], scores["multi_instrument_recall"] = pa["precision"], pa["recall"]
            scores["multi_instrument_nondrum_f1"] = pa["nondrum_f1"]
    # MT3 records the drum onset F1 of every example (0 without drums) and averages over all
    scores["drum_onset_f1"] = pa["drum_f1"]
    if ref["is_drum"].any() or est["is_drum"].any():
        scores["drum_onset_f1_with_drums"] = pa["drum_f1"]
    return {k: float(v) for k, v in scores.items()}


# --- the cases -----------------------------------------------------------------------------

def random_piece(rng, *, n: int, seconds: float, programs=(0,), pitch_range=(40, 90),
                 duration_range=(0.1, 1.5), velocity_range=(30, 110)) -> np.ndarray:
    onsets = np.sort(rng.uniform(0.0, seconds, n))
    durations = rng.uniform(*duration_range, n)
    return trim_same_pitch_overlaps(table(
        (secs(o), secs(o + d), rng.integers(*pitch_range), rng.integers(*velocity_range),
         rng.choice(programs), False) for o, d in zip(onsets, durations)))


def perturb(rng, ref: np.ndarray, *, onset_sd=0.02, offset_sd=0.1, p_delete=0.1, p_pitch=0.05,
            p_extra=0.1, velocity_sd=8.0) -> np.ndarray:
    est = ref[rng.random(len(ref)) >= p_delete].copy()
    for note in est:
        dur = (note["offset"] - note["onset"]) / TICKS_PER_SECOND
        onset = max(0, note["onset"] + secs(rng.normal(0, onset_sd)))
        note["offset"] = max(onset + secs(0.02), note["offset"] + secs(rng.normal(0, offset_sd * dur)))
        note["onset"] = onset
        if rng.random() < p_pitch:
            note["pitch"] += rng.choice([-12, -1, 1, 12])
        note["velocity"] = int(np.clip(note["velocity"] + rng.normal(0, velocity_sd), 1, 127))
    n_extra = int(p_extra * len(ref))
    if n_extra:
        last = int(ref["offset"].max())
        starts = rng.integers(0, last, n_extra)
        extra = table((s, s + secs(rng.uniform(0.05, 0.8)), rng.integers(40, 90), rng.integers(30, 110),
                       rng.choice(np.unique(ref["program"])), False) for s in starts)
        est = np.concatenate([est, extra])
    return trim_same_pitch_overlaps(est)


def case_piano_polyphony():
    rng = np.random.default_rng(1)
    ref = random_piece(rng, n=120, seconds=20.0)
    return ref, perturb(rng, ref), "random polyphonic piano; estimate with onset/offset jitter, " \
        "deletions, insertions, pitch errors", []


def case_repeated_notes():
    rng = np.random.default_rng(2)
    rows, t = [], 0.0
    while t < 4.0:  # fast repetitions of two pitches, some shorter than the 50 ms frame minimum
        d = rng.uniform(0.03, 0.09)
        rows.append((secs(t), secs(t + d), 60 if rng.random() < 0.7 else 62, rng.integers(50, 100), 0, False))
        t += d + rng.uniform(0.005, 0.04)
    ref = trim_same_pitch_overlaps(table(rows))
    est = perturb(rng, ref, onset_sd=0.03, offset_sd=0.3, p_delete=0.15, p_pitch=0.0, p_extra=0.15)
    return ref, est, "fast repeated notes (ambiguous matching, notes shorter than the frame minimum)", []


def case_tolerance_edges():
    # one reference note per second; the estimate sits exactly on or just past each tolerance
    E = secs(0.05)  # 48 ticks: exactly 50 ms
    rows_ref, rows_est = [], []
    specs = [  # (ref duration s, onset shift ticks, offset shift ticks, pitch shift)
        (0.5, +E, 0, 0),            # onset +50 ms: match
        (0.5, -E, 0, 0),            # onset -50 ms: match
        (0.5, E + 1, 0, 0),         # onset +51 ms: no match
        (0.5, -(E + 1), 0, 0),      # onset -51 ms: no match
        (1.0, 0, secs(0.2), 0),     # offset +20% of 1 s: onset+offset match
        (1.0, 0, secs(0.2) + 1, 0),  # offset just past 20 %: onset-only match
        (0.1, 0, -E, 0),            # short note, offset -50 ms (min tolerance): match
        (0.1, 0, E + 1, 0),         # short note, offset +51 ms: onset-only match
        (0.5, 0, 0, 1),             # one semitone (100 cents): no match
        (0.5, 0, 0, 0),             # exact
    ]
    for i, (dur, d_on, d_off, d_pitch) in enumerate(specs):
        on = secs(1.0 + i)
        rows_ref.append((on, on + secs(dur), 60 + i, 80, 0, False))
        rows_est.append((on + d_on, on + secs(dur) + d_off, 60 + i + d_pitch, 80, 0, False))
    return table(rows_ref), table(rows_est), "onsets, offsets and pitches exactly at and just past the " \
        "tolerances (ticks of 1/960 s)", []


def case_multi_instrument_drums():
    rng = np.random.default_rng(4)
    parts = [random_piece(rng, n=40, seconds=10.0, programs=(p,), pitch_range=rng_range)
             for p, rng_range in ((0, (55, 85)), (33, (28, 50)), (48, (50, 80)))]
    beats = np.arange(0.0, 10.0, 0.25)
    drums = table((secs(b), secs(b) + 20, rng.choice([36, 38, 42]), rng.integers(60, 120), 0, True) for b in beats)
    ref = np.concatenate(parts + [drums])
    est_parts = [perturb(rng, p, p_pitch=0.02) for p in parts]
    est_drums = drums[rng.random(len(drums)) > 0.1].copy()
    est_drums["onset"] += rng.choice([0, 10, -10, 70], len(est_drums), p=[0.5, 0.2, 0.2, 0.1]).astype(np.int64)
    est_drums["onset"] = np.maximum(est_drums["onset"], 0)
    est_drums["offset"] = est_drums["onset"] + 10  # MT3 decodes drums with a 10 ms duration
    est = trim_same_pitch_overlaps(np.concatenate(est_parts + [est_drums]))
    return ref, est, "piano, bass, strings and drums; drum onsets jittered, some by 70 ms", []


def case_program_confusion():
    rng = np.random.default_rng(5)
    ref = np.concatenate([random_piece(rng, n=25, seconds=8.0, programs=(p,)) for p in (0, 4, 24, 40)])
    est = perturb(rng, ref, onset_sd=0.01, offset_sd=0.05, p_delete=0.05, p_pitch=0.0, p_extra=0.05)
    swap = {0: 4, 4: 0, 40: 41, 24: 32}  # same MIDI class, same class, same class, other class
    flip = rng.random(len(est)) < 0.6
    est["program"] = np.where(flip, [swap[int(p)] for p in est["program"]], est["program"])
    return ref, trim_same_pitch_overlaps(est), "programs confused within and across MIDI classes " \
        "(full < midi_class < flat)", []


def case_empty_estimate():
    rng = np.random.default_rng(6)
    ref = random_piece(rng, n=20, seconds=5.0)
    drums = table((secs(b), secs(b) + 20, 36, 100, 0, True) for b in np.arange(0.0, 5.0, 0.5))
    return np.concatenate([ref, drums]), table([]), "empty estimate (reference with drums)", []


def case_velocity_differences():
    rng = np.random.default_rng(7)
    ref = random_piece(rng, n=60, seconds=10.0, velocity_range=(10, 120))
    # two quiet overlapping notes of the same pitch on two programs: the frame roll sums
    # velocities 20 + 20 = 40 > 30 where they overlap, while each alone is below threshold
    quiet = table([(secs(11.0), secs(12.0), 70, 20, 0, False), (secs(11.5), secs(12.5), 70, 20, 1, False)])
    ref = np.concatenate([ref, quiet])
    est = ref.copy()
    est["velocity"] = np.clip(np.round(0.5 * est["velocity"] + 30), 1, 127).astype(np.int64)  # affine: fixed by the fit
    wrong = rng.random(len(est)) < 0.3
    est["velocity"][wrong] = rng.integers(1, 128, wrong.sum())
    est["offset"] += rng.choice([0, secs(0.3)], len(est), p=[0.7, 0.3]).astype(np.int64)
    return ref, trim_same_pitch_overlaps(est), "exact notes, velocities rescaled (affine) and 30 % random; " \
        "quiet reference notes below the frame threshold", []


def case_pedal_offsets():
    rng = np.random.default_rng(8)
    # pedal down 0.5-3.5 s and 5.0-8.0 s; notes without re-strikes of a pitch in a pedal window
    pedal = [(secs(0.5), 127), (secs(3.5), 0), (secs(5.0), 100), (secs(8.0), 0)]
    pitches = rng.permutation(np.arange(48, 84))[:24]
    onsets = np.sort(rng.uniform(0.6, 8.5, 24))
    ref = table((secs(o), secs(o + rng.uniform(0.1, 0.6)), p, rng.integers(40, 100), 0, False)
                for o, p in zip(onsets, pitches))
    # the estimate gets pedal-extended offsets for about half the notes, key-release offsets otherwise
    extended = sustain(ref, pedal)
    est = ref.copy()
    use_pedal = rng.random(len(est)) < 0.5
    est["offset"] = np.where(use_pedal, extended["offset"], ref["offset"])
    est["onset"] += rng.integers(-20, 21, len(est))
    return ref, est, "sustain pedal on the reference (read with sustain_pedal=True); the estimate " \
        "has pedal-extended offsets for about half of the notes", pedal


def case_drums_only():
    rng = np.random.default_rng(9)
    beats = np.arange(0.0, 6.0, 0.125)
    ref = table((secs(b), secs(b) + 30, rng.choice([36, 38, 42, 46]), 100, 0, True) for b in beats)
    est = ref[rng.random(len(ref)) > 0.2].copy()
    est["onset"] += rng.integers(-60, 61, len(est))
    est["onset"] = np.maximum(est["onset"], 0)
    est["offset"] = est["onset"] + 10
    return ref, trim_same_pitch_overlaps(est), "drums only: note and frame scores are 0 (MT3 convention), " \
        "drum_onset_f1 is meaningful", []


def sustain(notes: np.ndarray, pedal: list[tuple[int, int]]) -> np.ndarray:
    """Pedal extension for the simple case above (no pitch re-struck while sustained)."""
    windows, down = [], None
    for t, value in pedal:
        if value >= 64 and down is None:
            down = t
        elif value < 64 and down is not None:
            windows.append((down, t))
            down = None
    out = notes.copy()
    for note in out:
        for d0, d1 in windows:
            if d0 <= note["offset"] < d1:
                note["offset"] = d1
    return out


CASES = {
    "piano_polyphony": case_piano_polyphony,
    "repeated_notes": case_repeated_notes,
    "tolerance_edges": case_tolerance_edges,
    "multi_instrument_drums": case_multi_instrument_drums,
    "program_confusion": case_program_confusion,
    "empty_estimate": case_empty_estimate,
    "velocity_differences": case_velocity_differences,
    "pedal_offsets": case_pedal_offsets,
    "drums_only": case_drums_only,
}


def main() -> int:
    from musebench.midi import read_midi  # only to check the pedal reading the tests rely on

    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in CASES.items():
        ref, est, description, pedal = make()
        ref_path, est_path = OUT / f"{name}.ref.mid", OUT / f"{name}.est.mid"
        write(ref, ref_path, pedal)
        write(est, est_path)
        ref_read, est_read = read(ref_path), read(est_path)
        check_roundtrip(ref, ref_read, name)
        check_roundtrip(est, est_read, name)
        if pedal:
            # the test reads the reference with read_midi(sustain_pedal=True); check that this
            # gives the hand-computed extension, then score exactly those floats
            ext = np.sort(sustain(ref, pedal), order=["onset", "pitch", "offset", "program", "is_drum"])
            got = read_midi(ref_path, sustain_pedal=True)
            assert np.array_equal(got.pitches, ref_read["pitches"]), name
            assert np.array_equal(got.intervals[:, 0], ref_read["intervals"][:, 0]), name
            assert np.allclose(got.intervals[:, 1], ext["offset"] / TICKS_PER_SECOND, atol=1e-9), \
                f"{name}: read_midi's pedal extension differs from the expected one"
            ref_read["intervals"] = got.intervals.copy()
        scores = expected_scores(ref_read, est_read)
        doc = {
            "name": name,
            "description": description,
            "sustain_pedal": bool(pedal),
            "n_ref": int(len(ref_read["pitches"])),
            "n_est": int(len(est_read["pitches"])),
            "params": {"onset_tolerance": ONSET_TOL, "pitch_tolerance": PITCH_TOL, "offset_ratio": OFFSET_RATIO,
                       "offset_min_tolerance": OFFSET_MIN, "velocity_tolerance": VELOCITY_TOL,
                       "frame_rate": FPS, "frame_velocity_threshold": FRAME_VELOCITY_THRESHOLD,
                       "frame_min_duration": FRAME_MIN_DURATION},
            "generated_with": {"mir_eval": mir_eval.__version__, "pretty_midi": pretty_midi.__version__},
            "scores": scores,
        }
        (OUT / f"{name}.scores.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        summary = ", ".join(f"{k}={v:.3f}" for k, v in scores.items() if k.endswith("f1"))
        print(f"{name}: {len(ref_read['pitches'])} ref / {len(est_read['pitches'])} est notes; {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
