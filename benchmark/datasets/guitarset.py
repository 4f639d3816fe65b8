"""GuitarSet: solo acoustic guitar with hexaphonic-pickup note annotations (Xi et al., 2018).

Layout (the five Zenodo zips of record 3371780 unpacked side by side)::

    annotation/<track>.jams                          JAMS; one note_midi annotation per string
    audio_mono-mic/<track>_mic.wav                   mono microphone (default input)
    audio_mono-pickup_mix/<track>_mix.wav            mono mix of the pickup
    audio_hex-pickup_original/<track>_hex.wav        6-channel pickup
    audio_hex-pickup_debleeded/<track>_hex_cln.wav   6-channel pickup, bleed removed

Track ids read ``<player>_<style><progression>-<tempo>-<key>_<comp|solo>``, e.g.
``00_BN1-129-Eb_comp``: 6 players x 5 styles x 3 progressions x 2 tempi x 2 modes = 360. Item ids
write '#' of a key as 's' (``04_SS1-100-Cs_solo``); the original id is ``metadata.track_id``.

Splits (file list and md5 checksums of every file: mirdata's ``guitarset_index_1.1.0.json``;
an instance uses and verifies the JAMS files and the audio chosen by ``audio``, and the other
audio folders may be absent):

* ``split_scheme="mt3"`` (default): progressions 1 and 2 of every style -> ``train`` (240),
  progression 3 -> ``validation`` (120). This is MT3's split as issue 3 states it; MT3 itself
  ships only pre-built TFRecords, so the exact track list could not be compared with MT3's;
  YourMT3 uses the same rule (``guitarset_progression`` in its ``config/data_presets.py``).
* ``split_scheme="player"``: a player-held-out split -- every track of ``held_out_player``
  (default ``"05"``) -> ``test`` (60), the other five players -> ``train`` (300). Not a
  published split; MuseBench's, for measuring generalisation to an unseen guitarist.

Reference notes: the ``note_midi`` annotations of all six strings (JAMS ``value`` is a
fractional MIDI pitch, kept as is), one program for all (``program``, default 25 = GM
"Acoustic Guitar (steel)", the instrument recorded; YourMT3 writes 24), velocity unknown (0).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadInputError
from ..io_utils import read_json
from ..types import Item, Notes
from . import register_dataset
from .base import Manifest
from .download import Archive
from .readers import check_audio_file, make_notes
from .real import RealDataset

AUDIO_ROLES = {"mic": "audio_mic", "mix": "audio_mix", "hex": "audio_hex", "hex_cln": "audio_hex_cln"}
AUDIO_FOLDERS = ("audio_mono-mic", "audio_mono-pickup_mix", "audio_hex-pickup_original", "audio_hex-pickup_debleeded")
ZENODO = "https://zenodo.org/record/3371780/files"
PLAYERS = ("00", "01", "02", "03", "04", "05")


def _observations(data: Any, *, path: Path, index: int) -> list[dict[str, Any]]:
    """JAMS observations as dicts; accepts the sparse (list) and the dense (dict of lists) form."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("time"), list):
        keys = ("time", "duration", "value", "confidence")
        n = len(data["time"])
        if any(len(data.get(k, [None] * n)) != n for k in keys):
            raise BadInputError(f"{path}: note_midi annotation {index}: dense data columns differ in length")
        return [{k: data.get(k, [None] * n)[i] for k in keys} for i in range(n)]
    raise BadInputError(f"{path}: note_midi annotation {index}: 'data' is neither a list nor a dense table")


