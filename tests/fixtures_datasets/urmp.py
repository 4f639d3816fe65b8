"""The urmp fixture: a tiny copy in the official layout (see :mod:`fixtures_datasets`)."""
from __future__ import annotations

import json
from pathlib import Path

from musebench.paths import package_data
from musebench.types import Notes
from .common import Fixture, fixture_manifest, notes, tone, write_wav

DATASET = "urmp"


# ---- URMP ---------------------------------------------------------------------------------------
URMP_IDS = {"validation": ["01_Jupiter_vn_vc", "12_Spring_vn_vn_vc"], "train": ["15_Surprise_tpt_tpt_tbn"]}
URMP_PROGRAMS = {"vn": 40, "vc": 42, "tpt": 56, "tbn": 57}


def build(base: Path) -> Fixture:
    root = base / "URMP" / "Dataset"
    real = json.loads(package_data("manifests", "urmp.json").read_text())["items"]
    ids = [i for s in ("validation", "train") for i in URMP_IDS[s]]
    expected = {}
    for item_id in ids:
        entry = real[item_id]
        write_wav(root / entry["files"]["mix"]["path"], tone(2.0, sr=48000))
        parts = []
        for part, abbr in enumerate(entry["metadata"]["instruments"], start=1):
            freq = 220.0 * 2 ** ((part - 1) / 12)  # A3 + (part-1) semitones, slightly detuned below
            rows = [(0.25 * part, freq * 0.995, 0.5), (1.0, freq, 0.25)]
            path = root / entry["files"][f"notes_{part}"]["path"]
            path.write_text("".join(f"{o:.3f}\t{f:.4f}\t{d:.3f}\n" for o, f, d in rows))
            pitch = 57.0 + part - 1
            parts.append(notes([(o, o + d, pitch) for o, _f, d in rows], program=URMP_PROGRAMS[abbr]))
        for extra in ("AuSep_1_x.wav", "F0s_1_x.txt"):
            (root / item_id / extra).write_bytes(b"")  # annex files of the real layout
        expected[item_id] = Notes.concatenate(parts).sorted()
    manifest = fixture_manifest("urmp", base, ids)
    return Fixture("urmp", root, manifest, expected, {s: sorted(v) for s, v in URMP_IDS.items()})
