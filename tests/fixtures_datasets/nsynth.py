"""The nsynth fixture: a tiny copy in the official layout (see :mod:`fixtures_datasets`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from musebench.types import Notes
from .common import Fixture, fixture_manifest, SR, tone, write_wav

DATASET = "nsynth"


# ---- NSynth -------------------------------------------------------------------------------------
NSYNTH_EXAMPLES = {
    "bass_synthetic_033-022-050": ("bass", "synthetic", 22, 50),
    "guitar_acoustic_010-060-100": ("guitar", "acoustic", 60, 100),
    "keyboard_electronic_001-072-127": ("keyboard", "electronic", 72, 127),
}


def build(base: Path) -> Fixture:
    root = base / "nsynth"
    folder = root / "nsynth-test"
    examples, expected = {}, {}
    programs = {"bass": 32, "guitar": 24, "keyboard": 0}
    for n, (key, (family, source, pitch, velocity)) in enumerate(sorted(NSYNTH_EXAMPLES.items())):
        write_wav(folder / "audio" / f"{key}.wav", tone(4.0, freq=440.0 * 2 ** ((pitch - 69) / 12)))
        examples[key] = {"note": n, "note_str": key, "instrument": n, "instrument_str": key.rsplit("-", 2)[0],
                         "pitch": pitch, "velocity": velocity, "sample_rate": SR, "qualities": [0] * 10,
                         "qualities_str": ["bright"] if n == 1 else [], "instrument_family": n,
                         "instrument_family_str": family, "instrument_source": n, "instrument_source_str": source}
        expected[key] = Notes(np.array([[0.0, 3.0]]), np.array([float(pitch)]), np.array([float(velocity)]),
                              np.array([programs[family]]), np.zeros(1, bool))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "examples.json").write_text(json.dumps(examples, indent=2))
    manifest = fixture_manifest("nsynth", base, [], extra={"sizes": {"train": 0, "validation": 0, "test": 3}})
    return Fixture("nsynth", root, manifest, expected, {"test": sorted(NSYNTH_EXAMPLES)})