def read_guitarset_jams(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(onsets, offsets, pitches, strings) of every note_midi observation of a GuitarSet JAMS file."""
    path = Path(path)
    jam = read_json(path, what="GuitarSet JAMS file")
    if not isinstance(jam, dict) or not isinstance(jam.get("annotations"), list):
        raise BadInputError(f"{path}: not a JAMS file (no 'annotations' list)")
    onsets, offsets, pitches, strings = [], [], [], []
    n_note_midi = 0
    for index, ann in enumerate(jam["annotations"]):
        if not isinstance(ann, dict) or ann.get("namespace") != "note_midi":
            continue
        n_note_midi += 1
        source = str((ann.get("annotation_metadata") or {}).get("data_source", n_note_midi - 1))
        for k, obs in enumerate(_observations(ann.get("data"), path=path, index=index)):
            try:
                t, d, v = float(obs["time"]), float(obs["duration"]), float(obs["value"])
            except (KeyError, TypeError, ValueError):
                raise BadInputError(f"{path}: note_midi annotation {index}, observation {k}: time, duration and "
                                    f"value must be numbers (got {obs!r:.80})") from None
            if not (np.isfinite(t) and np.isfinite(d) and np.isfinite(v)) or t < 0 or d <= 0:
                raise BadInputError(f"{path}: note_midi annotation {index}, observation {k}: bad note "
                                    f"(time {t}, duration {d}, value {v})")
            onsets.append(t)
            offsets.append(t + d)
            pitches.append(v)
            strings.append(int(source) if source.isdigit() else -1)
    if n_note_midi == 0:
        raise BadInputError(f"{path}: no note_midi annotation (expected one per string)")
    return np.array(onsets), np.array(offsets), np.array(pitches), np.array(strings)


@register_dataset
class GuitarSet(RealDataset):
    """GuitarSet 1.1.0 (acoustic guitar, string-level note annotations)."""

    name = "guitarset"
    title = "GuitarSet"
    citation = """@inproceedings{xi2018guitarset,
  title={GuitarSet: A Dataset for Guitar Transcription},
  author={Xi, Qingyang and Bittner, Rachel M and Ye, Xuzhou and Pauwels, Johan and Bello, Juan P},
  booktitle={International Society of Music Information Retrieval (ISMIR)},
  year={2018}
}"""
    license = "CC BY 4.0"
    homepage = "https://guitarset.weebly.com/"
    splits: tuple[str, ...] = ("train", "validation")
    manifest_file = "guitarset.json"
    required_files = ("annotation",)
    annex_patterns = RealDataset.annex_patterns + tuple(f"{folder}/*" for folder in AUDIO_FOLDERS)
    layout_hint = "unpack the Zenodo zips so that annotation/ and audio_mono-mic/ are in the registered folder"
    archives: ClassVar[tuple[Archive, ...]] = tuple(  # Zenodo record 3371780; md5 as in mirdata's loader
        Archive(part, f"{ZENODO}/{folder}.zip?download=1", f"{folder}.zip", md5=md5, into=folder, strip=folder)
        for part, folder, md5 in (
            ("annotation", "annotation", "b39b78e63d3446f2e54ddb7a54df9b10"),
            ("audio_mic", "audio_mono-mic", "275966d6610ac34999b58426beb119c3"),
            ("audio_mix", "audio_mono-pickup_mix", "aecce79f425a44e2055e46f680e10f6a"),
            ("audio_hex", "audio_hex-pickup_original", "f9911bf217cb40e9e68edf3726ef86cc"),
            ("audio_hex_cln", "audio_hex-pickup_debleeded", "c31d97279464c9a67e640cb9061fb0c6"),
        ))
    default_params: ClassVar[dict[str, Any]] = {"split_scheme": "mt3", "held_out_player": "05", "audio": "mic",
                                                "program": 25}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"split_scheme": ("mt3", "player"),
                                                           "held_out_player": PLAYERS,
                                                           "audio": tuple(AUDIO_ROLES)}

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        program = self.params["program"]
        if not isinstance(program, int) or not 0 <= program <= 127:
            from ..errors import ConfigError

            raise ConfigError(f"dataset 'guitarset': parameter program={program!r} is not a GM program 0-127")
        if self.params["split_scheme"] == "player":
            self.splits = ("train", "test")

    def adjust_manifest(self, manifest: Manifest) -> Manifest:
        """Keep the JAMS and the chosen audio of each track (so a copy with only the microphone
        audio verifies), and apply the split scheme; both are named in the version."""
        role = AUDIO_ROLES[self.params["audio"]]
        version = f"{manifest.version}+{self.params['audio']}"
        held = self.params["held_out_player"]
        if self.params["split_scheme"] == "player":
            version += f"+player{held}"
        items = {}
        for item_id, entry in manifest.items.items():
            split = entry["split"]
            if self.params["split_scheme"] == "player":
                split = "test" if entry["metadata"]["player"] == held else "train"
            files = {k: v for k, v in entry["files"].items() if k in ("jams", role)}
            items[item_id] = {**entry, "split": split, "files": files}
        return Manifest(dataset=manifest.dataset, version=version, items=items, extra=dict(manifest.extra))

    def items(self, split: str) -> list[Item]:
        return self.manifest_items(split, audio_role=AUDIO_ROLES[self.params["audio"]])

    def load_notes(self, item: Item) -> Notes:
        if item.audio_path is not None:
            check_audio_file(item.audio_path)
        path = Path(item.files["jams"])
        onsets, offsets, pitches, _strings = read_guitarset_jams(path)
        return make_notes(onsets=onsets, offsets=offsets, pitches=pitches, programs=self.params["program"],
                          name=str(path))


# ---- the manifest builder (scripts/make_real_manifests.py --guitarset-index) ----------------
MANIFEST_INPUT = ("--guitarset-index", "mirdata's guitarset_index_1.1.0.json")
GUITARSET_FILES = {"audio_mic": "audio_mic", "audio_mix": "audio_mix", "audio_hex": "audio_hex",
                   "audio_hex_cln": "audio_hex_cln", "jams": "jams"}


def build_manifest(index_path: Path) -> dict[str, Any]:
    """The shipped manifest, from mirdata's ``guitarset_index_1.1.0.json`` (files, md5)."""
    index = json.loads(index_path.read_text())["tracks"]
    assert len(index) == 360
    items = {}
    for track_id, files in sorted(index.items()):
        player, rest = track_id.split("_", 1)
        style_prog = rest.split("-")[0]
        style, progression = style_prog[:-1], int(style_prog[-1])
        mode = track_id.rsplit("_", 1)[1]
        item_id = track_id.replace("#", "s")
        assert re.fullmatch(r"[A-Za-z0-9._-]+", item_id)
        items[item_id] = {
            "split": "train" if progression in (1, 2) else "validation",
            "files": {role: {"path": files[key][0], "md5": files[key][1]} for role, key in GUITARSET_FILES.items()},
            "metadata": {"track_id": track_id, "player": player, "style": style, "progression": progression,
                         "tempo": int(rest.split("-")[1]), "mode": mode},
        }
    assert Counter(e["split"] for e in items.values()) == {"train": 240, "validation": 120}
    return {
        "dataset": "guitarset", "version": "1.1.0", "items": items,
        "split_source": "MT3's GuitarSet split as described in issue 3 and used as 'guitarset_progression' by "
                        "YourMT3 (config/data_presets.py): progressions 1 and 2 of every style -> train (240), "
                        "progression 3 -> validation (120); MT3's own split lives only in its pre-built "
                        "TFRecords. split_scheme='player' holds out one player instead",
        "sources": ["github.com/mir-dataset-loaders/mirdata@c625f44e30e305e910ecd7dd42153894bc6a28b8:"
                    "mirdata/datasets/indexes/guitarset_index_1.1.0.json (file list, md5)"],
    }
