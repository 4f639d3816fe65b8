"""A user's own dataset: a folder of audio files (each with a MIDI file of the same stem).

``musebench datasets add NAME DIR`` scans DIR (:func:`scan_folder`), freezes what it found in a
split manifest written to the user's MuseBench config folder (ids, relative paths, sha256 and
size of every file, durations, programs and drum flags read from the MIDI), registers NAME and
writes a task NAME (:func:`task_yaml`). From then on NAME is a dataset like the shipped ones:
:class:`OwnDataset` is a :class:`~musebench.datasets.real.RealDataset`, so verification, the
verified stamp and the fingerprint (split manifest + parameters + data digest) work as they do
for MAESTRO.

Layout of DIR::

    x.wav + x.mid (or x.midi)            audio: any suffix of AUDIO_SUFFIXES
    sub/folder/y.flac + sub/folder/y.mid pairs may sit in subfolders (id sub--folder--y)
    train/..., validation/..., test/...  top-level folders with these names give the split
    *.csv with a ``split`` column        or a CSV (MAESTRO style) whose other column names the
                                         audio or MIDI file (relative path, or the stem)

With neither, every item is in ``test``. ``--family generation`` takes audio alone (no MIDI):
the folder becomes a reference set for the generation metrics.

Problems are one line each (:class:`Problem`): audio without MIDI, MIDI without audio, unreadable
files, two files for one stem. :func:`scan_folder` collects them; ``strict`` makes the first one
fatal.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BadInputError, ConfigError, MissingDataError, MuseBenchError
from ..io_utils import atomic_write_json, sha256_file
from ..paths import config_file
from ..types import Item, Notes
from . import DATASETS
from .base import Manifest
from .readers import check_audio_file, safe_id
from .real import RealDataset

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".m4a")
MIDI_SUFFIXES = (".mid", ".midi")
SPLITS = ("train", "validation", "test")
FAMILIES = ("transcription", "generation")
#: CSV columns that may name an item's file (first match wins)
CSV_FILE_COLUMNS = ("audio_filename", "midi_filename", "audio", "midi", "filename", "file", "path", "stem", "id")
MANIFEST_VERSION = "own-1"


@dataclass(frozen=True)
class Problem:
    """One thing in the folder that is not a usable item."""

    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


@dataclass
class ScanResult:
    """What :func:`scan_folder` found: the manifest items and the problems it skipped."""

    root: Path
    family: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    split_source: str = "none: every item is in test"

    def split_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for entry in self.items.values():
            sizes[entry["split"]] = sizes.get(entry["split"], 0) + 1
        return {s: sizes[s] for s in SPLITS if s in sizes}

    @property
    def multi_instrument(self) -> bool:
        """True when the MIDI has more than one program, or drums (multi-instrument metrics apply)."""
        programs: set[int] = set()
        for entry in self.items.values():
            meta = entry["metadata"]
            if meta.get("has_drums"):
                return True
            programs.update(meta.get("programs", []))
        return len(programs) > 1


# --------------------------------------------------------------------------------------
# scanning
# --------------------------------------------------------------------------------------
def _stem(rel: str) -> str:
    return os.path.splitext(rel)[0]


def item_id(stem: str) -> str:
    """The item id of a relative stem: folders joined by ``--``, other characters outside
    ``[A-Za-z0-9._-]`` replaced (ids name files in run directories, so they hold no ``/``)."""
    return "--".join(safe_id(part) for part in stem.split("/"))


def _walk(root: Path) -> list[str]:
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                out.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return out


def _csv_splits(root: Path, csv_files: list[str]) -> tuple[dict[str, str], str] | None:
    """stem -> split from the first top-level CSV with a ``split`` column, or None."""
    for rel in csv_files:
        if "/" in rel:
            continue
        path = root / rel
        try:
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                header = [h.strip() for h in (reader.fieldnames or [])]
                if "split" not in header:
                    continue
                column = next((c for c in CSV_FILE_COLUMNS if c in header), None)
                if column is None:
                    raise BadInputError(f"{path}: has a split column but no column naming the files "
                                        f"(one of {', '.join(CSV_FILE_COLUMNS)})")
                out: dict[str, str] = {}
                for row in reader:
                    row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                    split = row.get("split", "")
                    name = row.get(column, "")
                    if not name:
                        continue
                    split = {"valid": "validation", "val": "validation"}.get(split, split)
                    if split not in SPLITS:
                        raise BadInputError(f"{path}: line {reader.line_num}: split {row.get('split')!r} is not one "
                                            f"of {', '.join(SPLITS)}")
                    out[_stem(name.replace(os.sep, "/"))] = split
        except UnicodeDecodeError:
            raise BadInputError(f"{path}: not UTF-8 text") from None
        except csv.Error as exc:
            raise BadInputError(f"{path}: not valid CSV ({exc})") from None
        return out, f"csv: {rel} (column split, files named by {column})"
    return None


def _midi_metadata(path: Path) -> dict[str, Any]:
    from ..midi import read_midi

    notes = read_midi(path)
    if len(notes) == 0:
        raise BadInputError(f"{path}: MIDI file has no notes")
    pitched = notes.programs[~notes.is_drum]
    return {"programs": sorted({int(p) for p in pitched}), "has_drums": bool(notes.is_drum.any()),
            "n_notes": int(len(notes)), "midi_end": round(float(notes.intervals[:, 1].max()), 6)}


def _file_spec(root: Path, rel: str) -> dict[str, Any]:
    path = root / rel
    return {"path": rel, "sha256": sha256_file(path), "size": path.stat().st_size}


def scan_folder(root: str | os.PathLike, *, family: str = "transcription", strict: bool = False,
                progress: bool = False) -> ScanResult:
    """Pair the audio and MIDI files under ``root`` and read what the manifest records.

    Parameters
    ----------
    root : path-like
        The user's folder.
    family : {"transcription", "generation"}
        ``transcription`` pairs each audio file with a MIDI file of the same stem;
        ``generation`` takes audio alone (MIDI files are ignored).
    strict : bool
        Raise :class:`BadInputError` on the first problem instead of skipping the item.
    progress : bool
        Show a progress bar while hashing and reading files.

    Returns
    -------
    ScanResult
        ``items`` maps id (:func:`item_id` of the relative stem) to a manifest entry.
    """
    from tqdm.auto import tqdm

    from ..audio import audio_info

    if family not in FAMILIES:
        raise ConfigError(f"--family must be one of {', '.join(FAMILIES)}, not {family!r}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise MissingDataError(f"{root}: no such folder")
    result = ScanResult(root=root.resolve(), family=family)
    files = _walk(root)
    audio: dict[str, list[str]] = {}
    midi: dict[str, list[str]] = {}
    for rel in files:
        suffix = os.path.splitext(rel)[1].lower()
        if suffix in AUDIO_SUFFIXES:
            audio.setdefault(_stem(rel), []).append(rel)
        elif suffix in MIDI_SUFFIXES:
            midi.setdefault(_stem(rel), []).append(rel)

    def problem(path: str, what: str) -> None:
        p = Problem(str(root / path), what)
        if strict:
            raise BadInputError(str(p) + " (--strict)")
        result.problems.append(p)

    csv_split = _csv_splits(root, [f for f in files if f.lower().endswith(".csv")])
    top_folders = {rel.split("/", 1)[0] for rel in files if "/" in rel}
    if csv_split is not None:
        by_stem, result.split_source = csv_split
    elif top_folders & set(SPLITS):
        by_stem = None
        result.split_source = "folders: " + ", ".join(s for s in SPLITS if s in top_folders)
    else:
        by_stem = None

    def split_of(stem: str) -> str | None:
        if csv_split is not None:
            assert by_stem is not None
            if stem in by_stem:
                return by_stem[stem]
            base = stem.rsplit("/", 1)[-1]
            return by_stem.get(base)
        if top_folders & set(SPLITS):
            head = stem.split("/", 1)[0]
            return head if head in SPLITS else None
        return "test"

    needs_midi = family == "transcription"
    if needs_midi:
        for stem in sorted(set(midi) - set(audio)):
            for rel in midi[stem]:
                problem(rel, "MIDI file without audio (no audio file of the same stem)")
    candidates = sorted(audio)
    for stem in tqdm(candidates, desc=f"scan {root.name}", unit="item", disable=not progress):
        if len(audio[stem]) > 1:
            problem(audio[stem][0], f"duplicate stem: {', '.join(audio[stem])} are audio files of one item")
            continue
        if needs_midi:
            if stem not in midi:
                problem(audio[stem][0], "audio without MIDI (expected " + ", ".join(
                    os.path.basename(stem) + s for s in MIDI_SUFFIXES) + ")")
                continue
            if len(midi[stem]) > 1:
                problem(midi[stem][0], f"duplicate stem: {', '.join(midi[stem])} are MIDI files of one item")
                continue
        split = split_of(stem)
        if split is None:
            where = "the CSV" if csv_split is not None else "a train/validation/test folder"
            problem(audio[stem][0], f"not in {where}; skipped")
            continue
        audio_rel = audio[stem][0]
        try:
            sr, channels, duration = audio_info(root / audio_rel)
            if duration <= 0:
                raise BadInputError(f"{root / audio_rel}: audio file is empty")
        except MuseBenchError as exc:
            problem(audio_rel, "unreadable audio (" + str(exc).split(": ", 1)[-1] + ")")
            continue
        entry_files = {"audio": _file_spec(root, audio_rel)}
        metadata: dict[str, Any] = {"duration": round(duration, 6), "sample_rate": sr, "channels": channels}
        if needs_midi:
            midi_rel = midi[stem][0]
            try:
                metadata.update(_midi_metadata(root / midi_rel))
            except MuseBenchError as exc:
                problem(midi_rel, "unreadable MIDI (" + str(exc).split(": ", 1)[-1] + ")")
                continue
            entry_files["midi"] = _file_spec(root, midi_rel)
        iid = item_id(stem)
        if iid in result.items:
            problem(audio_rel, f"its item id {iid!r} is also the id of {result.items[iid]['files']['audio']['path']}"
                               " (rename one of them)")
            continue
        result.items[iid] = {"split": split, "files": entry_files, "metadata": metadata}
    if not result.items:
        raise BadInputError(f"{root}: no usable items found" + (
            f" ({len(result.problems)} problem(s), first: {result.problems[0]})" if result.problems else
            f" (no audio files: {', '.join(AUDIO_SUFFIXES)})"))
    return result


# --------------------------------------------------------------------------------------
# the registry of own datasets (in the user's config folder)
# --------------------------------------------------------------------------------------
def own_home() -> Path:
    """Where own datasets' manifests and tasks live: beside the user config file."""
    return config_file().parent


