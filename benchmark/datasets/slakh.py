"""Slakh2100 (redux) and MT3's Cerberus4 subset of it (Manilow et al., 2019).

Layout (``slakh2100_flac_redux.tar.gz`` unpacked; the registered root holds the split
folders)::

    train|validation|test|omitted/TrackNNNNN/
        mix.flac            the full mixture (44.1 kHz)
        all_src.mid         all MIDI tracks of the song
        metadata.yaml       UUID, ..., stems: {S00: {program_num, is_drum, inst_class,
                            audio_rendered, midi_saved, plugin_name, ...}, ...}
        stems/Sxx.flac      rendered stems (audio_rendered: true)
        MIDI/Sxx.mid        one MIDI file per stem (midi_saved: true)

Split source: Slakh2100-redux, ``splits/redux.json`` of github.com/ethman/slakh-utils: 1289
train / 270 validation / 151 test tracks, and 390 tracks moved to ``omitted/`` because their
MIDI duplicates another track. ``split_scheme="orig"`` gives the original Slakh2100 split
(1500/375/225, by track number) over the same folders. Which of the two MT3 trained and
evaluated on cannot be read from its code (its splits live in pre-built TFRecords); the
redux split is the only layout distributed today, hence the default.

Reference notes (``midi_source="stems"``, default): the MIDI of every stem that is both
rendered and saved (notes of unrendered stems are not in the mix), with its ``is_drum`` from
``metadata.yaml`` (drums: program 0, drum flag set; Slakh writes program 128) and a program
chosen by the dataset parameter ``programs``:

``"slakh_class"`` (default, MT3's convention)
    the program of the stem's Slakh instrument class, as MT3 assigns it
    (``mt3/preprocessors.py`` ``_SLAKH_CLASS_PROGRAMS``, lines 422-456, applied per stem in
    ``tokenize_slakh_example``, lines 524-529): e.g. every "Electric Bass" stem is program 33, so
    an estimate of 34 for a stem whose raw program is 33 is wrong only if the classes differ. The
    class name is taken from the stem's ``slakh_class`` (MT3's TFRecords carry it) or from an
    ``inst_class`` that is one of the 34 class names; a plain Slakh2100-redux ``metadata.yaml``
    has neither (its ``inst_class`` is the General MIDI family, e.g. "Bass"), and then the class
    is **approximated** from ``program_num``: the class with the largest program <= the stem's
    within its General MIDI family of 8 (33-39 -> Electric Bass 33, 26-28 -> Clean Electric
    Guitar 26, 29-31 -> Distorted 29, ...), the raw program where the family has none. How many
    stems of an item were approximated is in its metadata (``programs_approximated``).
``"raw"``
    the stem's own ``program_num`` (stricter than MT3: 33 vs 34 is a miss).

``sustain_pedal`` (default True, MT3's convention): each stem's notes are extended by its own
sustain pedal (CC64) before they are pooled, as MT3's ``add_track_to_notesequence`` does with
``note_seq.apply_sustain_control_changes`` (``mt3/preprocessors.py`` line 481). Both parameters
are recorded in results.json (``task.dataset_params``) and in the data fingerprint.
``midi_source="all_src"`` reads ``all_src.mid`` as is (programs as written; pedal as set).

Cerberus4 (MT3, after Manilow et al.'s Cerberus): the tracks of a split that contain at least
one rendered stem of each of piano (programs 0-7), guitar (24-31), bass (32-39) and drums;
the stems of these four classes (others dropped) are summed into the input mix, and their
notes are kept with one program per class (piano 0, guitar 24, bass 32; drums flagged), as
MT3's ``CERBERUS4_CONFIG.track_specs`` name them. MT3's own mixes are pre-built TFRecords, so
the mix rule here (plain sum of the rendered stems, scaled down only if it would clip) is
MuseBench's; the rule version is part of the split fingerprint. Mixes are written once under
``<data home>/derived/cerberus4/<root hash>/`` (``prepare()`` or on first use); delete that folder
after changing the Slakh copy in place.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadInputError, MissingDataError
from ..io_utils import atomic_write_json, canonical_json, sha256_bytes
from ..midi import read_midi
from ..paths import data_home
from ..types import Item, Notes
from . import register_dataset
from .base import Manifest
from .download import Archive
from .readers import check_audio_file, load_yaml_file
from .real import RealDataset, RealVerifyReport, resplit_manifest

STEM_KEYS = ("program_num", "is_drum")
#: MT3's program of each Slakh instrument class (mt3/preprocessors.py, _SLAKH_CLASS_PROGRAMS, lines 422-456);
#: drums are program 0 with the drum flag (slakh_class_to_program_and_is_drum, lines 460-467)
SLAKH_CLASS_PROGRAMS = {
    "Acoustic Piano": 0, "Electric Piano": 4, "Chromatic Percussion": 8, "Organ": 16,
    "Acoustic Guitar": 24, "Clean Electric Guitar": 26, "Distorted Electric Guitar": 29,
    "Acoustic Bass": 32, "Electric Bass": 33, "Violin": 40, "Viola": 41, "Cello": 42, "Contrabass": 43,
    "Orchestral Harp": 46, "Timpani": 47, "String Ensemble": 48, "Synth Strings": 50,
    "Choir and Voice": 52, "Orchestral Hit": 55, "Trumpet": 56, "Trombone": 57, "Tuba": 58,
    "French Horn": 60, "Brass Section": 61, "Soprano/Alto Sax": 64, "Tenor Sax": 66,
    "Baritone Sax": 67, "Oboe": 68, "English Horn": 69, "Bassoon": 70, "Clarinet": 71, "Pipe": 73,
    "Synth Lead": 80, "Synth Pad": 88,
}
PROGRAM_MAPS = ("slakh_class", "raw")


def slakh_class_program(stem: dict[str, Any]) -> tuple[int, bool]:
    """``(program, approximated)`` of a non-drum stem under MT3's Slakh class convention.

    The stem's ``slakh_class`` (or an ``inst_class`` that is a Slakh class name) gives the
    program exactly; otherwise the class is approximated from ``program_num`` (see the module
    docstring) and ``approximated`` is True.
    """
    for key in ("slakh_class", "inst_class"):
        name = stem.get(key)
        if isinstance(name, str) and name in SLAKH_CLASS_PROGRAMS:
            return SLAKH_CLASS_PROGRAMS[name], False
    program = int(stem["program_num"])
    family = [p for p in SLAKH_CLASS_PROGRAMS.values() if p // 8 == program // 8 and p <= program]
    return (max(family) if family else program), True
CERBERUS_CLASSES = {"piano": range(0, 8), "guitar": range(24, 32), "bass": range(32, 40)}
CERBERUS_PROGRAMS = {"piano": 0, "guitar": 24, "bass": 32}
CERBERUS_RULE = ("cerberus4-v1: tracks with >=1 rendered+saved stem of piano 0-7, guitar 24-31, bass 32-39 "
                 "and drums; mix = sum of those stems (scaled to peak 0.999 if it clips); programs 0/24/32 + drums")

SLAKH_CITATION = """@inproceedings{manilow2019cutting,
  title={Cutting Music Source Separation Some {Slakh}: A Dataset to Study the Impact of Training Data Quality
         and Quantity},
  author={Manilow, Ethan and Wichern, Gordon and Seetharaman, Prem and Le Roux, Jonathan},
  booktitle={Proc. IEEE Workshop on Applications of Signal Processing to Audio and Acoustics (WASPAA)},
  year={2019}
}"""


def read_slakh_metadata(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The ``stems`` mapping of a Slakh ``metadata.yaml``, checked."""
    data = load_yaml_file(path, what="Slakh metadata file")
    if not isinstance(data, dict) or not isinstance(data.get("stems"), dict):
        raise BadInputError(f"{path}: not a Slakh metadata file (no 'stems' mapping)")
    stems = {}
    for stem_id, stem in sorted(data["stems"].items()):
        if not isinstance(stem, dict):
            raise BadInputError(f"{path}: stem {stem_id} is not a mapping")
        for key in STEM_KEYS:
            if key not in stem:
                raise BadInputError(f"{path}: stem {stem_id} lacks {key!r}")
        program = stem["program_num"]
        if not isinstance(program, int) or not 0 <= program <= 128:
            raise BadInputError(f"{path}: stem {stem_id} has program_num {program!r} (expected 0-128)")
        stems[str(stem_id)] = {"program_num": program, "is_drum": bool(stem["is_drum"]),
                               "audio_rendered": bool(stem.get("audio_rendered", True)),
                               "midi_saved": bool(stem.get("midi_saved", True)),
                               "inst_class": str(stem.get("inst_class", "")),
                               "slakh_class": str(stem.get("slakh_class", ""))}
    return stems


