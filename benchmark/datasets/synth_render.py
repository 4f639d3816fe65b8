"""The renderer of the ``synth`` dataset: composed pieces -> MIDI and WAV bytes, and the manifest.

:func:`build_item` writes the score of :func:`musebench.datasets.synth_compose.compose` as a
Standard MIDI File (:func:`musebench.midi.midi_bytes`, one track per (program, is_drum)), reads it
back and renders it with :func:`render_synth_notes` (:func:`musebench.render.render_notes`:
TinySoundFont + ``TimGM6mb.sf2``) to 16 kHz mono 16-bit PCM WAV, peak-normalised to -1 dBFS. The
WAV bytes are written with the standard library, so regeneration is byte-identical;
:func:`generate_manifest` freezes every file's sha256 (``python scripts/make_synth_manifest.py
synth`` writes it to ``benchmark/data/manifests/synth.json``).
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..io_utils import sha256_bytes, sha256_file
from ..types import Notes
from .base import Manifest
from .synth_compose import (
    GENERATOR_VERSION,
    SPLIT_SIZES,
    SPLITS,
    UNSEEN_PROGRAMS,
    VARIANTS,
    compose,
    item_id,
    item_seed,
)

SAMPLE_RATE = 16000
TAIL = 0.8            # seconds rendered after the last note-off
GAIN_DB = -6.0        # synthesizer gain
PEAK_DBFS = -1.0      # every rendering is peak-normalised to this level
MANIFEST_FILE = "synth.json"


def notes_from_midi_bytes(data: bytes) -> Notes:
    """The notes of a Standard MIDI File given as bytes (read back through a temporary file)."""
    from ..midi import read_midi

    with tempfile.TemporaryDirectory(prefix="musebench-synth-") as tmp:
        path = Path(tmp) / "item.mid"
        path.write_bytes(data)
        return read_midi(path)


def normalise_peak(audio: np.ndarray, *, peak_dbfs: float = PEAK_DBFS) -> np.ndarray:
    """Scale ``audio`` so that its absolute peak is ``peak_dbfs`` (silence is returned as is)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0:
        return audio.astype(np.float32, copy=False)
    return (audio * np.float32(10.0 ** (peak_dbfs / 20.0) / peak)).astype(np.float32)


def render_synth_notes(notes: Notes, *, program_override: int | None = None,
                       sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render notes the way synth items are rendered (tail, gain, peak normalisation).

    Returns
    -------
    audio : np.ndarray, shape=(n,), float32
    """
    from ..render import render_notes

    audio = render_notes(notes, sample_rate=sample_rate, program_override=program_override,
                         tail=TAIL, gain_db=GAIN_DB)
    return normalise_peak(audio)


@dataclass
class BuiltItem:
    """The files and manifest entry of one generated item."""

    id: str
    midi: bytes
    wav: bytes
    entry: dict[str, Any]


def _relpaths(variant: str, split: str, iid: str) -> dict[str, str]:
    return {"audio": f"{variant}/{split}/{iid}.wav", "midi": f"{variant}/{split}/{iid}.mid"}


def build_item(variant: str, split: str, index: int) -> BuiltItem:
    """Compose, write and render one item in memory (MIDI bytes, WAV bytes, manifest entry)."""
    from ..midi import midi_bytes
    from ..render import pcm16_wav_bytes

    iid = item_id(variant, split, index)
    piece = compose(variant, split, index)
    midi = midi_bytes(piece.notes)
    notes = notes_from_midi_bytes(midi)
    audio = render_synth_notes(notes)
    wav = pcm16_wav_bytes(audio, SAMPLE_RATE)
    tracks: list[dict[str, Any]] = []
    for name, spec in piece.parts.items():
        same = [t for t in tracks if t["program"] == spec["program"] and t["is_drum"] == spec["is_drum"]]
        count = int(np.sum(piece.part_of_note == name))
        if same:
            same[0]["parts"].append(name)
            same[0]["notes"] += count
        else:
            tracks.append({"program": spec["program"], "is_drum": spec["is_drum"], "parts": [name], "notes": count})
    tracks.sort(key=lambda t: (t["is_drum"], t["program"]))
    paths = _relpaths(variant, split, iid)
    entry = {
        "split": split,
        "files": {
            "audio": {"path": paths["audio"], "sha256": sha256_bytes(wav), "size": len(wav)},
            "midi": {"path": paths["midi"], "sha256": sha256_bytes(midi), "size": len(midi)},
        },
        "metadata": {
            "variant": variant,
            "index": index,
            "duration": round(len(audio) / SAMPLE_RATE, 6),
            "programs": sorted({t["program"] for t in tracks if not t["is_drum"]}),
            "has_drums": any(t["is_drum"] for t in tracks),
            "n_notes": len(notes),
            "tracks": tracks,
            "generator_version": GENERATOR_VERSION,
            "seed": item_seed(variant, split, index),
            **piece.info,
        },
    }
    return BuiltItem(id=iid, midi=midi, wav=wav, entry=entry)


def all_item_specs() -> Iterator[tuple[str, str, int]]:
    """(variant, split, index) of every item the generator makes, in manifest order."""
    for variant in VARIANTS:
        for split in SPLITS:
            for index in range(SPLIT_SIZES[split]):
                yield variant, split, index


def soundfont_sha256() -> str:
    """sha256 of the installed ``TimGM6mb.sf2`` (the manifest records the one it was made with)."""
    from ..render import default_soundfont

    return sha256_file(default_soundfont())


def generate_manifest(*, progress: bool = False) -> Manifest:
    """Build every item in memory and return the manifest that freezes their bytes.

    ``python scripts/make_synth_manifest.py synth`` writes it to ``benchmark/data/manifests/synth.json``.
    """
    from tqdm.auto import tqdm

    items = {}
    for variant, split, index in tqdm(list(all_item_specs()), desc="synth manifest", unit="item",
                                      disable=not progress):
        built = build_item(variant, split, index)
        items[built.id] = built.entry
    extra = {
        "generator_version": GENERATOR_VERSION,
        "sample_rate": SAMPLE_RATE,
        "variants": list(VARIANTS),
        "unseen_programs": list(UNSEEN_PROGRAMS),
        "soundfont": {"name": "TimGM6mb.sf2", "sha256": soundfont_sha256()},
    }
    return Manifest(dataset="synth", version=GENERATOR_VERSION, items=items, extra=extra)