def own_entries() -> dict[str, dict[str, Any]]:
    """name -> ``{"root", "manifest", "family", "task"}`` of every dataset added with ``datasets add``."""
    path = config_file()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise ConfigError(f"{path}: dataset config is not valid JSON") from None
    own = data.get("own", {}) if isinstance(data, dict) else {}
    return own if isinstance(own, dict) else {}


def record_own(name: str, entry: dict[str, Any]) -> Path:
    """Record an own dataset (and its root) in the user config file."""
    path = config_file()
    config: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    config.setdefault("own", {})[name] = entry
    config.setdefault("datasets", {})[name] = entry["root"]
    atomic_write_json(path, config)
    return path


def own_dataset_class(name: str, entry: dict[str, Any]) -> type[OwnDataset]:
    """A :class:`OwnDataset` subclass bound to one added dataset (what the registry returns)."""
    title = f"{name} (own data from {entry['root']})"
    return type(f"Own_{name.replace('-', '_')}", (OwnDataset,), {
        "name": name, "title": title, "own_manifest": entry["manifest"], "family": entry.get("family", "transcription"),
        "splits": tuple(s for s in SPLITS if s in entry.get("splits", SPLITS)),
        "homepage": "", "license": "(your own data)", "citation": ""})


def registry_source() -> dict[str, Any]:
    """Entries for :data:`musebench.datasets.DATASETS` (read anew on every lookup)."""
    return {name: own_dataset_class(name, entry) for name, entry in own_entries().items()}


