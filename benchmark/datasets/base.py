"""The dataset interface, split manifests, verification and fingerprints.

A dataset is a class registered in :data:`musebench.datasets.DATASETS`. It reads a local
copy in the dataset's official layout (``root``), yields :class:`~musebench.types.Item`
objects per split, and loads each item's reference notes.

A *split manifest* (JSON shipped with the package under ``benchmark/data/manifests/``) freezes
a split: item ids, the files each item needs (relative paths, with sha256 and size where
known) and metadata. The *fingerprint* of a split is the sha256 of the canonical JSON of
its manifest entries; it goes into every result, and runs with different fingerprints are
never ranked together.
"""
from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BadInputError, ConfigError, MissingDataError
from ..io_utils import atomic_write_json, canonical_json, read_json, sha256_bytes
from ..paths import config_file, data_home, package_data
from ..types import Item, Notes
from .readers import check_audio_file, hash_file


@dataclass
class Manifest:
    """A frozen description of a dataset's splits.

    ``items`` maps item id -> ``{"split": str, "files": {role: {"path": str, "sha256": str|None,
    "size": int|None}}, "metadata": {...}}``.
    """

    dataset: str
    version: str
    items: dict[str, dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Manifest:
        path = Path(path)
        raw = read_json(path, what="split manifest")
        for key in ("dataset", "version", "items"):
            if key not in raw:
                raise BadInputError(f"{path}: split manifest lacks the {key!r} field")
        extra = {k: v for k, v in raw.items() if k not in ("dataset", "version", "items")}
        return cls(dataset=raw["dataset"], version=str(raw["version"]), items=raw["items"], extra=extra)

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "version": self.version, "items": self.items, **self.extra}

    def save(self, path: str | os.PathLike) -> None:
        atomic_write_json(path, self.to_json(), indent=1)

    def splits(self) -> list[str]:
        return sorted({entry["split"] for entry in self.items.values()})

    def ids(self, split: str) -> list[str]:
        return sorted(i for i, entry in self.items.items() if entry["split"] == split)

    def fingerprint(self, split: str | None = None) -> str:
        """sha256 of the canonical JSON of the manifest entries of ``split`` (all splits if None)."""
        entries = {i: e for i, e in self.items.items() if split is None or e["split"] == split}
        return sha256_bytes(canonical_json({"dataset": self.dataset, "version": self.version,
                                            "split": split, "items": entries}).encode())


@dataclass
class VerifyReport:
    """What :meth:`Dataset.verify` found.

    ``missing``, ``changed`` (size or checksum differs) and ``extra`` (not in the manifest) are
    relative paths; ``problems`` are ``(path, why)`` for files that exist but are unusable
    (truncated audio); ``fingerprints`` maps each split that passed to its fingerprint.
    """

    dataset: str
    root: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    changed_reason: ClassVar[str] = "checksum differs from the manifest"

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed and not self.problems

    def lines(self) -> list[str]:
        out = [f"{self.root / p}: missing" for p in self.missing]
        out += [f"{self.root / p}: {self.changed_reason}" for p in self.changed]
        out += [f"{self.root / p}: {why}" for p, why in self.problems]
        out += [f"{self.root / p}: extra file not in the manifest" for p in self.extra]
        return out


def stamp_file(name: str) -> Path:
    """Where the verified stamps of dataset ``name`` are kept when they live in the config folder
    (``Dataset.stamp_location == "config"``): ``<config dir>/verified/<name>.json``."""
    return config_file().parent / "verified" / f"{name}.json"


def data_digest(rels: Iterable[str], digests: Mapping[str, str]) -> str:
    """sha256 of the sorted ``path<TAB>sha256`` lines of the files ``rels`` (the *data digest*)."""
    lines = sorted(f"{rel}\t{digests[rel]}" for rel in rels)
    return sha256_bytes("\n".join(lines).encode())


