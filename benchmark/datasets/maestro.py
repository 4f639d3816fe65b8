"""MAESTRO v3.0.0: virtuosic piano performances with aligned MIDI (Hawthorne et al., 2019).

Layout (``maestro-v3.0.0.zip`` unpacked; the registered root is the ``maestro-v3.0.0/``
folder)::

    maestro-v3.0.0.csv                       canonical_composer, canonical_title, split, year,
                                             midi_filename, audio_filename, duration
    2004/ ... 2018/<performance>.midi|.wav   MIDI with sustain-pedal CC64; 44.1-48 kHz stereo WAV

Split source: the ``split`` column of ``maestro-v3.0.0.csv`` -- 962 train / 137 validation /
177 test performances, as published on https://magenta.tensorflow.org/datasets/maestro (the
same split MT3 uses). The manifest ``maestro-v3.json`` freezes all 1276 file names with their
split; :meth:`Maestro.items` re-reads the local csv and refuses a copy whose split column
disagrees (e.g. a v2.0.0 csv). No per-file checksums are published (only the archive's sha256,
checked by ``musebench datasets download``), so the data digest comes from ``verify``.

Sustain pedal: ``sustain_pedal=True`` (a dataset parameter, set in the task YAML) extends note
offsets while CC64 is held, as MT3 does (``note_seq.apply_sustain_control_changes``); it moves
onset+offset scores by tens of points, so it is explicit in every task.
"""
from __future__ import annotations

import csv
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BadInputError
from ..midi import read_midi
from ..types import Item, Notes
from . import register_dataset
from .download import Archive
from .readers import check_audio_file, read_csv_rows
from .real import RealDataset

CSV_NAME = "maestro-v3.0.0.csv"
MAESTRO_URL = "https://storage.googleapis.com/magentadata/datasets/maestro/v3.0.0"
CSV_COLUMNS = ("canonical_composer", "canonical_title", "split", "year", "midi_filename", "audio_filename",
               "duration")


@register_dataset
class Maestro(RealDataset):
    """MAESTRO v3.0.0 (piano; MIDI references with velocities and pedal)."""

    name = "maestro-v3"
    title = "MAESTRO v3.0.0"
    citation = """@inproceedings{hawthorne2018enabling,
  title={Enabling Factorized Piano Music Modeling and Generation with the {MAESTRO} Dataset},
  author={Curtis Hawthorne and Andriy Stasyuk and Adam Roberts and Ian Simon and Cheng-Zhi Anna Huang and
          Sander Dieleman and Erich Elsen and Jesse Engel and Douglas Eck},
  booktitle={International Conference on Learning Representations},
  year={2019},
  url={https://openreview.net/forum?id=r1lYRjC9F7}
}"""
    license = "CC BY-NC-SA 4.0"
    homepage = "https://magenta.tensorflow.org/datasets/maestro"
    splits = ("train", "validation", "test")
    manifest_file = "maestro-v3.json"
    required_files = (CSV_NAME,)
    layout_hint = "register the unpacked maestro-v3.0.0/ folder, which holds the csv and the year folders"
    annex_patterns = RealDataset.annex_patterns + ("maestro-v3.0.0.json",)
    default_params: ClassVar[dict[str, Any]] = {"sustain_pedal": False}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"sustain_pedal": (False, True)}
    archives: ClassVar[tuple[Archive, ...]] = (  # sha256 from https://magenta.tensorflow.org/datasets/maestro
        Archive("all", f"{MAESTRO_URL}/maestro-v3.0.0.zip", "maestro-v3.0.0.zip",
                sha256="6680fea5be2339ea15091a249fbd70e49551246ddbd5ca50f1b2352c08c95291", size="101 GB",
                strip="maestro-v3.0.0"),
        Archive("midi", f"{MAESTRO_URL}/maestro-v3.0.0-midi.zip", "maestro-v3.0.0-midi.zip",
                sha256="70470ee253295c8d2c71e6d9d4a815189e35c89624b76d22fce5a019d5dde12c", size="56 MB",
                strip="maestro-v3.0.0"),
    )

    def _check_csv(self, split: str) -> None:
        """The local csv must assign every performance of the manifest to the same split."""
        path = self.root / CSV_NAME
        rows = read_csv_rows(path, required=CSV_COLUMNS, what="MAESTRO metadata csv")
        manifest = self.manifest()
        by_midi = {entry["files"]["midi"]["path"]: item_id for item_id, entry in manifest.items.items()}
        seen = set()
        for line, row in rows:
            item_id = by_midi.get(row["midi_filename"])
            if item_id is None:
                raise BadInputError(f"{path}: line {line}: {row['midi_filename']} is not a MAESTRO v3.0.0 "
                                    f"performance (wrong dataset version?)")
            expected = manifest.items[item_id]["split"]
            if row["split"] != expected:
                raise BadInputError(f"{path}: line {line}: {row['midi_filename']} is in split {row['split']!r}, "
                                    f"MAESTRO v3.0.0 puts it in {expected!r}")
            seen.add(item_id)
        missing = [i for i in manifest.ids(split) if i not in seen]
        if missing:
            raise BadInputError(f"{path}: lists {len(rows)} performances, {len(missing)} of the {split} split are "
                                f"absent (first: {manifest.items[missing[0]]['files']['midi']['path']})")

    def items(self, split: str) -> list[Item]:
        self.check_split(split)
        self.check_layout()
        self._check_csv(split)
        return self.manifest_items(split, audio_role="audio")

    def load_notes(self, item: Item) -> Notes:
        midi = Path(item.files["midi"])
        if item.audio_path is not None:
            check_audio_file(item.audio_path)
        notes = read_midi(midi, sustain_pedal=bool(self.params["sustain_pedal"]))
        if len(notes) == 0:
            raise BadInputError(f"{midi}: MIDI file has no notes")
        return notes.validate(name=str(midi))


# ---- the manifest builder (scripts/make_real_manifests.py --maestro-csv) --------------------
MANIFEST_INPUT = ("--maestro-csv", "maestro-v3.0.0.csv")  # what scripts/make_real_manifests.py passes


def build_manifest(csv_path: Path) -> dict[str, Any]:
    """The shipped manifest, from ``maestro-v3.0.0.csv`` (its ``split`` column)."""
    items = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            midi, audio = row["midi_filename"], row["audio_filename"]
            item_id = os.path.basename(midi)[: -len(".midi")]
            assert re.fullmatch(r"[A-Za-z0-9._-]+", item_id) and item_id not in items, item_id
            items[item_id] = {
                "split": row["split"],
                "files": {"midi": {"path": midi}, "audio": {"path": audio}},
                "metadata": {"canonical_composer": row["canonical_composer"],
                             "canonical_title": row["canonical_title"], "year": int(row["year"]),
                             "duration": round(float(row["duration"]), 6)},
            }
    assert Counter(e["split"] for e in items.values()) == {"train": 962, "validation": 137, "test": 177}
    return {
        "dataset": "maestro-v3", "version": "3.0.0", "items": items,
        "shared_files": {"maestro-v3.0.0.csv": {}},
        "split_source": "the 'split' column of maestro-v3.0.0.csv (MAESTRO v3.0.0, 962/137/177 "
                        "performances as published); the loader re-reads the local csv and refuses a copy "
                        "whose split column disagrees with this manifest",
        "sources": ["https://magenta.tensorflow.org/datasets/maestro (maestro-v3.0.0.csv; statistics table)",
                    "github.com/alvaro-lg/TFG@25ce3861dd3f3164797c48571865bfc9df84f0a7:maestro-v3.0.0.csv"],
    }