DATASETS.add_source(registry_source)  # read anew on every lookup


# --------------------------------------------------------------------------------------
# the dataset
# --------------------------------------------------------------------------------------
class OwnDataset(RealDataset):
    """A dataset added with ``musebench datasets add`` (see the module docstring).

    Parameters: ``sustain_pedal`` (extend reference offsets while CC64 is held; default False).
    """

    own_manifest: ClassVar[str] = ""
    family: ClassVar[str] = "transcription"
    splits = SPLITS
    default_params: ClassVar[dict[str, Any]] = {"sustain_pedal": False}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"sustain_pedal": (False, True)}

    def __reduce__(self):
        # the class is made at run time (one per added dataset): rebuild it by name in other processes
        params = {k: v for k, v in self.params.items()}
        return (_rebuild, (self.name, str(self._root) if self._root else None,
                           str(self._manifest_override) if self._manifest_override else None, params))

    def manifest_path(self) -> Path:
        if self._manifest_override is not None:
            return self._manifest_override
        return Path(self.own_manifest)

    def check_layout(self) -> None:
        if not self.root.is_dir():
            raise MissingDataError(f"{self.root}: folder of dataset {self.name!r} not found (moved or deleted?); "
                                   f"add it again with `musebench datasets add {self.name} DIR --update`")

    def is_annex_file(self, rel: str) -> bool:
        suffix = os.path.splitext(rel)[1].lower()
        return suffix not in AUDIO_SUFFIXES + MIDI_SUFFIXES or super().is_annex_file(rel)

    def items(self, split: str) -> list[Item]:
        return self.manifest_items(split, audio_role="audio")

    def record_verified(self, split: str, digests: dict[str, str]) -> None:
        """Write the verified stamp of ``split`` from sha256 digests just computed (by ``datasets
        add``), as :meth:`verify` would after re-hashing the same files."""
        rels = list(self.expected_files(split))
        stats = {}
        for rel in rels:
            st = (self.root / rel).stat()
            stats[rel] = [st.st_size, st.st_mtime_ns]
        self.write_verified_stamp(split, {rel: digests[rel] for rel in rels}, stats)

    def load_notes(self, item: Item) -> Notes:
        from ..midi import read_midi

        if "midi" not in item.files:
            raise BadInputError(f"dataset {self.name!r} is a generation reference set: item {item.id} has no MIDI")
        midi = Path(item.files["midi"])
        if item.audio_path is not None:
            check_audio_file(item.audio_path)
        notes = read_midi(midi, sustain_pedal=bool(self.params["sustain_pedal"]))
        if len(notes) == 0:
            raise BadInputError(f"{midi}: MIDI file has no notes")
        return notes.validate(name=str(midi))


