"""``RealDataset``: the base class of every dataset read from a user's local copy.

A real dataset (MAESTRO, Slakh2100, GuitarSet, ...) lives in the user's local copy, in its
official layout; MuseBench never reorganises or writes into it. What MuseBench ships is the
*split manifest* (``benchmark/data/manifests/<name>.json``): item ids, the relative paths each
item needs, published checksums where the dataset has them, and a description of where the split
came from. A dataset module (one per dataset, e.g. :mod:`musebench.datasets.maestro`) subclasses
:class:`RealDataset`; from the manifest it then gets, with no code of its own:

* :meth:`~musebench.datasets.base.Dataset.split_fingerprint` -- sha256 of the manifest entries of
  one split (ids, paths, published checksums; for derived splits, the derived id list). It names
  *the split*.
* :meth:`~musebench.datasets.base.Dataset.verify` -- hashes every file of the split in the local
  copy, reports missing, changed (against published checksums), truncated and extra files, and on
  success records a *verified stamp* (per root and split: the data digest, and each file's size
  and mtime) in the user's config folder, next to the registered roots.
* :meth:`RealDataset.fingerprint` -- sha256 of the split fingerprint, the dataset parameters
  (which audio, which reference: e.g. ``sustain_pedal``) and, once the split is verified, the
  data digest (sha256 of every file of the split): two runs share a fingerprint exactly when
  they were made on the same split of byte-identical data read the same way. Before
  verification the digest is absent (so the fingerprint differs) and
  :meth:`~musebench.datasets.base.Dataset.is_verified` is False: the runner then refuses to run
  unless ``--allow-unverified`` is given.
* :meth:`RealDataset.download` -- the public archives the subclass lists in ``archives``
  (see :mod:`musebench.datasets.download`).

Readers for the files of a layout (CSV, YAML, the audio truncation check, Hz -> MIDI) with
one-line errors are in :mod:`musebench.datasets.readers`.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ConfigError, MissingDataError
from ..io_utils import canonical_json, sha256_bytes
from ..paths import package_data
from ..types import Item
from .base import Dataset, Manifest, VerifyReport

if TYPE_CHECKING:
    from .download import Archive


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


@dataclass
class RealVerifyReport(VerifyReport):
    """:class:`VerifyReport` of a real dataset: a changed file differs from the *published* checksum."""

    changed_reason: ClassVar[str] = "checksum or size differs from the published one"


class RealDataset(Dataset):
    """Base of the datasets read from a user's local copy in the official layout.

    A subclass (one module per dataset) defines:

    the :class:`~musebench.datasets.base.Dataset` class attributes
        ``name``, ``title``, ``citation``, ``license``, ``homepage``, ``splits`` and
        ``manifest_file`` (default ``<name>.json`` under ``benchmark/data/manifests/``).
    :meth:`items` and :meth:`load_notes`
        Usually ``return self.manifest_items(split, audio_role="audio")`` and a reader of the
        reference file that raises one-line errors naming it (see
        :mod:`musebench.datasets.readers`).
    ``default_params``
        Dataset parameters (from a task's ``dataset_params``) and their defaults; any other
        parameter is a :class:`ConfigError`. Every dataset also takes ``manifest`` (a path to
        a replacement split manifest: fixture copies and private subsets; it changes the
        fingerprint, so such runs never rank with runs on the shipped splits).
    ``param_choices``
        Allowed values of the parameters that are choices.
    ``required_files``, ``layout_hint``
        Relative paths whose absence means the root is not this dataset, and the one-line hint
        that says which folder to register.
    ``annex_patterns``
        fnmatch patterns of files that may sit in the copy without being "extra".
    ``archives`` or ``manual_download``
        The public archives :meth:`download` fetches (:class:`~musebench.datasets.download.Archive`:
        URL, file name, published checksum, where it unpacks), or, where there is no public URL,
        the one line that says how to get the data.
    a manifest builder (a module-level function, by convention ``build_manifest``)
        Rebuilds the shipped manifest from the public split definition;
        ``scripts/make_real_manifests.py`` calls it.

    Hooks with defaults: :meth:`adjust_manifest` (another split scheme), :meth:`derived_files`
    (files known only from the local copy), :meth:`check_layout`.
    """

    default_params: ClassVar[dict[str, Any]] = {}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {}
    required_files: ClassVar[tuple[str, ...]] = ()
    annex_patterns: ClassVar[tuple[str, ...]] = ("*README*", "*LICENSE*", "*.txt.orig")
    layout_hint: ClassVar[str] = ""
    archives: ClassVar[tuple[Archive, ...]] = ()
    manual_download: ClassVar[str] = ""
    stamp_location: ClassVar[str] = "config"
    verify_audio: ClassVar[bool] = True
    report_class: ClassVar[type[VerifyReport]] = RealVerifyReport

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
        return Manifest.load(self.manifest_path())

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

    # ---- fingerprints ---------------------------------------------------------------
    def fingerprint(self, split: str) -> str:
        """sha256 of the split fingerprint and the dataset parameters (which audio, which
        reference), plus the data digest once the split is verified (see the module docstring)."""
        if split not in self._fp_cache:
            base = self.split_fingerprint(split)
            payload: dict[str, Any] = {"split_fingerprint": base, "params": dict(sorted(self.params.items()))}
            stamp = self.stamp_entry(split)
            verified = isinstance(stamp, dict) and "data_digest" in stamp
            if verified:
                payload["data_digest"] = stamp["data_digest"]
            value = sha256_bytes(canonical_json(payload).encode())
            if not verified:
                return value
            self._fp_cache[split] = value
        return self._fp_cache[split]

    def _forget_fingerprint(self, split: str) -> None:
        self._fp_cache.pop(split, None)

    def is_annex_file(self, rel: str) -> bool:
        name = os.path.basename(rel)
        return any(fnmatch.fnmatch(name, pat) or fnmatch.fnmatch(rel, pat) for pat in self.annex_patterns)

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
