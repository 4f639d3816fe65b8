"""The guitarset fixture: a tiny copy in the official layout (see :mod:`fixtures_datasets`)."""
from __future__ import annotations

import json
from pathlib import Path

from musebench.paths import package_data
from .common import Fixture, fixture_manifest, md5, notes, SR, tone, write_wav

DATASET = "guitarset"


# ---- GuitarSet ----------------------------------------------------------------------------------
GUITARSET_IDS = {"validation": ["00_BN3-119-G_comp", "04_SS3-84-Bb_solo"], "train": ["04_SS1-100-Cs_solo"]}


def _jams(rows_by_string: dict[int, list[tuple[float, float, float]]], duration: float) -> dict:
    annotations = [{"namespace": "pitch_contour", "data": [], "annotation_metadata": {"data_source": "0"}}]
    for string in range(6):
        data = [{"time": t, "duration": d, "value": v, "confidence": None} for t, d, v in rows_by_string.get(string, [])]
        annotations.append({"namespace": "note_midi", "data": data, "sandbox": {},
                            "annotation_metadata": {"data_source": str(string)}, "time": 0, "duration": duration})
    return {"annotations": annotations, "file_metadata": {"duration": duration, "title": "fixture"}, "sandbox": {}}


def build(base: Path) -> Fixture:
    root = base / "GuitarSet"
    real = json.loads(package_data("manifests", "guitarset.json").read_text())["items"]
    ids = [i for s in ("validation", "train") for i in GUITARSET_IDS[s]]
    expected, update = {}, {}
    for k, item_id in enumerate(ids):
        entry = real[item_id]
        rows = {0: [(0.1, 0.4, 40.02 + k)], 2: [(0.5, 0.3, 50.0)], 5: [(0.9, 0.6, 64.97)]}
        files = {}
        for role, spec in entry["files"].items():
            path = root / spec["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            if role == "jams":
                path.write_text(json.dumps(_jams(rows, 2.0)))
            else:
                write_wav(path, tone(2.0, sr=SR, freq=196.0 + k))
            files[role] = {"path": spec["path"], "md5": md5(path)}
        update[item_id] = {"files": files}
        flat = sorted((t, t + d, v) for r in rows.values() for t, d, v in r)
        expected[item_id] = notes(flat, program=25)
    manifest = fixture_manifest("guitarset", base, ids, update=update)
    return Fixture("guitarset", root, manifest, expected, {s: sorted(v) for s, v in GUITARSET_IDS.items()})