def _audible(stem: dict[str, Any]) -> bool:
    return stem["audio_rendered"] and stem["midi_saved"]


@register_dataset
class Slakh2100(RealDataset):
    """Slakh2100-redux: synthesized multi-instrument mixes with stem MIDI."""

    name = "slakh2100"
    title = "Slakh2100 (redux)"
    citation = SLAKH_CITATION
    license = "CC BY 4.0"
    homepage = "http://www.slakh.com/"
    splits: tuple[str, ...] = ("train", "validation", "test", "omitted")
    manifest_file = "slakh2100.json"
    layout_hint = "register the unpacked slakh2100_flac_redux/ folder (train/ validation/ test/ omitted/)"
    archives: ClassVar[tuple[Archive, ...]] = (  # Zenodo record 4599666; md5 as in mirdata's loader
        Archive("all", "https://zenodo.org/record/4599666/files/slakh2100_flac_redux.tar.gz?download=1",
                "slakh2100_flac_redux.tar.gz", md5="f4b71b6c45ac9b506f59788456b3f0c4", strip="slakh2100_flac_redux"),
    )
    default_params: ClassVar[dict[str, Any]] = {"midi_source": "stems", "split_scheme": "redux",
                                                "programs": "slakh_class", "sustain_pedal": True}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"midi_source": ("stems", "all_src"),
                                                           "split_scheme": ("redux", "orig"),
                                                           "programs": PROGRAM_MAPS,
                                                           "sustain_pedal": (True, False)}

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if self.params["split_scheme"] == "orig":
            self.splits = ("train", "validation", "test")

    def adjust_manifest(self, manifest: Manifest) -> Manifest:
        if self.params["split_scheme"] == "orig":
            return resplit_manifest(manifest, scheme="orig", key="orig_split")
        return manifest

    def check_layout(self) -> None:
        super().check_layout()
        root = self.root
        if not any((root / s).is_dir() for s in ("train", "validation", "test", "omitted")):
            raise MissingDataError(f"{root}: not a {self.title} copy (no train/, validation/, test/ or omitted/ "
                                   f"folder); {self.layout_hint}")

    # ---- per-track reading ---------------------------------------------------------------
    def track_dir(self, track: str) -> Path:
        entry = self.manifest().items[track]
        return self.root / Path(entry["files"]["metadata"]["path"]).parent

    def stems(self, track: str) -> dict[str, dict[str, Any]]:
        return read_slakh_metadata(self.track_dir(track) / "metadata.yaml")

    def derived_files(self, split: str | None) -> dict[str, dict[str, Any]]:
        """Stem audio and stem MIDI named by each track's metadata.yaml (when it is there)."""
        out: dict[str, dict[str, Any]] = {}
        manifest = self.manifest()
        for track in (manifest.ids(split) if split else sorted(manifest.items)):
            meta_rel = manifest.items[track]["files"]["metadata"]["path"]
            if not (self.root / meta_rel).is_file():
                continue
            folder = str(Path(meta_rel).parent)
            for stem_id, stem in self.stems(track).items():
                if stem["audio_rendered"]:
                    out[f"{folder}/stems/{stem_id}.flac"] = {"path": f"{folder}/stems/{stem_id}.flac"}
                if stem["midi_saved"]:
                    out[f"{folder}/MIDI/{stem_id}.mid"] = {"path": f"{folder}/MIDI/{stem_id}.mid"}
        return out

    def stem_program(self, stem: dict[str, Any]) -> tuple[int, bool]:
        """``(program, approximated)`` of a stem under the ``programs`` parameter (drums: 0)."""
        if stem["is_drum"]:
            return 0, False
        if self.params.get("programs", "slakh_class") == "raw":
            return int(stem["program_num"]), False
        return slakh_class_program(stem)

    def _metadata(self, track: str) -> dict[str, Any]:
        stems = self.stems(track)
        audible = {k: v for k, v in stems.items() if _audible(v)}
        mapped = [self.stem_program(s) for s in audible.values()]
        return {"programs": [p for p, _ in mapped], "raw_programs": [s["program_num"] for s in audible.values()],
                "program_map": self.params.get("programs", "slakh_class"),
                "programs_approximated": int(sum(a for _, a in mapped)),
                "is_drum": [s["is_drum"] for s in audible.values()],
                "inst_classes": [s["inst_class"] for s in audible.values()],
                "stems": list(audible)}

    def items(self, split: str) -> list[Item]:
        items = self.manifest_items(split, audio_role="mix")
        return [Item(id=i.id, dataset=i.dataset, audio_path=i.audio_path, files=i.files,
                     metadata={**i.metadata, **self._metadata(i.id)}) for i in items]

    def _stem_notes(self, folder: Path, stem_id: str, stem: dict[str, Any], *, program: int | None = None) -> Notes:
        # MT3 applies each stem's own sustain pedal before pooling the stems
        notes = read_midi(folder / "MIDI" / f"{stem_id}.mid", sustain_pedal=bool(self.params["sustain_pedal"]))
        n = len(notes)
        drum = stem["is_drum"]
        prog = 0 if drum else (self.stem_program(stem)[0] if program is None else program)
        return Notes(notes.intervals, notes.pitches, notes.velocities, np.full(n, prog, np.int64), np.full(n, drum))

    def load_notes(self, item: Item) -> Notes:
        if item.audio_path is not None:
            check_audio_file(item.audio_path)
        if self.params["midi_source"] == "all_src":
            midi = Path(item.files["midi"])
            return read_midi(midi, sustain_pedal=bool(self.params["sustain_pedal"])).validate(name=str(midi))
        folder = self.track_dir(item.id)
        parts = [self._stem_notes(folder, sid, stem) for sid, stem in self.stems(item.id).items() if _audible(stem)]
        return Notes.concatenate(parts).sorted().validate(name=str(folder / "MIDI"))


