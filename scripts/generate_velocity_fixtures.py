#!/usr/bin/env python
"""Bring mir_eval's own ``transcription_velocity`` regression fixtures into tests/data, with the
scores mir_eval gives on them in MuseBench's canonical note order.

mir_eval's velocity scores depend on note order (its maximum matching decides which matched
pairs the velocity line is fitted on). MuseBench puts every note set in one canonical order
(:meth:`musebench.types.Notes.sorted`: onset, pitch, offset, program, drum flag) on every path,
so its claim is "equal to mir_eval on notes in that order". This script writes, for each of
mir_eval's ten fixtures (``tests/data/transcription_velocity/{ref,est}{i}.txt`` of
mir-evaluation/mir_eval, MIT licence, Copyright (c) 2014 Colin Raffel):

* ``fixtures.npz``: the notes as given (start, end, pitch, velocity columns), ``ref{i}`` / ``est{i}``;
* ``expected.json``: per fixture, calling mir_eval directly (no benchmark code) with the pitch
  column passed as Hz, exactly as mir_eval's own regression test passes it: velocity
  precision/recall/F1, onset-only and onset+offset, on the notes **sorted canonically**; and
  the F1s on the files' own order, which must reproduce mir_eval's stored ``output{i}.json``
  (checked here) and differ from the sorted ones on fixtures 3 and 5-9.

The tests give MuseBench the same notes with pitches ``hz_to_midi(column)`` (its unit is MIDI).

    .venv/bin/python scripts/generate_velocity_fixtures.py /path/to/mir_eval/checkout
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import mir_eval
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "transcription_velocity"


def load(path: Path) -> np.ndarray:
    return np.loadtxt(path, ndmin=2)  # start, end, pitch, velocity


def canonical(a: np.ndarray) -> np.ndarray:
    """Notes.sorted's order for one program, no drums: onset, then pitch, then offset."""
    return a[np.lexsort((a[:, 1], a[:, 2], a[:, 0]))]


def scores(ref: np.ndarray, est: np.ndarray) -> dict[str, float]:
    args = dict(ref_intervals=ref[:, :2], ref_pitches=ref[:, 2], ref_velocities=ref[:, 3],
                est_intervals=est[:, :2], est_pitches=est[:, 2], est_velocities=est[:, 3])
    out = {}
    for prefix, ratio in (("onset", None), ("onset_offset", 0.2)):
        p, r, f, _ = mir_eval.transcription_velocity.precision_recall_f1_overlap(**args, offset_ratio=ratio)
        out.update({f"{prefix}_velocity_precision": p, f"{prefix}_velocity_recall": r, f"{prefix}_velocity_f1": f})
    return out


def main(argv: list[str]) -> int:
    src = Path(argv[1]) / "tests" / "data" / "transcription_velocity"
    arrays, expected = {}, {}
    for i in range(10):
        ref, est = load(src / f"ref{i}.txt"), load(src / f"est{i}.txt")
        arrays[f"ref{i}"], arrays[f"est{i}"] = ref, est
        sorted_scores = scores(canonical(ref), canonical(est))
        file_order = scores(ref, est)
        stored = json.loads((src / f"output{i}.json").read_text())
        assert abs(stored["F-measure"] - file_order["onset_offset_velocity_f1"]) < 1e-9, i
        assert abs(stored["F-measure_no_offset"] - file_order["onset_velocity_f1"]) < 1e-9, i
        expected[str(i)] = {"sorted": sorted_scores,
                            "file_order": {k: v for k, v in file_order.items() if k.endswith("_f1")},
                            "n_ref": len(ref), "n_est": len(est)}
        print(i, {k: round(sorted_scores[k] - file_order[k], 6) for k in file_order if k.endswith("_f1")})
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "fixtures.npz", **arrays)
    (OUT / "expected.json").write_text(json.dumps({"mir_eval": mir_eval.__version__, "fixtures": expected},
                                                  indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
