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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from collections.abc import Iterable

from ..errors import BadInputError, ConfigError
from ..io_utils import atomic_write_json, canonical_json, read_json, sha256_bytes, sha256_file
from ..paths import config_file, data_home, package_data
from ..types import Item, Notes


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
    """What :meth:`Dataset.verify` found."""

    dataset: str
    root: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed

    def lines(self) -> list[str]:
        out = [f"{self.root / p}: missing" for p in self.missing]
        out += [f"{self.root / p}: checksum differs from the manifest" for p in self.changed]
        out += [f"{self.root / p}: extra file not in the manifest" for p in self.extra]
        return out


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
    Where a dataset ships a split manifest, :meth:`manifest` returns it and verification and
    fingerprints come for free.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    license: ClassVar[str] = ""
    homepage: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("train", "validation", "test")
    manifest_file: ClassVar[str | None] = None  # under benchmark/data/manifests/

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

    def fingerprint(self, split: str) -> str:
        manifest = self.manifest()
        if manifest is None:
            raise ConfigError(f"dataset {self.name!r} has no split manifest, so no fingerprint")
        return manifest.fingerprint(split)

    # ---- verification ---------------------------------------------------------------
    def expected_files(self, split: str | None = None) -> dict[str, dict[str, Any]]:
        """Relative path -> ``{"sha256", "size"}`` for every file the manifest lists."""
        manifest = self.manifest()
        if manifest is None:
            return {}
        out: dict[str, dict[str, Any]] = {}
        for entry in manifest.items.values():
            if split is not None and entry["split"] != split:
                continue
            for spec in entry.get("files", {}).values():
                out[spec["path"]] = spec
        out.update(manifest.extra.get("shared_files", {}))
        return out

    def verify(self, *, split: str | None = None, progress: bool = False,
               check_extra: bool = True) -> VerifyReport:
        """Re-hash every file the manifest lists and report missing, changed and extra files."""
        from tqdm.auto import tqdm

        root = self.root
        report = VerifyReport(dataset=self.name, root=root)
        expected = self.expected_files(split)
        for rel, spec in tqdm(sorted(expected.items()), desc=f"verify {self.name}", unit="file",
                              disable=not progress):
            path = root / rel
            report.checked += 1
            if not path.is_file():
                report.missing.append(rel)
                continue
            size = spec.get("size")
            if size is not None and path.stat().st_size != size:
                report.changed.append(rel)
                continue
            digest = spec.get("sha256")
            if digest and sha256_file(path) != digest:
                report.changed.append(rel)
        if check_extra and split is None and root.is_dir() and expected:
            tracked = set(expected)
            for dirpath, _dirs, files in os.walk(root):
                for fname in files:
                    rel = os.path.relpath(os.path.join(dirpath, fname), root)
                    if fname.startswith(".") or rel in tracked:
                        continue
                    if self.is_annex_file(rel):
                        continue
                    report.extra.append(rel)
            report.extra.sort()
        if report.ok:
            self._write_verified_stamp(split)
        return report

    def is_annex_file(self, rel: str) -> bool:
        """Files that may sit beside the dataset without being 'extra' (readmes, licences)."""
        return False

    def _stamp_path(self) -> Path:
        return self.root / ".musebench-verified.json"

    def _write_verified_stamp(self, split: str | None) -> None:
        manifest = self.manifest()
        if manifest is None or not self.root.is_dir():
            return
        stamp = self._stamp_path()
        data = json.loads(stamp.read_text()) if stamp.exists() else {}
        for s in ([split] if split else manifest.splits()):
            data[s] = manifest.fingerprint(s)
        try:
            atomic_write_json(stamp, data)
        except OSError:
            pass

    def is_verified(self, split: str) -> bool:
        """True when a previous :meth:`verify` passed for the current manifest of ``split``."""
        stamp = self._stamp_path()
        if not stamp.exists():
            return False
        try:
            return json.loads(stamp.read_text()).get(split) == self.fingerprint(split)
        except (json.JSONDecodeError, ConfigError):
            return False

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