def _rebuild(name: str, root: str | None, manifest: str | None, params: dict[str, Any]) -> OwnDataset:
    from . import get_dataset

    return get_dataset(name, root=root, manifest=manifest, **params)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# the task
# --------------------------------------------------------------------------------------
NOTE_METRICS = ("onset_f1", "onset_precision", "onset_recall", "onset_offset_f1", "onset_offset_precision",
                "onset_offset_recall", "onset_velocity_f1", "onset_offset_velocity_f1", "frame_f1")
MULTI_METRICS = ("multi_instrument_f1", "multi_instrument_f1_midi_class", "multi_instrument_f1_flat",
                 "drum_onset_f1")
GENERATION_METRICS = ("frechet_mfcc", "pitch_salience", "spectral_flatness", "silence_ratio", "clipping_ratio")


def _task_split(scan: ScanResult) -> str:
    sizes = scan.split_sizes()
    return "test" if "test" in sizes else next(iter(sizes))


def task_yaml(name: str, scan: ScanResult, *, fingerprint: str) -> str:
    """The text of task NAME for an added dataset (standard metrics; multi-instrument ones when
    the MIDI has several programs or drums)."""
    split = _task_split(scan)
    n = scan.split_sizes()[split]
    head = [f"# Task on your own dataset {name!r} ({scan.root}), written by `musebench datasets add`.",
            "# Edit freely; bump `version` whenever scoring or data selection changes, and say why below.",
            f"# v1: initial definition ({n} items in split {split}; data fingerprint {fingerprint[:12]}).",
            f"name: {name}", f"family: {scan.family}", "version: 1"]
    if scan.family == "generation":
        seconds = 4.0
        body = ["description: >",
                f"  Generated clips judged against your own music in {scan.root} ({n} files, cut into "
                f"consecutive {seconds:g} s clips): Frechet distance of MFCC statistics and per-clip descriptors.",
                f"dataset: {name}", f"split: {split}", "sample_rate: 16000", "primary_metric: frechet_mfcc",
                "metrics:", *[f"  - {m}" for m in GENERATION_METRICS],
                "params:", "  mode: unconditional", "  n_clips: 16", f"  seconds: {seconds}",
                "  train_split: null  # no training data: no memorization metrics",
                "  window_seconds: 1.0", "  hop_seconds: 0.25"]
        return "\n".join(head + body) + "\n"
    multi = scan.multi_instrument
    metrics = (MULTI_METRICS[:3] + NOTE_METRICS + MULTI_METRICS[3:]) if multi else NOTE_METRICS
    body = ["description: >",
            f"  Transcription of your own recordings in {scan.root} ({n} items, split {split}); note-level "
            "scores follow mir_eval with MT3's conventions" + ("; multi-instrument F1 is program-aware." if multi
                                                                else "."),
            f"dataset: {name}", "dataset_params:", "  sustain_pedal: false", f"split: {split}",
            "sample_rate: 16000", f"primary_metric: {metrics[0]}", "metrics:", *[f"  - {m}" for m in metrics],
            "params:", "  onset_tolerance: 0.05", "  pitch_tolerance: 50.0", "  offset_ratio: 0.2",
            "  offset_min_tolerance: 0.05"]
    return "\n".join(head + body) + "\n"