def _registered_roots() -> dict[str, str]:
    path = config_file()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text()).get("datasets", {})
    except (json.JSONDecodeError, AttributeError):
        raise ConfigError(f"{path}: dataset config is not valid JSON") from None


def register_root(name: str, root: str | os.PathLike) -> Path:
    """Record ``root`` as the local copy of dataset ``name`` in the user config file."""
    path = config_file()
    config: dict[str, Any] = {}
    if path.exists():
        config = json.loads(path.read_text())
    config.setdefault("datasets", {})[name] = str(Path(root).expanduser().resolve())
    atomic_write_json(path, config)
    return path


class Dataset(ABC):
    """Base class of all datasets.

    Subclasses set the class attributes and implement :meth:`items` and :meth:`load_notes`.
    Where a dataset ships a split manifest, :meth:`manifest` returns it, and verification
    (:meth:`verify`, :meth:`is_verified`) and fingerprints come from this class.

    Verification is written once, here: :meth:`verify` hashes every file the manifest lists
    (sha256, and md5 or size where the manifest has them; WAV/FLAC files are also checked for
    truncation when ``verify_audio`` is set) and records a *verified stamp* for each split whose
    files all pass; :meth:`is_verified` reads it back. Where the stamp lives is
    ``stamp_location``:

    ``"root"`` (data MuseBench builds itself: ``synth``, ``synth-pairs``)
        ``<root>/.musebench-verified.json``, ``{stamp key: split fingerprint}``. The manifest
        pins every file's sha256, so the split fingerprint is all the stamp needs, and it travels
        with a copied folder.
    ``"config"`` (a user's copy of a real dataset, which MuseBench never writes into)
        ``<config dir>/verified/<name>.json``, ``{root: {stamp key: {"split_fingerprint",
        "data_digest", "files": {path: [size, mtime_ns]}}}}``; :meth:`is_verified` re-checks
        each file's size and mtime, so any edit after verification unverifies the split.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    license: ClassVar[str] = ""
    homepage: ClassVar[str] = ""
    splits: tuple[str, ...] = ("train", "validation", "test")  # an instance may narrow it (split schemes)
    manifest_file: ClassVar[str | None] = None  # under benchmark/data/manifests/
    stamp_location: ClassVar[str] = "root"  # "root" or "config" (see the class docstring)
    verify_audio: ClassVar[bool] = False  # verify() also checks WAV/FLAC files for truncation
    report_class: ClassVar[type[VerifyReport]] = VerifyReport

    def __init__(self, *, root: str | os.PathLike | None = None, **params: Any):
        self._root = Path(root).expanduser() if root else None
        self.params = params

    # ---- location -------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """The local copy: explicit root, else ``$MUSEBENCH_<NAME>_ROOT``, else the registered
        path, else ``<data home>/<name>``."""
        if self._root is not None:
            return self._root
        env = os.environ.get(f"MUSEBENCH_{self.name.upper().replace('-', '_')}_ROOT")
        if env:
            return Path(env).expanduser()
        registered = _registered_roots().get(self.name)
        if registered:
            return Path(registered)
        return data_home() / self.name

    def check_layout(self) -> None:
        """Hook: raise :class:`MissingDataError` (one line) when ``root`` is not this dataset.
        Called first by :meth:`verify`; the default accepts any root."""
        return None

    # ---- splits ---------------------------------------------------------------------
    def manifest(self) -> Manifest | None:
        if self.manifest_file is None:
            return None
        return Manifest.load(package_data("manifests", self.manifest_file))

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            from ..errors import UnknownNameError

            raise UnknownNameError(f"split of dataset {self.name!r}", split, self.splits)

    @abstractmethod
    def items(self, split: str) -> list[Item]:
        """The items of ``split``, in a stable order."""

    @abstractmethod
    def load_notes(self, item: Item) -> Notes:
        """The reference notes of ``item`` (validated)."""

    def _require_manifest(self) -> Manifest:
        manifest = self.manifest()
        if manifest is None:
            raise ConfigError(f"dataset {self.name!r} has no split manifest, so no fingerprint")
        return manifest

    def split_fingerprint(self, split: str) -> str:
        """sha256 naming the split itself: its manifest entries (ids, paths, checksums)."""
        self.check_split(split)
        return self._require_manifest().fingerprint(split)

    def fingerprint(self, split: str) -> str:
        """The fingerprint results carry (default: the sha256 of the split's manifest entries)."""
        return self._require_manifest().fingerprint(split)

    # ---- verification ---------------------------------------------------------------
    def expected_files(self, split: str | None = None) -> dict[str, dict[str, Any]]:
        """Relative path -> spec (``path`` and any of ``sha256``, ``md5``, ``size``) for every
        file of ``split`` (all splits if None): the manifest's, shared and derived files."""
        manifest = self.manifest()
        if manifest is None:
            return {}
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
        """Files that may sit beside the dataset without being 'extra' (readmes, licences)."""
        return False

    def verify(self, *, split: str | None = None, progress: bool = False,
               check_extra: bool = True) -> VerifyReport:
        """Hash every file of ``split`` (all splits if None) and compare with the manifest.

        Reports missing files, files whose size or checksum differs, unusable files (truncated
        audio, with ``verify_audio``) and, for a whole-dataset check, extra files. Every split
        whose own files all pass gets a verified stamp (see the class docstring), so a copy
        holding only the test split can still be verified for it.
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
        report = self.report_class(dataset=self.name, root=root)
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
            if self.verify_audio and path.suffix.lower() in (".wav", ".flac"):
                try:
                    check_audio_file(path)
                except (BadInputError, MissingDataError) as exc:
                    report.problems.append((rel, str(exc).split(": ", 1)[-1]))
                    continue
            digests[rel] = sha
            stats[rel] = [st.st_size, st.st_mtime_ns]
        if check_extra and split is None and root.is_dir() and expected:
            tracked = set(expected)
            for dirpath, _dirs, fnames in os.walk(root):
                for fname in fnames:
                    rel = os.path.relpath(os.path.join(dirpath, fname), root)
                    if fname.startswith(".") or rel in tracked or self.is_annex_file(rel):
                        continue
                    report.extra.append(rel)
            report.extra.sort()
        if self.manifest() is None or (self.stamp_location == "root" and not root.is_dir()):
            return report
        bad = set(report.missing) | set(report.changed) | {rel for rel, _ in report.problems}
        for s in splits:  # each split whose own files all passed gets its stamp
            rels = list(per_split[s])
            if bad.intersection(rels):
                continue
            self.write_verified_stamp(s, {rel: digests[rel] for rel in rels}, {rel: stats[rel] for rel in rels})
            report.fingerprints[s] = self.fingerprint(s)
        return report

    # ---- the verified stamp ---------------------------------------------------------
    def stamp_key(self, split: str) -> str:
        """The key of ``split`` in the stamp file (a dataset whose instances cover different parts
        of one manifest, such as one translation pair, adds that part)."""
        return split

    def _stamp_path(self) -> Path:
        if self.stamp_location == "config":
            return stamp_file(self.name)
        return self.root / ".musebench-verified.json"

    def _root_key(self) -> str:
        return str(self.root.expanduser().resolve())

    def _read_stamp_file(self) -> dict[str, Any]:
        path = self._stamp_path()
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, OSError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _stamps(self) -> dict[str, Any]:
        """Stamp key -> entry, for this root."""
        data = self._read_stamp_file()
        if self.stamp_location == "config":
            data = data.get(self._root_key(), {})
        return data if isinstance(data, dict) else {}

    def write_verified_stamp(self, split: str, digests: Mapping[str, str], stats: Mapping[str, list[int]]) -> None:
        """Write the verified stamp of ``split``: ``digests`` (sha256) and ``stats`` (size, mtime_ns)
        of every file of the split, as :meth:`verify` has just found them."""
        entry: Any = self.split_fingerprint(split)
        if self.stamp_location == "config":
            entry = {"split_fingerprint": entry, "data_digest": data_digest(digests, digests),
                     "files": {rel: list(stats[rel]) for rel in digests}}
        data = self._read_stamp_file()
        scope = data.setdefault(self._root_key(), {}) if self.stamp_location == "config" else data
        scope[self.stamp_key(split)] = entry
        try:
            atomic_write_json(self._stamp_path(), data, indent=None if self.stamp_location == "config" else 2)
        except OSError:
            if self.stamp_location == "config":
                raise  # the config folder must be writable; a read-only data root just stays unstamped
        self._forget_fingerprint(split)

    def _forget_fingerprint(self, split: str) -> None:
        """Hook: drop a cached fingerprint of ``split`` after its stamp changed."""
        return None

    def stamp_entry(self, split: str) -> Any:
        """The stamp of ``split`` when it is still current for this root (else None)."""
        try:
            split_fp = self.split_fingerprint(split)
        except (MissingDataError, BadInputError, ConfigError):
            return None
        entry = self._stamps().get(self.stamp_key(split))
        if isinstance(entry, str):  # "root" stamps: the split fingerprint alone
            return entry if entry == split_fp else None
        if not isinstance(entry, dict) or entry.get("split_fingerprint") != split_fp:
            return None
        root = self.root
        for rel, (size, mtime) in entry.get("files", {}).items():
            try:
                st = (root / rel).stat()
            except OSError:
                return None
            if st.st_size != size or st.st_mtime_ns != mtime:
                return None
        return entry

    def is_verified(self, split: str) -> bool:
        """True when :meth:`verify` passed for this root and the current manifest of ``split``
        (for ``"config"`` stamps: and no file changed since; sizes and mtimes are re-checked)."""
        return self.stamp_entry(split) is not None

    # ---- embedded data ----------------------------------------------------------------
    def prepare_if_missing(self, missing: list[Path], split: str) -> None:
        """Build data MuseBench makes itself (``prepare``) when files of ``split`` are missing or
        the split is not verified, with a one-line notice on stderr. Datasets without ``prepare``
        leave the report of what is missing to the caller, as does ``MUSEBENCH_AUTO_PREPARE=0``."""
        import sys

        if os.environ.get("MUSEBENCH_AUTO_PREPARE", "1") == "0" or (not missing and self.is_verified(split)):
            return
        prepare = getattr(self, "prepare", None)
        if prepare is None:
            return
        why = f"{len(missing)} file(s) missing" if missing else "not verified"
        print(f"{self.name}: not prepared under {self.root} ({why}); preparing it now (deterministic, "
              f"built from the shipped manifest) ...", file=sys.stderr, flush=True)
        prepare(progress=sys.stderr.isatty())

    # ---- description ----------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        manifest = self.manifest()
        sizes = {s: len(manifest.ids(s)) for s in self.splits} if manifest else {}
        return {"name": self.name, "title": self.title, "splits": list(self.splits), "sizes": sizes,
                "citation": self.citation, "license": self.license, "homepage": self.homepage,
                "root": str(self.root)}


def items_from_manifest(dataset: Dataset, split: str, *, audio_role: str = "audio") -> list[Item]:
    """Items of ``split`` built from the dataset's manifest: paths resolved under its root."""
    dataset.check_split(split)
    manifest = dataset.manifest()
    assert manifest is not None
    root = dataset.root
    items = []
    for item_id in manifest.ids(split):
        entry = manifest.items[item_id]
        files = {role: root / spec["path"] for role, spec in entry.get("files", {}).items()}
        items.append(Item(id=item_id, dataset=dataset.name, audio_path=files.get(audio_role),
                          files=files, metadata=dict(entry.get("metadata", {}))))
    return items


def iter_unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)
