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

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadInputError
from ..types import Item, Notes
from ._real import RealDataset, check_audio_file, make_notes, parse_number, read_csv_rows, resplit_manifest
from .base import Manifest

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
    splits = ("train", "validation", "test")
    manifest_file = "musicnet.json"
    required_files = ("train_labels", "test_labels")
    layout_hint = "register the unpacked musicnet/ folder (train_data/ train_labels/ test_data/ test_labels/)"
    annex_patterns = RealDataset.annex_patterns + ("musicnet_metadata.csv", "*.mid")
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