@dataclass
class AddResult:
    name: str
    scan: ScanResult
    manifest_path: Path
    task_path: Path
    fingerprints: dict[str, str]
    status: str  # "added", "updated" or "unchanged"


def add_dataset(name: str, folder: str | os.PathLike, *, family: str = "transcription", strict: bool = False,
                update: bool = False, task_yaml_path: str | os.PathLike | None = None,
                progress: bool = False) -> AddResult:
    """Scan ``folder``, freeze its manifest, register ``name`` and write its task.

    Refuses a name of a shipped dataset or task, and a changed folder (or another folder under
    the same name) unless ``update``. The files are hashed once; the split is recorded as
    verified from those hashes, so ``musebench run --task NAME`` works straight away.
    """
    import re

    from ..tasks import builtin_tasks, user_tasks_dir

    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise ConfigError(f"dataset name {name!r}: use lower-case letters, digits, '-', '_' or '.'")
    own = own_entries()
    if name not in own and name in DATASETS:
        raise ConfigError(f"dataset name {name!r} is taken by a shipped dataset; choose another name")
    if name in builtin_tasks():
        raise ConfigError(f"task name {name!r} is taken by a shipped task; choose another name")
    scan = scan_folder(folder, family=family, strict=strict, progress=progress)
    manifest = Manifest(dataset=name, version=MANIFEST_VERSION, items=scan.items,
                        extra={"split_source": scan.split_source, "family": family, "source_dir": str(scan.root)})
    home = own_home() / "datasets" / name
    manifest_path = home / "manifest.json"
    status = "added"
    if name in own:
        previous = own[name]
        try:
            old = Manifest.load(previous["manifest"])
        except MuseBenchError:
            old = None
        same = (old is not None and old.items == manifest.items and previous.get("root") == str(scan.root)
                and previous.get("family", "transcription") == family)
        if same and not update:
            status = "unchanged"
        elif not update:
            what = ("another folder" if previous.get("root") != str(scan.root) else
                    "the files changed since it was added" if old is not None else "its manifest is unreadable")
            raise ConfigError(f"dataset {name!r} already exists ({previous.get('root')}); {what}: pass --update to "
                              f"freeze the folder anew (a new fingerprint; old results stay as another data version)")
        else:
            status = "updated" if not same else "unchanged"
    if status != "unchanged":
        manifest.save(manifest_path)
    task_path = Path(task_yaml_path).expanduser() if task_yaml_path else user_tasks_dir() / f"{name}.yaml"
    entry = {"root": str(scan.root), "manifest": str(manifest_path), "family": family,
             "splits": list(scan.split_sizes()),
             "task": str(task_path) if not task_yaml_path else ""}
    record_own(name, entry)
    ds = own_dataset_class(name, entry)()
    fingerprints = {}
    for split in scan.split_sizes():
        ds.record_verified(split, {spec["path"]: spec["sha256"] for e in scan.items.values()
                                   if e["split"] == split for spec in e["files"].values()})
        fingerprints[split] = ds.fingerprint(split)
    text = task_yaml(name, scan, fingerprint=fingerprints[_task_split(scan)])
    from ..io_utils import atomic_write_text

    if task_yaml_path or status != "unchanged" or not task_path.is_file():
        atomic_write_text(task_path, text)
    from ..tasks import clear_task_cache

    clear_task_cache()
    return AddResult(name=name, scan=scan, manifest_path=manifest_path, task_path=task_path,
                     fingerprints=fingerprints, status=status)