def cerberus_class(stem: dict[str, Any]) -> str | None:
    if stem["is_drum"]:
        return "drums"
    for cls, programs in CERBERUS_CLASSES.items():
        if stem["program_num"] in programs:
            return cls
    return None


@register_dataset
class Cerberus4(Slakh2100):
    """MT3's Cerberus4: Slakh tracks with piano, guitar, bass and drums, mixed from those stems."""

    name = "cerberus4"
    title = "Cerberus4 (Slakh2100-redux subset)"
    citation = SLAKH_CITATION + """
@inproceedings{manilow2020simultaneous,
  title={Simultaneous Separation and Transcription of Mixtures with Multiple Polyphonic and Percussive
         Instruments},
  author={Manilow, Ethan and Seetharaman, Prem and Pardo, Bryan},
  booktitle={Proc. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP)},
  year={2020}
}
@inproceedings{gardner2022mt3,
  title={{MT3}: Multi-Task Multitrack Music Transcription},
  author={Gardner, Josh and Simon, Ian and Manilow, Ethan and Hawthorne, Curtis and Engel, Jesse},
  booktitle={International Conference on Learning Representations (ICLR)},
  year={2022}
}"""
    splits: tuple[str, ...] = ("train", "validation", "test")
    #: MT3's CERBERUS4_CONFIG.track_specs (mt3/datasets.py lines 267-272): (name, program, is_drum),
    #: scored one by one as ``track_<name>_*`` (musebench.metrics.transcription.track_scores)
    track_specs: ClassVar[tuple[tuple[str, int, bool], ...]] = (
        ("bass", 32, False), ("drums", 0, True), ("guitar", 24, False), ("piano", 0, False))
    #: programs are MT3's Cerberus4 track specs (0/24/32 + drums) whatever ``programs`` would say
    default_params: ClassVar[dict[str, Any]] = {"split_scheme": "redux", "sustain_pedal": True}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"split_scheme": ("redux", "orig"),
                                                           "sustain_pedal": (True, False)}

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.params["midi_source"] = "stems"
        self.splits = ("train", "validation", "test")
        self._member_cache: dict[str, list[str]] = {}

    @property
    def root(self) -> Path:
        """Explicit root, else ``$MUSEBENCH_CERBERUS4_ROOT`` or a root registered for cerberus4,
        else wherever slakh2100 is."""
        if self._root is not None:
            return self._root
        from .base import _registered_roots

        env = os.environ.get("MUSEBENCH_CERBERUS4_ROOT")
        if env:
            return Path(env).expanduser()
        if _registered_roots().get(self.name):
            return Path(_registered_roots()[self.name])
        return Slakh2100(manifest=self._manifest_override).root

    def manifest_path(self) -> Path:
        if self._manifest_override is not None:
            return self._manifest_override
        from ..paths import package_data

        return package_data("manifests", "slakh2100.json")

    def adjust_manifest(self, manifest: Manifest) -> Manifest:
        """Slakh's manifest without the omitted tracks (membership itself needs the local copy)."""
        manifest = super().adjust_manifest(manifest)
        items = {i: e for i, e in manifest.items.items() if e["split"] in self.splits}
        return Manifest(dataset=manifest.dataset, version=manifest.version, items=items, extra=dict(manifest.extra))

    def selected_stems(self, track: str) -> dict[str, tuple[str, dict[str, Any]]]:
        """stem id -> (class, stem) for the stems that go into the Cerberus4 mix."""
        out = {}
        for sid, stem in self.stems(track).items():
            cls = cerberus_class(stem)
            if cls is not None and _audible(stem):
                out[sid] = (cls, stem)
        return out

    def members(self, split: str) -> list[str]:
        """Track ids of ``split`` that qualify (read from the local metadata.yaml files)."""
        self.check_split(split)
        if split not in self._member_cache:
            self.check_layout()
            cache_path = self._cache_dir() / "members.json"
            try:
                cache = json.loads(cache_path.read_text())
            except (OSError, json.JSONDecodeError):
                cache = {}
            keep, changed = [], False
            for track in self.manifest().ids(split):
                meta = self.track_dir(track) / "metadata.yaml"
                try:
                    st = meta.stat()
                    key = [st.st_size, st.st_mtime_ns]
                except OSError:
                    key = None
                hit = cache.get(track)
                if key is not None and hit is not None and hit[:2] == key:
                    qualifies = bool(hit[2])
                else:
                    classes = {cls for cls, _ in self.selected_stems(track).values()}
                    qualifies = classes == {"piano", "guitar", "bass", "drums"}
                    cache[track] = [*key, qualifies] if key is not None else [None, None, qualifies]
                    changed = True
                if qualifies:
                    keep.append(track)
            if changed:
                try:
                    atomic_write_json(cache_path, cache, indent=None)
                except OSError:
                    pass
            self._member_cache[split] = keep
        return self._member_cache[split]

    def _cache_dir(self) -> Path:
        root_key = sha256_bytes(self._root_key().encode())[:12]
        return data_home() / "derived" / "cerberus4" / root_key / self.manifest().version

    def split_sizes(self) -> dict[str, int]:
        """Sizes need the local metadata.yaml files; {} when no Slakh copy is there."""
        try:
            return {s: len(self.members(s)) for s in self.splits}
        except (MissingDataError, BadInputError):
            return {}

    def split_fingerprint(self, split: str) -> str:
        base = super().split_fingerprint(split)
        return sha256_bytes(canonical_json({"slakh2100": base, "rule": CERBERUS_RULE,
                                            "ids": self.members(split)}).encode())

    def expected_files(self, split: str | None = None) -> dict[str, dict[str, Any]]:
        """The metadata, stem audio and stem MIDI of the member tracks ({} without a Slakh copy)."""
        out: dict[str, dict[str, Any]] = {}
        manifest = self.manifest()
        try:
            self.check_layout()
        except MissingDataError:
            return out
        for s in ([split] if split else list(self.splits)):
            for track in self.members(s):
                folder = str(Path(manifest.items[track]["files"]["metadata"]["path"]).parent)
                out[f"{folder}/metadata.yaml"] = {"path": f"{folder}/metadata.yaml"}
                for sid in self.selected_stems(track):
                    for rel in (f"{folder}/stems/{sid}.flac", f"{folder}/MIDI/{sid}.mid"):
                        out[rel] = {"path": rel}
        return out

    def verify(self, *, split: str | None = None, progress: bool = False, check_extra: bool = True):
        # the copy is Slakh's: files outside the subset are not "extra"
        return super().verify(split=split, progress=progress, check_extra=False)

    def mix_path(self, split: str, track: str) -> Path:
        return self._cache_dir() / split / f"{track}.flac"

    def _write_mix(self, track: str, path: Path) -> None:
        import soundfile as sf

        from ..audio import write_audio

        folder = self.track_dir(track)
        total: np.ndarray | None = None
        rate = None
        for sid in self.selected_stems(track):
            stem_path = folder / "stems" / f"{sid}.flac"
            check_audio_file(stem_path)
            audio, sr = sf.read(str(stem_path), dtype="float64", always_2d=True)
            audio = audio.mean(axis=1)
            if rate is None:
                rate = sr
            elif sr != rate:
                raise BadInputError(f"{stem_path}: sample rate {sr} Hz differs from the other stems' {rate} Hz")
            if total is None:
                total = audio
            else:
                n = max(len(total), len(audio))
                total = np.pad(total, (0, n - len(total))) + np.pad(audio, (0, n - len(audio)))
        assert total is not None and rate is not None
        peak = float(np.max(np.abs(total))) if total.size else 0.0
        if peak > 0.999:
            total = total * (0.999 / peak)
        write_audio(path, total.astype(np.float32), rate, subtype="PCM_24")

    def write_mixes(self, *, split: str | None = None, progress: bool = False, force: bool = False) -> int:
        """Write the Cerberus4 mixes that are missing (all with ``force``); return how many."""
        from tqdm.auto import tqdm

        written = 0
        for s in ([split] if split else list(self.splits)):
            for track in tqdm(self.members(s), desc=f"cerberus4 {s} mixes", disable=not progress):
                path = self.mix_path(s, track)
                if force or not path.is_file():
                    self._write_mix(track, path)
                    written += 1
        return written

    def prepare(self, *, root: str | os.PathLike | None = None, progress: bool = False, force: bool = False,
                split: str | None = None) -> RealVerifyReport:
        """``musebench datasets prepare cerberus4``: verify the Slakh files of the subset, then
        write its mixes. Returns the verification report."""
        if root:
            self._root = Path(root).expanduser()
            self._member_cache.clear()
        report = self.verify(split=split, progress=progress)
        if report.ok:
            self.write_mixes(split=split, progress=progress, force=force)
        else:
            raise BadInputError(f"{self.root}: the Slakh files of Cerberus4 failed verification "
                                f"({report.lines()[0]}); run `musebench datasets verify cerberus4` for the list")
        return report

    def items(self, split: str) -> list[Item]:
        members = self.members(split)
        self.write_mixes(split=split)
        out = []
        for track in members:
            folder = self.track_dir(track)
            selected = self.selected_stems(track)
            files = {"metadata": folder / "metadata.yaml",
                     **{f"midi_{sid}": folder / "MIDI" / f"{sid}.mid" for sid in selected}}
            out.append(Item(id=track, dataset=self.name, audio_path=self.mix_path(split, track), files=files,
                            metadata={"split": split, "stems": list(selected),
                                      "classes": [cls for cls, _ in selected.values()],
                                      "orig_split": self.manifest().items[track]["metadata"]["orig_split"]}))
        return out

    def load_notes(self, item: Item) -> Notes:
        folder = self.track_dir(item.id)
        parts = []
        for sid, (cls, stem) in self.selected_stems(item.id).items():
            parts.append(self._stem_notes(folder, sid, stem, program=CERBERUS_PROGRAMS.get(cls, 0)))
        return Notes.concatenate(parts).sorted().validate(name=str(folder / "MIDI"))


