"""MusicNet: 330 classical recordings with aligned note labels (Thickstun et al., 2017).

Layout (``musicnet.tar.gz`` of Zenodo record 5120004 unpacked, plus ``musicnet_metadata.csv``
from the same record, optional)::

    train_data/<id>.wav     test_data/<id>.wav      44.1 kHz mono recordings
    train_labels/<id>.csv   test_labels/<id>.csv    start_time,end_time,instrument,note,
                                                    start_beat,end_beat,note_value
    musicnet_metadata.csv                           id,composer,composition,movement,ensemble,...

Label times are sample indices at 44.1 kHz; ``instrument`` is a 1-based General MIDI program
(1 piano, 7 harpsichord, 41 violin, 42 viola, 43 cello, 44 contrabass, 61 horn, 69 oboe,
71 bassoon, 72 clarinet, 74 flute), stored here 0-based (program = code - 1); ``note`` is the
MIDI pitch. Velocities are unknown (0).

Splits:

* ``split_scheme="mt3"`` (default): MT3's validation (15) and test (15) track ids, which are
  ``TRACKS_BY_SPLIT`` in magenta/mt3 ``mt3/colab/mt3_reconvat_baseline.ipynb``; train is the
  other 300 recordings (YourMT3's ``preprocess_musicnet.py`` derives MT3's train the same way).
* ``split_scheme="official"``: MusicNet's own folders, 320 train / 10 test.

Every item carries composer, composition, movement, ensemble, source, transcriber, catalog name
and duration (from ``musicnet_metadata.csv``, frozen in the manifest), so translation domains
(e.g. "Solo Piano" vs "String Quartet", or one composer) can be built from item metadata.
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadInputError
from ..types import Item, Notes
from . import register_dataset
from .base import Manifest
from .download import Archive
from .readers import check_audio_file, make_notes, parse_number, read_csv_rows
from .real import RealDataset, resplit_manifest

SAMPLE_RATE = 44100
LABEL_COLUMNS = ("start_time", "end_time", "instrument", "note")
INSTRUMENT_NAMES = {1: "piano", 7: "harpsichord", 41: "violin", 42: "viola", 43: "cello", 44: "contrabass",
                    61: "horn", 69: "oboe", 71: "bassoon", 72: "clarinet", 74: "flute"}


def read_musicnet_labels(path: str | Path) -> Notes:
    """Notes of a MusicNet label CSV (times in samples at 44.1 kHz, 1-based GM programs)."""
    path = Path(path)
    rows = read_csv_rows(path, required=LABEL_COLUMNS, what="MusicNet label file")
    n = len(rows)
    onsets, offsets, pitches, programs = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, np.int64)
    for k, (line, row) in enumerate(rows):
        start = parse_number(row["start_time"], path=path, line=line, column="start_time", integer=True)
        end = parse_number(row["end_time"], path=path, line=line, column="end_time", integer=True)
        code = parse_number(row["instrument"], path=path, line=line, column="instrument", integer=True)
        note = parse_number(row["note"], path=path, line=line, column="note", integer=True)
        if not 1 <= code <= 128:
            raise BadInputError(f"{path}: line {line}: instrument {code} is not a 1-based GM program (1-128)")
        if not 0 <= note <= 127:
            raise BadInputError(f"{path}: line {line}: note {note} is outside the MIDI range 0-127")
        if start < 0 or end <= start:
            raise BadInputError(f"{path}: line {line}: end_time {end} is not after start_time {start}")
        onsets[k], offsets[k], pitches[k], programs[k] = start / SAMPLE_RATE, end / SAMPLE_RATE, note, code - 1
    return make_notes(onsets=onsets, offsets=offsets, pitches=pitches, programs=programs, name=str(path))


@register_dataset
class MusicNet(RealDataset):
    """MusicNet (classical ensembles; note labels aligned by DTW and verified by musicians)."""

    name = "musicnet"
    title = "MusicNet"
    citation = """@inproceedings{thickstun2017learning,
  title={Learning Features of Music from Scratch},
  author={John Thickstun and Zaid Harchaoui and Sham M. Kakade},
  booktitle={International Conference on Learning Representations (ICLR)},
  year={2017}
}"""
    license = "CC BY 4.0"
    homepage = "https://zenodo.org/record/5120004"
    splits: tuple[str, ...] = ("train", "validation", "test")
    manifest_file = "musicnet.json"
    required_files = ("train_labels", "test_labels")
    layout_hint = "register the unpacked musicnet/ folder (train_data/ train_labels/ test_data/ test_labels/)"
    annex_patterns = RealDataset.annex_patterns + ("musicnet_metadata.csv", "*.mid")
    archives: ClassVar[tuple[Archive, ...]] = (  # Zenodo record 5120004; no checksum published
        Archive("all", "https://zenodo.org/record/5120004/files/musicnet.tar.gz", "musicnet.tar.gz", strip="musicnet"),
        Archive("metadata", "https://zenodo.org/record/5120004/files/musicnet_metadata.csv", "musicnet_metadata.csv",
                extract=False),
    )
    default_params: ClassVar[dict[str, Any]] = {"split_scheme": "mt3"}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"split_scheme": ("mt3", "official")}

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if self.params["split_scheme"] == "official":
            self.splits = ("train", "test")

    def adjust_manifest(self, manifest: Manifest) -> Manifest:
        if self.params["split_scheme"] == "official":
            return resplit_manifest(manifest, scheme="official", key="official_split")
        return manifest

    def items(self, split: str) -> list[Item]:
        return self.manifest_items(split, audio_role="audio")

    def load_notes(self, item: Item) -> Notes:
        if item.audio_path is not None:
            check_audio_file(item.audio_path)
        return read_musicnet_labels(item.files["labels"])


# ---- the manifest builder (scripts/make_real_manifests.py --musicnet-csv) -------------------
# ---- MusicNet: MT3's held-out tracks (mt3_reconvat_baseline.ipynb, TRACKS_BY_SPLIT) --------
MT3_MUSICNET_VALIDATION = ["2336", "2466", "2160", "1818", "1733", "1765", "2198", "2300", "2308", "2477",
                           "2611", "2289", "1790", "2315", "2504"]
MT3_MUSICNET_TEST = ["2118", "2501", "1813", "1729", "1893", "2296", "1776", "2487", "2537", "2186", "2431",
                     "2432", "2497", "2621", "2507"]
# The 10 recordings of MusicNet's own test_data/ folder (Thickstun et al.); the rest are in train_data/.
MUSICNET_OFFICIAL_TEST = ["1759", "1819", "2106", "2191", "2298", "2303", "2382", "2416", "2556", "2628"]


MANIFEST_INPUT = ("--musicnet-csv", "musicnet_metadata.csv")


def build_manifest(csv_path: Path) -> dict[str, Any]:
    """The shipped manifest, from ``musicnet_metadata.csv`` and MT3's held-out track ids."""
    items: dict[str, dict[str, Any]] = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            track = row["id"]
            folder = "test" if track in MUSICNET_OFFICIAL_TEST else "train"
            split = ("validation" if track in MT3_MUSICNET_VALIDATION
                     else "test" if track in MT3_MUSICNET_TEST else "train")
            items[track] = {
                "split": split,
                "files": {"audio": {"path": f"{folder}_data/{track}.wav"},
                          "labels": {"path": f"{folder}_labels/{track}.csv"}},
                "metadata": {"composer": row["composer"], "composition": row["composition"],
                             "movement": row["movement"], "ensemble": row["ensemble"], "source": row["source"],
                             "transcriber": row["transcriber"], "catalog_name": row["catalog_name"],
                             "duration": float(row["seconds"]), "official_split": folder},
            }
    assert len(items) == 330
    assert Counter(e["split"] for e in items.values()) == {"train": 300, "validation": 15, "test": 15}
    assert Counter(e["metadata"]["official_split"] for e in items.values()) == {"train": 320, "test": 10}
    return {
        "dataset": "musicnet", "version": "2021-zenodo", "items": items,
        "split_source": "MT3: validation and test track ids are TRACKS_BY_SPLIT in magenta/mt3 "
                        "mt3/colab/mt3_reconvat_baseline.ipynb (15 + 15); train is the other 300 of the 330 "
                        "recordings (as YourMT3's preprocess_musicnet.py derives it). split_scheme='official' "
                        "uses MusicNet's own train_data/test_data folders (320/10)",
        "sources": ["github.com/magenta/mt3@fa04532779a6078819c3418adcd83747c94329a4:"
                    "mt3/colab/mt3_reconvat_baseline.ipynb (TRACKS_BY_SPLIT)",
                    "https://zenodo.org/record/5120004 musicnet_metadata.csv (copy: "
                    "github.com/iferco/DTWMatcher@54bd7706a4baa2eb906d909e56780c37624e92e4)"],
    }
