"""The musicnet fixture: a tiny copy in the official layout (see :mod:`fixtures_datasets`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from musebench.paths import package_data
from musebench.types import Notes
from .common import Fixture, fixture_manifest, tone, write_wav

DATASET = "musicnet"


# ---- MusicNet -----------------------------------------------------------------------------------
MUSICNET_IDS = {"test": ["1729", "2118"], "validation": ["1733"], "train": ["1759"]}  # 1759 is in test_data/


def build(base: Path) -> Fixture:
    root = base / "musicnet"
    real = json.loads(package_data("manifests", "musicnet.json").read_text())["items"]
    ids = [i for s in ("test", "validation", "train") for i in MUSICNET_IDS[s]]
    expected = {}
    for k, item_id in enumerate(ids):
        entry = real[item_id]
        write_wav(root / entry["files"]["audio"]["path"], tone(2.0, sr=44100))
        rows = [(4410, 26460, 1, 60 + k), (22050, 44100, 41, 67), (44100, 66150, 43, 48)]
        text = "start_time,end_time,instrument,note,start_beat,end_beat,note_value\n" + "".join(
            f"{s},{e},{i},{n},0.0,1.0,Quarter\n" for s, e, i, n in rows)
        label = root / entry["files"]["labels"]["path"]
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(text)
        arr = np.array([[s / 44100, e / 44100, n] for s, e, _i, n in rows])
        expected[item_id] = Notes(arr[:, :2], arr[:, 2], np.zeros(3), np.array([i - 1 for _s, _e, i, _n in rows]),
                                  np.zeros(3, bool)).sorted()
    for folder in ("train_data", "train_labels", "test_data", "test_labels"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    manifest = fixture_manifest("musicnet", base, ids)
    return Fixture("musicnet", root, manifest, expected, {s: sorted(v) for s, v in MUSICNET_IDS.items()})
