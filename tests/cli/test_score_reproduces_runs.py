"""`musebench score` reproduces a run's item scores exactly, and an exact oracle scores exactly
1.0 on every metric even when the reference times are not on the MIDI tick grid (issue 14, part 2)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from musebench.metrics.transcription import evaluate
from musebench.midi import exact_notes_path, read_midi, read_prediction, write_prediction
from musebench.runner import RunOptions, run_task
from musebench.types import Notes
from core_fixtures import toy_task

TASK_YAML = """name: toy-exact
family: transcription
version: 1
dataset: toy
split: test
sample_rate: 16000
metrics: [onset_f1, onset_offset_f1, onset_velocity_f1, onset_offset_velocity_f1, frame_f1,
          multi_instrument_f1, multi_instrument_f1_flat]
params:
  onset_tolerance: 0.05
"""


def off_grid_notes(seed: int, n: int = 400) -> Notes:
    """Onsets and offsets placed within 1 microsecond of 62.5 fps frame boundaries (and off the
    1/960 s MIDI tick grid): rounding to ticks moves many across a boundary."""
    rng = np.random.default_rng(seed)
    frames = np.sort(rng.integers(1, 2000, n))
    on = frames / 62.5 - rng.uniform(1e-7, 1e-6, n)
    off = on + rng.integers(3, 40, n) / 62.5 + rng.uniform(1e-7, 1e-6, n)
    return Notes.from_arrays(intervals=np.stack([on, off], 1), pitches=rng.integers(30, 90, n),
                             velocities=rng.uniform(31, 120, n))  # > 30: see the test below


def test_a_prediction_keeps_its_exact_notes(tmp_path):
    notes = off_grid_notes(0)
    path = write_prediction(notes, tmp_path / "x.mid")
    assert exact_notes_path(path).is_file()
    back = read_prediction(path)
    assert np.array_equal(back.intervals, notes.sorted().intervals)
    assert np.array_equal(back.velocities, notes.sorted().velocities)
    # the MIDI file alone loses this: frame scores below 1 (the bug the companion file fixes)
    midi_only = read_midi(path)
    assert evaluate(notes, midi_only)["frame_f1"] < 1.0
    # every metric 1.0, except the drum onset F1, which MT3 sets to 0 on an item without drums
    exact = evaluate(notes, back)
    assert exact.pop("drum_onset_f1") == 0.0 and all(v == 1.0 for v in exact.values()), exact


def test_oracle_scores_exactly_one_on_off_grid_reference_through_a_run(tmp_path, monkeypatch):
    root, task = toy_task(tmp_path, monkeypatch, task_yaml=TASK_YAML, n=2)
    # replace the toy references by off-grid ones: a dataset whose MIDI has a finer grid than ours
    import pretty_midi

    for k, item in enumerate(("toy-00", "toy-01")):
        notes = off_grid_notes(k + 1, n=200)
        pm = pretty_midi.PrettyMIDI(resolution=9600, initial_tempo=120.0)  # 19,200 ticks per second
        inst = pretty_midi.Instrument(0)
        for (a, b), p, v in zip(notes.intervals, notes.pitches, notes.velocities):
            inst.notes.append(pretty_midi.Note(int(v), int(p), float(a), float(b)))
        pm.instruments.append(inst)
        pm.write(str(root / f"{item}.mid"))
    from musebench.datasets import get_dataset
    from musebench.datasets.base import Manifest
    from musebench.io_utils import sha256_file

    m = Manifest.load(root / "manifest.json")
    for _item_id, rec in m.items.items():
        f = root / rec["files"]["midi"]["path"]
        rec["files"]["midi"].update(sha256=sha256_file(f), size=f.stat().st_size)
    m.save(root / "manifest.json")
    assert get_dataset("toy").verify().ok
    res = run_task(RunOptions(task=str(task), model="oracle", results_dir=tmp_path / "results", device="cpu",
                              progress=False)).results
    assert res["n_scored"] == 2
    for name, m in res["metrics"].items():
        assert m["mean"] == 1.0, name


def test_quiet_reference_notes_keep_a_perfect_frame_score_below_one_by_mt3s_rule():
    """MT3's frame_metrics: reference cells active above velocity 30, estimated cells above 0
    (mt3/metrics_utils.py frame_metrics), so a perfect estimate of notes at velocity <= 30 has
    spurious frames. Not a rounding error; the oracle's 1.0 holds for references above 30."""
    notes = Notes.from_arrays(intervals=[[0.0, 1.0], [1.0, 2.0]], pitches=[60, 62], velocities=[20, 100])
    scores = evaluate(notes, notes)
    assert scores["frame_f1"] < 1.0 and scores["onset_offset_f1"] == 1.0


@pytest.fixture
def cli(monkeypatch):
    import musebench.cli as cli_pkg

    monkeypatch.setattr(cli_pkg, "COMMAND_MODULES", ["musebench.cli.score"])
    return cli_pkg.main


def test_score_reproduces_a_run_item_exactly(tmp_path, monkeypatch, cli, capsys):
    root, task = toy_task(tmp_path, monkeypatch, task_yaml=TASK_YAML, n=2)
    out = run_task(RunOptions(task=str(task), model="noisy-oracle", results_dir=tmp_path / "results", device="cpu",
                              progress=False))
    recorded = json.loads((out.run_dir / "items" / "toy-01.json").read_text())["scores"]
    capsys.readouterr()
    assert cli(["score", "--run", str(out.run_dir), "--item", "toy-01", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert {k: doc["scores"][k] for k in recorded} == recorded  # bitwise
    assert "differ" not in captured.err
    # the same with files: the task's parameters and reference convention, the stored prediction
    assert cli(["score", "--task", str(task), "--ref", str(root / "toy-01.mid"),
                "--est", str(out.run_dir / "predictions" / "toy-01.mid"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {k: doc["scores"][k] for k in recorded} == recorded
    assert doc["sustain_pedal"] is False and doc["params"]["frame_rate"] == 62.5


def test_sustain_pedal_flag_extends_the_reference_only(tmp_path, cli, capsys):
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data" / "transcription"
    ref = str(data / "pedal_offsets.ref.mid")
    assert cli(["score", "--ref", ref, "--est", ref, "--json", "--sustain-pedal"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sustain_pedal"] is True and doc["est_sustain_pedal"] is False
    assert doc["scores"]["onset_offset_f1"] < 1.0  # the estimate's offsets were not extended
    assert cli(["score", "--ref", ref, "--est", ref, "--json", "--sustain-pedal", "--est-sustain-pedal"]) == 0
    assert json.loads(capsys.readouterr().out)["scores"]["onset_offset_f1"] == 1.0
