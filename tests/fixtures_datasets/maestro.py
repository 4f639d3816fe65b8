"""The maestro-v3 fixture: a tiny copy in the official layout (see :mod:`fixtures_datasets`)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from musebench.paths import package_data
from musebench.types import Notes
from .common import Fixture, fixture_manifest, tone, write_wav

DATASET = "maestro-v3"


# ---- MAESTRO ------------------------------------------------------------------------------------
MAESTRO_IDS = {
    "test": ["MIDI-Unprocessed_09_R3_2008_01-07_ORIG_MID--AUDIO_09_R3_2008_wav--2",   # Scarlatti K. 525
             "MIDI-Unprocessed_09_R3_2008_01-07_ORIG_MID--AUDIO_09_R3_2008_wav--1"],  # Scarlatti K. 54
    "train": ["MIDI-Unprocessed_09_R3_2008_01-07_ORIG_MID--AUDIO_09_R3_2008_wav--3"],  # Scarlatti K. 466
}


def build(base: Path) -> Fixture:
    import pretty_midi

    root = base / "maestro-v3.0.0"
    real = json.loads(package_data("manifests", "maestro-v3.json").read_text())["items"]
    rows = [["canonical_composer", "canonical_title", "split", "year", "midi_filename", "audio_filename", "duration"]]
    expected = {}
    ids = [i for split in ("test", "train") for i in MAESTRO_IDS[split]]
    for k, item_id in enumerate(ids):
        entry = real[item_id]
        midi_rel, audio_rel = entry["files"]["midi"]["path"], entry["files"]["audio"]["path"]
        pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
        piano = pretty_midi.Instrument(program=0)
        piano.notes += [pretty_midi.Note(velocity=80, pitch=60 + k, start=0.0, end=0.5),
                        pretty_midi.Note(velocity=70, pitch=64 + k, start=0.6, end=0.9),
                        pretty_midi.Note(velocity=90, pitch=67 + k, start=1.6, end=1.8)]
        piano.control_changes += [pretty_midi.ControlChange(64, 127, 0.4), pretty_midi.ControlChange(64, 0, 1.5)]
        pm.instruments.append(piano)
        (root / midi_rel).parent.mkdir(parents=True, exist_ok=True)
        pm.write(str(root / midi_rel))
        write_wav(root / audio_rel, tone(2.0, channels=2))
        meta = entry["metadata"]
        rows.append([meta["canonical_composer"], meta["canonical_title"], entry["split"], str(meta["year"]),
                     midi_rel, audio_rel, "2.0"])
        expected[item_id] = Notes(np.array([[0.0, 0.5], [0.6, 0.9], [1.6, 1.8]]),
                                  np.array([60 + k, 64 + k, 67 + k], float), np.array([80.0, 70.0, 90.0]),
                                  np.zeros(3, np.int64), np.zeros(3, bool))
    with open(root / "maestro-v3.0.0.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (root / "README").write_text("fixture\n")
    manifest = fixture_manifest("maestro-v3", base, ids)
    return Fixture("maestro-v3", root, manifest, expected, {s: sorted(v) for s, v in MAESTRO_IDS.items()})
