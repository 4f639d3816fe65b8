"""mir_eval's own transcription_velocity regression fixtures (issue 14, part 2): MuseBench's
velocity scores equal mir_eval's on onset-sorted notes, whichever public function computes them.

The expected values were computed by calling mir_eval directly
(scripts/generate_velocity_fixtures.py); the pitch column is Hz as in mir_eval's own test, so
MuseBench gets ``hz_to_midi`` of it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from musebench.metrics.transcription import evaluate, note_scores
from musebench.types import Notes

DATA = Path(__file__).resolve().parents[1] / "data" / "transcription_velocity"
EXPECTED = json.loads((DATA / "expected.json").read_text())["fixtures"]
ARRAYS = np.load(DATA / "fixtures.npz")


def notes(a: np.ndarray) -> Notes:
    return Notes.from_arrays(intervals=a[:, :2], pitches=69.0 + 12.0 * np.log2(a[:, 2] / 440.0), velocities=a[:, 3])


def test_all_ten_fixtures_are_there():
    assert sorted(EXPECTED, key=int) == [str(i) for i in range(10)]


def test_order_matters_to_mir_eval_on_the_fixtures_the_issue_names():
    moved = [i for i, e in EXPECTED.items()
             if any(abs(e["sorted"][k] - e["file_order"][k]) > 1e-9 for k in e["file_order"])]
    assert sorted(moved, key=int) == ["3", "5", "6", "7", "8", "9"]


@pytest.mark.parametrize("i", [str(i) for i in range(10)])
def test_velocity_scores_equal_mir_eval_on_sorted_notes(i):
    ref, est = notes(ARRAYS[f"ref{i}"]), notes(ARRAYS[f"est{i}"])
    want = EXPECTED[i]["sorted"]
    # the file's own (unsorted) order goes in: every path sorts it the same way
    for prefix, ratio in (("onset", None), ("onset_offset", 0.2)):
        p, r, f = note_scores(ref, est, offset_ratio=ratio, velocity_tolerance=0.1)
        assert np.allclose([p, r, f], [want[f"{prefix}_velocity_precision"], want[f"{prefix}_velocity_recall"],
                                       want[f"{prefix}_velocity_f1"]], atol=1e-9), prefix
    got = evaluate(ref, est)
    assert got["onset_velocity_f1"] == pytest.approx(want["onset_velocity_f1"], abs=1e-9)
    assert got["onset_offset_velocity_f1"] == pytest.approx(want["onset_offset_velocity_f1"], abs=1e-9)


def test_note_order_in_the_input_does_not_change_any_score():
    ref, est = notes(ARRAYS["ref8"]), notes(ARRAYS["est8"])
    rng = np.random.default_rng(0)
    shuffled = est.select(rng.permutation(len(est)))
    assert note_scores(ref, est, velocity_tolerance=0.1) == note_scores(ref, shuffled, velocity_tolerance=0.1)
