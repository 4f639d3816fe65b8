"""Shared machinery of the loaders of real datasets (MAESTRO, Slakh2100, GuitarSet, ...).

A real dataset lives in the user's local copy, in its official layout. What MuseBench ships is
the *split manifest* (``benchmark/data/manifests/<name>.json``): item ids, the relative paths
each item needs, published checksums where the dataset has them, and a description of where
the split came from. From it:

* :meth:`RealDataset.split_fingerprint` -- sha256 of the manifest entries of one split (ids,
  paths, published checksums; for derived splits, the derived id list). It names *the split*.
* :meth:`RealDataset.verify` -- hashes every file of the split in the local copy, reports
  missing, changed (against published checksums), truncated and extra files, and on success
  records a *verified stamp* (per root and split: the data digest, and each file's size and
  mtime) in the user's config folder, next to the registered roots.
* :meth:`RealDataset.fingerprint` -- sha256 of the split fingerprint, the dataset parameters
  (which audio, which reference: e.g. ``sustain_pedal``) and, once the split is verified, the
  data digest (sha256 of every file of the split): two runs share a fingerprint exactly when
  they were made on the same split of byte-identical data read the same way. Before
  verification the digest is absent (so the fingerprint differs) and
  :meth:`RealDataset.is_verified` is False: the runner then refuses to run unless
  ``--allow-unverified`` is given.

The helpers below (CSV/JSON/YAML readers, the audio truncation check, Hz -> MIDI) raise
one-line :class:`~musebench.errors.BadInputError` / :class:`~musebench.errors.MissingDataError`
messages that name the file (and line) and what is wrong.
"""
from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import BadInputError, ConfigError, MissingDataError
from ..io_utils import atomic_write_json, canonical_json, sha256_bytes
from ..paths import config_file, package_data
from ..types import Item, Notes
from .base import Dataset, Manifest, VerifyReport

# --------------------------------------------------------------------------------------
# small readers with one-line errors
# --------------------------------------------------------------------------------------