# ---- the manifest builder (scripts/make_real_manifests.py --slakh-redux) --------------------
MANIFEST_INPUT = ("--slakh-redux", "splits/redux.json of github.com/ethman/slakh-utils")


def build_manifest(redux_path: Path) -> dict[str, Any]:
    """The shipped manifest, from slakh-utils' ``splits/redux.json`` (one action per track)."""
    actions = json.loads(redux_path.read_text())
    items = {}
    for track, action in sorted(actions.items()):
        number = int(track[len("Track"):])
        orig = "train" if number <= 1500 else ("validation" if number <= 1875 else "test")
        if action["action"] is None:
            split = orig
        elif action["action"] == "omit":
            assert action["source_split"] == orig, track
            split = "omitted"
        else:
            raise ValueError(f"{track}: unexpected action {action}")
        items[track] = {
            "split": split,
            "files": {"mix": {"path": f"{split}/{track}/mix.flac"},
                      "midi": {"path": f"{split}/{track}/all_src.mid"},
                      "metadata": {"path": f"{split}/{track}/metadata.yaml"}},
            "metadata": {"orig_split": orig},
        }
    assert Counter(e["split"] for e in items.values()) == {"train": 1289, "validation": 270, "test": 151,
                                                           "omitted": 390}
    return {
        "dataset": "slakh2100", "version": "2100-redux", "items": items,
        "split_source": "Slakh2100-redux: github.com/ethman/slakh-utils splits/redux.json "
                        "(1289/270/151, 390 omitted duplicates); the original Slakh2100 split "
                        "(1500/375/225 by track number) is kept per item as metadata.orig_split",
        "sources": ["github.com/ethman/slakh-utils@3f62d6a4b0e5952237dd5178ac3513e42161ec0a:splits/redux.json",
                    "github.com/ethman/slakh-utils:splits/resplit_slakh.py (original split by track number)",
                    "github.com/ethman/slakh-utils:splits/README.md (counts)"],
    }
