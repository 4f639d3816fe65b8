"""Shared by every family's ``predictions`` model: outputs made elsewhere, one file per item.

The directory is the model: its identity (``weights_sha256``) is a sha256 over
``name NUL sha256(file) LF`` of its files in name order, so two runs on different prediction
sets are told apart.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ConfigError, MissingDataError
from ..io_utils import sha256_file


class PredictionsDirectory:
    """Mixin for a :class:`~musebench.models.base.Model` that reads ``<path>/<item_id><suffix>``."""

    #: accepted suffixes, the first being the one named in messages
    suffixes: ClassVar[tuple[str, ...]]
    #: what the files hold, for messages ("MIDI", "audio")
    file_kind: ClassVar[str]

    def _set_directory(self, path: str | os.PathLike | None) -> str:
        if path is None or str(path) == "":
            raise ConfigError(f"predictions: parameter 'path' (directory of <item_id>{self.suffixes[0]} files) "
                              "is required")
        self.directory = Path(path).expanduser().resolve()
        self._digest: str | None = None
        return str(self.directory)

    @staticmethod
    def _label(name: str | None) -> dict[str, str]:
        """``{"name": name}`` when the submission is named (``--param name=...``): its leaderboard
        label; unnamed submissions are labelled ``predictions:<folder>``."""
        if name is None or str(name) == "":
            return {}
        return {"name": str(name)}

    def load(self) -> None:
        if not self.directory.is_dir():
            raise MissingDataError(f"{self.directory}: predictions directory not found")

    def prediction_files(self) -> list[Path]:
        """The prediction files of the directory (not recursive), sorted by name."""
        self.load()
        return sorted(p for p in self.directory.iterdir() if p.is_file() and p.suffix.lower() in self.suffixes)

    def weights_sha256(self) -> str | None:
        if self._digest is None:
            h = hashlib.sha256()
            for f in self.prediction_files():
                h.update(f"{f.name}\0{sha256_file(f)}\n".encode())
            self._digest = h.hexdigest()
        return self._digest

    def info(self) -> dict[str, Any]:
        out = super().info()  # type: ignore[misc]
        out["predictions_dir"] = str(self.directory)
        out["predictions_files"] = len(self.prediction_files())
        return out

    def path_for(self, item_id: str) -> Path:
        """The file of ``item_id``; :class:`MissingDataError` when there is none."""
        for suffix in self.suffixes:
            candidate = self.directory / f"{item_id}{suffix}"
            if candidate.is_file():
                return candidate
        raise MissingDataError(f"predictions: no {self.file_kind} file for item {item_id!r} "
                               f"(expected {self.directory / (item_id + self.suffixes[0])} or "
                               f"{'/'.join(self.suffixes[1:])})")