def read_csv_rows(path: str | os.PathLike, *, required: Iterable[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV file with a header line.

    Parameters
    ----------
    path : path-like
    required : iterable of str
        Columns that must be in the header.
    what : str
        What the file is ("MusicNet label file"), for error messages.

    Returns
    -------
    rows : list of (line number, row dict)
        Line numbers are 1-based file lines (the header is line 1).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: {what} not found")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise BadInputError(f"{path}: {what} is empty (no header line)")
            header = [h.strip() for h in header]
            missing = [c for c in required if c not in header]
            if missing:
                raise BadInputError(f"{path}: {what} lacks the column(s) {', '.join(missing)} "
                                    f"(header: {','.join(header)})")
            rows = []
            for values in reader:
                line = reader.line_num
                if not values or all(not v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    raise BadInputError(f"{path}: line {line}: expected {len(header)} fields, found {len(values)}")
                rows.append((line, dict(zip(header, values))))
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: {what} is not UTF-8 text") from None
    except csv.Error as exc:
        raise BadInputError(f"{path}: {what} is not valid CSV ({exc})") from None
    return rows


def parse_number(value: str, *, path: str | os.PathLike, line: int, column: str, integer: bool = False) -> float:
    """``float(value)`` (or ``int``) with a one-line error naming file, line and column."""
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        kind = "an integer" if integer else "a number"
        raise BadInputError(f"{path}: line {line}: {column} {value!r} is not {kind}") from None
    if not integer and not math.isfinite(number):
        raise BadInputError(f"{path}: line {line}: {column} {value!r} is not finite")
    return number


def load_yaml_file(path: str | os.PathLike, *, what: str) -> Any:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: {what} not found")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        raise BadInputError(f"{path}: {what} is not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: {what} is not UTF-8 text") from None


def hz_to_midi(hz: np.ndarray | float) -> np.ndarray:
    """Frequency in Hz -> (fractional) MIDI note number (A4 = 440 Hz = 69)."""
    return 69.0 + 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / 440.0)


def check_audio_file(path: str | os.PathLike) -> None:
    """Raise when an audio file is missing, unreadable or truncated.

    libsndfile silently reads a truncated WAV as a shorter one, so the RIFF ``data`` chunk's
    declared size is compared with the bytes present; for FLAC (and other formats) the last
    samples are decoded. Cheap: reads the header and the last block only.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: audio file not found")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        pos = 12
        while pos + 8 <= len(head):
            chunk, length = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
            if chunk == b"data":
                available = size - (pos + 8)
                if 0 < length < 0xFFFFFFFF and available < length:
                    raise BadInputError(f"{path}: truncated WAV file (header declares {length} bytes of "
                                        f"samples, the file holds {available})")
                break
            pos += 8 + length + (length % 2)
        else:
            raise BadInputError(f"{path}: truncated WAV file (no data chunk in the first {len(head)} bytes)")
    try:
        with sf.SoundFile(str(path)) as snd:
            frames = snd.frames
            if frames <= 0:
                raise BadInputError(f"{path}: audio file holds no samples")
            snd.seek(max(0, frames - 1024))
            tail = snd.read(1024)
            if len(tail) < min(1024, frames):
                raise BadInputError(f"{path}: truncated or corrupt audio file (its last samples cannot be read)")
    except BadInputError:
        raise
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInputError(f"{path}: truncated or corrupt audio file ({msg})") from None


def make_notes(*, onsets, offsets, pitches, velocities=None, programs=0, is_drum=False, name: str) -> Notes:
    """Build validated, canonically sorted :class:`Notes` (velocity 0 = unknown)."""
    onsets = np.asarray(onsets, dtype=np.float64)
    n = len(onsets)
    notes = Notes(
        intervals=np.stack([onsets, np.asarray(offsets, dtype=np.float64)], axis=1) if n else np.zeros((0, 2)),
        pitches=np.asarray(pitches, dtype=np.float64),
        velocities=np.zeros(n) if velocities is None else np.asarray(velocities, dtype=np.float64),
        programs=np.broadcast_to(np.asarray(programs, dtype=np.int64), (n,)),
        is_drum=np.broadcast_to(np.asarray(is_drum, dtype=bool), (n,)),
    )
    return notes.validate(name=name).sorted()


def _coerce(value: Any, default: Any) -> Any:
    """Parameters given as text on a command line take the type of their default."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    text = value.strip().lower()
    if isinstance(default, bool):
        return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(text, value)
    try:
        return int(text) if isinstance(default, int) else float(text)
    except ValueError:
        return value


def safe_id(text: str) -> str:
    """An item id made of ``[A-Za-z0-9._-]`` only ('#' becomes 's', anything else '_')."""
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in "._-"):
            out.append(ch)
        elif ch == "#":
            out.append("s")
        else:
            out.append("_")
    return "".join(out)


# --------------------------------------------------------------------------------------
# verification report and stamp
# --------------------------------------------------------------------------------------


@dataclass
class RealVerifyReport(VerifyReport):
    """:class:`VerifyReport` plus files that exist but are unusable (truncated audio, ...)."""

    problems: list[tuple[str, str]] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed and not self.problems

    def lines(self) -> list[str]:
        out = [f"{self.root / p}: missing" for p in self.missing]
        out += [f"{self.root / p}: checksum or size differs from the published one" for p in self.changed]
        out += [f"{self.root / p}: {why}" for p, why in self.problems]
        out += [f"{self.root / p}: extra file not in the manifest" for p in self.extra]
        return out


def stamp_file(name: str) -> Path:
    """Where verified stamps of dataset ``name`` are kept (beside the dataset config file)."""
    return config_file().parent / "verified" / f"{name}.json"


def _file_digests(rels: Iterable[str], digests: Mapping[str, str]) -> str:
    lines = sorted(f"{rel}\t{digests[rel]}" for rel in rels)
    return sha256_bytes("\n".join(lines).encode())


def hash_file(path: Path, *, md5: bool = False, chunk: int = 1 << 20) -> tuple[str, str | None]:
    """(sha256, md5 or None) of a file in one pass."""
    h = hashlib.sha256()
    m = hashlib.md5() if md5 else None
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
            if m is not None:
                m.update(block)
    return h.hexdigest(), (m.hexdigest() if m is not None else None)


# --------------------------------------------------------------------------------------
# the base class
# --------------------------------------------------------------------------------------


class RealDataset(Dataset):
    """Base of the datasets read from a user's local copy in the official layout.

    Subclasses set the :class:`Dataset` class attributes plus:

    ``default_params``
        Dataset parameters (from a task's ``dataset_params``) and their defaults; any other
        parameter is a :class:`ConfigError`. Every dataset also takes ``manifest`` (a path to
        a replacement split manifest: fixture copies and private subsets; it changes the
        fingerprint, so such runs never rank with runs on the shipped splits).
    ``param_choices``
        Allowed values of the parameters that are choices.
    ``required_files``
        Relative paths whose absence means the root is not this dataset.
    ``annex_patterns``
        fnmatch patterns of files that may sit in the copy without being "extra".
    """

    default_params: ClassVar[dict[str, Any]] = {}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {}
    required_files: ClassVar[tuple[str, ...]] = ()
    annex_patterns: ClassVar[tuple[str, ...]] = ("*README*", "*LICENSE*", "*.txt.orig")
    layout_hint: ClassVar[str] = ""

    def __init__(self, *, root: str | os.PathLike | None = None, manifest: str | os.PathLike | None = None,
                 **params: Any):
        unknown = sorted(set(params) - set(self.default_params))
        if unknown:
            known = ", ".join(sorted(self.default_params)) or "none"
            raise ConfigError(f"dataset {self.name!r}: unknown parameter(s) {', '.join(unknown)} "
                              f"(known: manifest, {known})")
        merged = {**self.default_params, **{k: _coerce(v, self.default_params[k]) for k, v in params.items()}}
        for key, choices in self.param_choices.items():
            if merged.get(key) not in choices:
                raise ConfigError(f"dataset {self.name!r}: parameter {key}={merged.get(key)!r} is not one of "
                                  f"{', '.join(repr(c) for c in choices)}")
        super().__init__(root=root, **merged)
        self._manifest_override = Path(manifest).expanduser() if manifest else None
        self._manifest_cache: Manifest | None = None
        self._fp_cache: dict[str, str] = {}

    # ---- layout ---------------------------------------------------------------------
    def check_layout(self) -> None:
        """Raise :class:`MissingDataError` (one line) when ``root`` is not this dataset."""
        root = self.root
        if not root.is_dir():
            raise MissingDataError(f"{root}: {self.title} not found (no such folder); download it "
                                   f"(`musebench datasets download {self.name}` where possible) and register it "
                                   f"with `musebench datasets register {self.name} PATH`")
        for rel in self.required_files:
            if not (root / rel).exists():
                hint = f"; {self.layout_hint}" if self.layout_hint else ""
                raise MissingDataError(f"{root}: not a {self.title} copy ({rel} is missing){hint}")

    # ---- manifest -------------------------------------------------------------------
    def manifest_path(self) -> Path:
        if self._manifest_override is not None:
            return self._manifest_override
        return package_data("manifests", self.manifest_file or f"{self.name}.json")

    def raw_manifest(self) -> Manifest:
        manifest = Manifest.load(self.manifest_path())
        return manifest

    def manifest(self) -> Manifest:
        """The effective manifest (after the dataset's split scheme is applied)."""
        if self._manifest_cache is None:
            self._manifest_cache = self.adjust_manifest(self.raw_manifest())
        return self._manifest_cache

    def adjust_manifest(self, manifest: Manifest) -> Manifest:
        """Hook: derive the effective manifest (e.g. another split scheme) from the shipped one."""
        return manifest

    def split_ids(self, split: str) -> list[str]:
        """Item ids of ``split`` (sorted)."""
        self.check_split(split)
        return self.manifest().ids(split)

    # ---- fingerprints and verification ------------------------------------------------
    def split_fingerprint(self, split: str) -> str:
        """sha256 naming the split itself: manifest entries (ids, paths, published checksums)."""
        self.check_split(split)
        return self.manifest().fingerprint(split)

    def fingerprint(self, split: str) -> str:
        """sha256 of the split fingerprint and the dataset parameters (which audio, which
        reference), plus the data digest once the split is verified (see the module docstring)."""
        if split not in self._fp_cache:
            base = self.split_fingerprint(split)
            payload: dict[str, Any] = {"split_fingerprint": base, "params": dict(sorted(self.params.items()))}
            stamp = self._stamp_entry(split)
            verified = stamp is not None and self._stamp_current(stamp, base)
            if verified:
                payload["data_digest"] = stamp["data_digest"]
            value = sha256_bytes(canonical_json(payload).encode())
            if not verified:
                return value
            self._fp_cache[split] = value
        return self._fp_cache[split]

    def expected_files(self, split: str | None = None) -> dict[str, dict[str, Any]]:
        """Relative path -> spec (``path`` and any of ``sha256``, ``md5``, ``size``)."""
        manifest = self.manifest()
        out: dict[str, dict[str, Any]] = {}
        for entry in manifest.items.values():
            if split is not None and entry["split"] != split:
                continue
            for spec in entry.get("files", {}).values():
                out[spec["path"]] = dict(spec)
        for rel, spec in manifest.extra.get("shared_files", {}).items():
            out[rel] = {"path": rel, **spec}
        out.update(self.derived_files(split))
        return out

    def derived_files(self, split: str | None) -> dict[str, dict[str, Any]]:
        """Hook: files the split needs that are known only from the local copy (Slakh stems, ...)."""
        return {}

    def is_annex_file(self, rel: str) -> bool:
        name = os.path.basename(rel)
        return any(fnmatch.fnmatch(name, pat) or fnmatch.fnmatch(rel, pat) for pat in self.annex_patterns)

    def verify(self, *, split: str | None = None, progress: bool = False, check_extra: bool = True) -> RealVerifyReport:
        """Hash every file of ``split`` (all splits if None) and compare with the manifest.

        Reports missing files, files whose published checksum or size differs, unusable files
        (truncated audio) and, for a whole-dataset check, extra files. Every split whose own
        files all pass gets a verified stamp (see the module docstring), so a copy holding only
        the test split can still be verified for it.
        """
        from tqdm.auto import tqdm

        if split is not None:
            self.check_split(split)
        self.check_layout()
        root = self.root
        splits = [split] if split is not None else list(self.splits)
        per_split = {s: self.expected_files(s) for s in splits}
        expected: dict[str, dict[str, Any]] = {}
        for files in per_split.values():
            expected.update(files)
        report = RealVerifyReport(dataset=self.name, root=root)
        digests: dict[str, str] = {}
        stats: dict[str, list[int]] = {}
        for rel, spec in tqdm(sorted(expected.items()), desc=f"verify {self.name}", unit="file",
                              disable=not progress):
            path = root / rel
            report.checked += 1
            if not path.is_file():
                report.missing.append(rel)
                continue
            st = path.stat()
            if spec.get("size") is not None and st.st_size != int(spec["size"]):
                report.changed.append(rel)
                continue
            sha, md5 = hash_file(path, md5=bool(spec.get("md5")))
            if (spec.get("sha256") and sha != spec["sha256"]) or (spec.get("md5") and md5 != spec["md5"]):
                report.changed.append(rel)
                continue
            if path.suffix.lower() in (".wav", ".flac"):
                try:
                    check_audio_file(path)
                except (BadInputError, MissingDataError) as exc:
                    report.problems.append((rel, str(exc).split(": ", 1)[-1]))
                    continue
            digests[rel] = sha
            stats[rel] = [st.st_size, st.st_mtime_ns]
        if check_extra and split is None and expected:
            tracked = set(expected)
            for dirpath, _dirs, files in os.walk(root):
                for fname in files:
                    rel = os.path.relpath(os.path.join(dirpath, fname), root)
                    if fname.startswith(".") or rel in tracked or self.is_annex_file(rel):
                        continue
                    report.extra.append(rel)
            report.extra.sort()
        bad = set(report.missing) | set(report.changed) | {rel for rel, _ in report.problems}
        for s in splits:  # each split whose own files all passed gets its stamp
            rels = list(per_split[s])
            if bad.intersection(rels):
                continue
            entry = {"split_fingerprint": self.split_fingerprint(s),
                     "data_digest": _file_digests(rels, digests),
                     "files": {rel: stats[rel] for rel in rels}}
            self._write_stamp(s, entry)
            self._fp_cache.pop(s, None)
            report.fingerprints[s] = self.fingerprint(s)
        return report

    def _stamp_data(self) -> dict[str, Any]:
        path = stamp_file(self.name)
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    def _root_key(self) -> str:
        return str(self.root.expanduser().resolve())

    def _stamp_entry(self, split: str) -> dict[str, Any] | None:
        return self._stamp_data().get(self._root_key(), {}).get(split)

    def _write_stamp(self, split: str, entry: dict[str, Any]) -> None:
        data = self._stamp_data()
        data.setdefault(self._root_key(), {})[split] = entry
        atomic_write_json(stamp_file(self.name), data, indent=None)

    def _stamp_current(self, entry: Mapping[str, Any], split_fp: str) -> bool:
        if entry.get("split_fingerprint") != split_fp:
            return False
        root = self.root
        for rel, (size, mtime) in entry.get("files", {}).items():
            try:
                st = (root / rel).stat()
            except OSError:
                return False
            if st.st_size != size or st.st_mtime_ns != mtime:
                return False
        return True

    def is_verified(self, split: str) -> bool:
        """True when :meth:`verify` passed for this root and split, and no file changed since
        (sizes and modification times are re-checked)."""
        try:
            base = self.split_fingerprint(split)
        except (MissingDataError, BadInputError, ConfigError):
            return False
        entry = self._stamp_entry(split)
        return entry is not None and self._stamp_current(entry, base)

    # ---- description ------------------------------------------------------------------
    def split_sizes(self) -> dict[str, int]:
        manifest = self.manifest()
        sizes = manifest.extra.get("sizes")
        if sizes and not manifest.items:
            return {s: int(sizes[s]) for s in self.splits if s in sizes}
        return {s: len(manifest.ids(s)) for s in self.splits}

    def describe(self) -> dict[str, Any]:
        manifest = self.manifest()
        return {"name": self.name, "title": self.title, "splits": list(self.splits), "sizes": self.split_sizes(),
                "citation": self.citation, "license": self.license, "homepage": self.homepage,
                "root": str(self.root), "params": dict(self.params),
                "split_source": manifest.extra.get("split_source", ""),
                "manifest": str(self.manifest_path())}

    # ---- download ---------------------------------------------------------------------
    def download(self, *, root: str | os.PathLike | None = None, dest: str | os.PathLike | None = None,
                 parts: list[str] | None = None, extract: bool = True, progress: bool = True) -> list[Path]:
        """Fetch the dataset's public archives (resumable, checksum-checked) into ``dest``
        (default ``<data home>/downloads/<name>``) and, with ``extract``, install them in the
        root in the official layout. See :mod:`musebench.datasets.download`."""
        from .download import download_dataset

        if root:
            self._root = Path(root).expanduser()
        return download_dataset(self.name, dest=dest, root=self.root, parts=parts, extract=extract,
                                progress=progress)

    # ---- items ------------------------------------------------------------------------
    def manifest_items(self, split: str, *, audio_role: str) -> list[Item]:
        """Items of ``split`` straight from the manifest (paths resolved under the root)."""
        self.check_split(split)
        self.check_layout()
        manifest = self.manifest()
        root = self.root
        items = []
        for item_id in manifest.ids(split):
            entry = manifest.items[item_id]
            files = {role: root / spec["path"] for role, spec in entry.get("files", {}).items()}
            items.append(Item(id=item_id, dataset=self.name, audio_path=files.get(audio_role), files=files,
                              metadata={"split": split, **entry.get("metadata", {})}))
        return items


def resplit_manifest(manifest: Manifest, *, scheme: str, key: str) -> Manifest:
    """A copy of ``manifest`` whose splits come from ``entry["metadata"][key]`` (items whose
    value is None are dropped); the version records the scheme so fingerprints differ."""
    items = {}
    for item_id, entry in manifest.items.items():
        split = entry.get("metadata", {}).get(key)
        if split is None:
            continue
        items[item_id] = {**entry, "split": split}
    return Manifest(dataset=manifest.dataset, version=f"{manifest.version}+{scheme}", items=items,
                    extra=dict(manifest.extra))
