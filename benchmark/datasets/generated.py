"""``GeneratedDataset``: the base of the datasets MuseBench builds itself (``synth``, ``synth-pairs``).

Such a dataset is made by deterministic code in its module; the shipped manifest freezes every
file it makes by sha256 and size. :meth:`GeneratedDataset.prepare` is written once, here: it
rebuilds what is missing or differs, refuses bytes that differ from the manifest, and verifies
the result (which stamps each split as verified, in the data root: see
:class:`~musebench.datasets.base.Dataset`).

A subclass defines :meth:`~GeneratedDataset.prepare_units` (the files of the manifest, grouped
by what one build call makes: an item, a score) and :meth:`~GeneratedDataset.build_unit` (the
bytes of one such group), besides :meth:`items` and :meth:`load_notes`.
"""
from __future__ import annotations

import os
import sys
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BadInputError
from ..io_utils import atomic_write_bytes, sha256_bytes, sha256_file
from .base import Dataset, VerifyReport


def file_matches(path: Path, spec: dict[str, Any]) -> bool:
    """True when ``path`` exists with the manifest's size and sha256."""
    if not path.is_file():
        return False
    if spec.get("size") is not None and path.stat().st_size != spec["size"]:
        return False
    return sha256_file(path) == spec["sha256"]


class GeneratedDataset(Dataset):
    """A dataset MuseBench generates locally and deterministically (see the module docstring)."""

    made: ClassVar[str] = "generated"  # the participle in messages ("generated", "rendered")
    prepare_unit: ClassVar[str] = "item"  # what one build call makes, for the progress bar

    @abstractmethod
    def prepare_units(self) -> list[tuple[Any, dict[str, dict[str, Any]]]]:
        """``(unit, {relative path: manifest spec})`` for every group of files one
        :meth:`build_unit` call makes, in a stable order."""

    @abstractmethod
    def build_unit(self, unit: Any) -> dict[str, bytes]:
        """Relative path -> bytes of every file of ``unit``."""

    def differ_note(self) -> str:
        """Hook: what may explain bytes that differ from the manifest (appended to the error)."""
        return ""

    def verify_prepared(self) -> VerifyReport:
        """The verification :meth:`prepare` ends with (default: :meth:`verify` of the whole root)."""
        report = self.verify()
        if not report.ok:
            raise BadInputError(f"{self.name}: verification after prepare failed: {report.lines()[0]}")
        return report

    def prepare(self, *, root: str | os.PathLike | None = None, progress: bool = True,
                force: bool = False) -> VerifyReport:
        """Build every file of the manifest into the root and check it against the manifest.

        Files that already exist with the manifest's sha256 are kept (unless ``force``).

        Parameters
        ----------
        root : path-like, optional
            Build here (and use it as this dataset's root from now on).
        progress : bool
            Show a tqdm progress bar.
        force : bool
            Rebuild every file.

        Returns
        -------
        VerifyReport
            The (passing) verification of the root.

        Raises
        ------
        BadInputError
            The code built bytes that differ from the shipped manifest (each such file is
            printed to stderr first).
        """
        from tqdm.auto import tqdm

        if root is not None:
            self._root = Path(root).expanduser()
        root_dir = self.root
        differ: list[str] = []
        for unit, specs in tqdm(self.prepare_units(), desc=f"prepare {self.name}", unit=self.prepare_unit,
                                disable=not progress):
            todo = [rel for rel, spec in specs.items() if force or not file_matches(root_dir / rel, spec)]
            if not todo:
                continue
            built = self.build_unit(unit)
            for rel in todo:
                data, expected = built[rel], specs[rel]["sha256"]
                atomic_write_bytes(root_dir / rel, data)
                if sha256_bytes(data) != expected:
                    differ.append(rel)
                    tqdm.write(f"{root_dir / rel}: {self.made} bytes differ from the manifest "
                               f"(sha256 {sha256_bytes(data)[:12]}..., expected {expected[:12]}...)", file=sys.stderr)
        if differ:
            raise BadInputError(f"{self.name}: {len(differ)} {self.made} file(s) differ from the shipped manifest, "
                                f"first {root_dir / differ[0]}{self.differ_note()}")
        return self.verify_prepared()


__all__ = ["GeneratedDataset", "file_matches"]
