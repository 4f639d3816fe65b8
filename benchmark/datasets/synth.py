"""``synth``: MuseBench's own synthetic multi-track pieces, generated and rendered locally.

Every item is composed by a deterministic generator (numpy ``default_rng`` seeded from the
generator version, variant, split and index): a chord progression in a random key and mode,
a melody over it, a bass line, and (``ensemble`` only) a pad and a drum track. Tempo, metre,
note lengths, articulation and velocities vary per piece; notes and chords are repeated. The
score is written as a Standard MIDI File (:func:`musebench.midi.write_midi`, one track per
(program, is_drum)), read back, and rendered with :func:`musebench.render.render_notes`
(TinySoundFont + ``TimGM6mb.sf2``) to 16 kHz mono 16-bit PCM WAV, peak-normalised to -1 dBFS.
The WAV bytes are written with the standard library, so regeneration is byte-identical; the
shipped manifest (``benchmark/data/manifests/synth.json``) freezes every file's sha256 and
:meth:`SynthDataset.prepare` refuses data that differs from it.

Variants (dataset parameter ``variant``):

``piano``
    Solo piano (program 0): melody, accompaniment and bass all on one polyphonic track.
``ensemble``
    A different General MIDI instrument per part (melody, harmony, bass, sometimes a pad,
    drawn per piece from disjoint pools) plus a drum track on MIDI channel 10.

Unseen programs: no synth item of any split or variant uses a program in
:data:`UNSEEN_PROGRAMS` (71, clarinet), so a translation task can render a score with it as
an instrument the models never heard in ``synth`` training data
(:meth:`SynthDataset.render_item` with ``program_override=71``).

Layout under the dataset root: ``<variant>/<split>/<item id>.mid`` and ``.wav``.

The composer is :mod:`musebench.datasets.synth_compose` (one function per part), the renderer
and the manifest builder :mod:`musebench.datasets.synth_render`; this module is the dataset and
re-exports both (``musebench.datasets.synth.compose``, ``.build_item``, ... keep working).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, MissingDataError
from ..io_utils import canonical_json, sha256_bytes
from ..paths import package_data
from ..types import Item, Notes
from . import register_dataset
from .base import Manifest
from .generated import GeneratedDataset
from .synth_compose import (
    BASS_PROGRAMS,
    GENERATOR_VERSION,
    HARMONY_PROGRAMS,
    LEAD_IN,
    MELODY_PROGRAMS,
    PAD_PROGRAMS,
    PIANO_PROGRAM,
    SPLIT_SIZES,
    SPLITS,
    TICKS_PER_SECOND,
    UNSEEN_PROGRAMS,
    VARIANTS,
    Piece,
    compose,
    item_id,
    item_seed,
)
from .synth_render import (
    GAIN_DB,
    MANIFEST_FILE,
    PEAK_DBFS,
    SAMPLE_RATE,
    TAIL,
    BuiltItem,
    all_item_specs,
    build_item,
    generate_manifest,
    normalise_peak,
    notes_from_midi_bytes,
    render_synth_notes,
    soundfont_sha256,
)

# the names other modules used before the composer and renderer had modules of their own
_notes_from_midi_bytes = notes_from_midi_bytes
_soundfont_sha256 = soundfont_sha256

CITATION = ("MuseBench synth: deterministic synthetic multi-track pieces rendered with TinySoundFont "
            "and the TimGM6mb General MIDI soundfont (MuseBench, generator version "
            f"{GENERATOR_VERSION}).")
LICENSE = ("CC0-1.0 for the generated scores and audio; the audio is rendered with TimGM6mb.sf2 "
           "(Tim Brechbill, bundled with pretty_midi, which states no licence for it; Debian's "
           "timgm6mb-soundfont package records it as GPL-2)")


def _prepare_hint() -> str:
    return "run `musebench datasets prepare synth`"


@register_dataset
class SynthDataset(GeneratedDataset):
    """MuseBench's synthetic pieces (see the module docstring).

    Parameters
    ----------
    root : path-like, optional
        Where the data lives (default: ``$MUSEBENCH_SYNTH_ROOT``, the registered path, or
        ``<data home>/synth``).
    variant : {"piano", "ensemble"}
        Which half of the data :meth:`items` and :meth:`fingerprint` cover.
    """

    name = "synth"
    title = "MuseBench synthetic multi-track pieces"
    citation = CITATION
    license = LICENSE
    homepage = ""  # generated locally by this module; the soundfont comes with pretty_midi
    splits = SPLITS
    manifest_file = MANIFEST_FILE

    def __init__(self, *, root: str | os.PathLike | None = None, variant: str = "piano", **params: Any):
        if params:
            raise ConfigError(f"dataset 'synth': unknown parameter(s) {', '.join(sorted(params))} (known: variant)")
        if variant not in VARIANTS:
            raise ConfigError(f"dataset 'synth': unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
        super().__init__(root=root, variant=variant)
        self.variant = variant
        self._manifest: Manifest | None = None

    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest.load(package_data("manifests", MANIFEST_FILE))
        return self._manifest

    def _variant_entries(self, split: str) -> dict[str, dict[str, Any]]:
        manifest = self.manifest()
        return {i: e for i, e in manifest.items.items()
                if e["split"] == split and e["metadata"]["variant"] == self.variant}

    def fingerprint(self, split: str) -> str:
        """sha256 of the canonical JSON of this variant's manifest entries of ``split``."""
        self.check_split(split)
        manifest = self.manifest()
        payload = {"dataset": manifest.dataset, "version": manifest.version, "split": split,
                   "variant": self.variant, "items": self._variant_entries(split)}
        return sha256_bytes(canonical_json(payload).encode())

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["sizes"] = {s: len(self._variant_entries(s)) for s in self.splits}
        out["variant"] = self.variant
        return out

    def items(self, split: str) -> list[Item]:
        """Items of ``split`` of this variant, sorted by id.

        Raises
        ------
        MissingDataError
            The data is not prepared under :attr:`root`.
        """
        self.check_split(split)
        root = self.root
        out = []
        for iid in sorted(self._variant_entries(split)):
            entry = self.manifest().items[iid]
            files = {role: root / spec["path"] for role, spec in entry["files"].items()}
            out.append(Item(id=iid, dataset=self.name, audio_path=files["audio"], files=files,
                            metadata={"split": split, **entry["metadata"]}))
        missing = [p for it in out for p in it.files.values() if not p.is_file()]
        self.prepare_if_missing(missing, split)
        missing = [p for it in out for p in it.files.values() if not p.is_file()]
        if missing:
            raise MissingDataError(f"dataset 'synth' is not prepared under {root} ({len(missing)} file(s) missing, "
                                   f"e.g. {missing[0]}); {_prepare_hint()}")
        return out

    def load_notes(self, item: Item) -> Notes:
        """The reference notes of ``item``, read from its MIDI file."""
        from ..midi import read_midi

        path = Path(item.files["midi"])
        if not path.is_file():
            raise MissingDataError(f"{path}: MIDI file of synth item {item.id} not found; {_prepare_hint()}")
        return read_midi(path).validate(name=f"synth item {item.id}")

    def render_item(self, item: Item, *, program_override: int | None = None,
                    sample_rate: int = SAMPLE_RATE, include_drums: bool = True) -> np.ndarray:
        """Re-render an item's MIDI, e.g. with another instrument (for translation tasks).

        Parameters
        ----------
        item : Item
        program_override : int or None
            Render every non-drum note with this General MIDI program; None keeps the
            item's programs (then the result equals the shipped WAV up to 16-bit rounding).
        sample_rate : int
        include_drums : bool
            Keep the drum track.

        Returns
        -------
        audio : np.ndarray, shape=(n,), float32, peak-normalised like the shipped audio
        """
        notes = self.load_notes(item)
        if not include_drums:
            notes = notes.select(~notes.is_drum)
        return render_synth_notes(notes, program_override=program_override, sample_rate=sample_rate)

    # ---- preparation (GeneratedDataset.prepare) -------------------------------------------
    def prepare_units(self) -> list[tuple[Any, dict[str, dict[str, Any]]]]:
        """One unit per item (every variant): ``(variant, split, index)`` and its two files."""
        return [((entry["metadata"]["variant"], entry["split"], int(entry["metadata"]["index"])),
                 {spec["path"]: spec for spec in entry["files"].values()})
                for _iid, entry in sorted(self.manifest().items.items())]

    def build_unit(self, unit: Any) -> dict[str, bytes]:
        variant, split, index = unit  # the units prepare_units made
        built = build_item(variant, split, index)
        files = built.entry["files"]
        return {files["audio"]["path"]: built.wav, files["midi"]["path"]: built.midi}

    def differ_note(self) -> str:
        expected = self.manifest().extra.get("soundfont", {}).get("sha256")
        if expected and expected != soundfont_sha256():
            return "; the installed TimGM6mb.sf2 differs from the one the manifest was made with"
        return ""


__all__ = [
    "BASS_PROGRAMS", "CITATION", "GAIN_DB", "GENERATOR_VERSION", "HARMONY_PROGRAMS", "LEAD_IN", "LICENSE",
    "MANIFEST_FILE", "MELODY_PROGRAMS", "PAD_PROGRAMS", "PEAK_DBFS", "PIANO_PROGRAM", "SAMPLE_RATE", "SPLITS",
    "SPLIT_SIZES", "TAIL", "TICKS_PER_SECOND", "UNSEEN_PROGRAMS", "VARIANTS", "BuiltItem", "Piece",
    "SynthDataset", "all_item_specs", "build_item", "compose", "generate_manifest", "item_id", "item_seed",
    "normalise_peak", "notes_from_midi_bytes", "render_synth_notes", "soundfont_sha256",
]
