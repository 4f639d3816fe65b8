"""The checkpoint format of MuseBench's own models: ``<stem>.npz`` (weights) + ``<stem>.json`` (metadata).

One format serves the seed LSTM generators, the seq2seq transcribers and the UMT translator;
each names its kind with a :class:`CheckpointFormat` (the ``format`` string in the JSON, the
words of its error messages, the arrays kept in full precision).

- The weights file is a NumPy ``.npz`` written with sorted names and fixed zip timestamps
  (:func:`npz_bytes`), so that the same weights always give the same bytes and sha256; float
  arrays are stored as float16 unless asked otherwise, and loading needs no pickle.
- The JSON holds everything needed to rebuild and reproduce the model (architecture, sizes,
  features, training settings and time, the fingerprint of the training data) plus a
  ``weights`` entry: file name, sha256 (checked on load), dtype, bytes and parameter count.
- ``--param checkpoint=PATH`` names either file or their common stem (:func:`resolve`);
  without it a model runs its shipped checkpoint in ``benchmark/data/checkpoints/``
  (:func:`checkpoint_path`). A missing file is a one-line :class:`MissingDataError`.
- The sha256 recorded in results.json is that of the ``.npz``
  (:meth:`CheckpointFiles.weights_files`, read by :meth:`musebench.models.base.Model.weights_sha256`).
"""
from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInputError, MissingDataError
from ..io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_file
from ..paths import package_data


def shipped_dir() -> Path:
    """Where the shipped checkpoints live (``benchmark/data/checkpoints``)."""
    return package_data("checkpoints")


def checkpoint_path(checkpoint: str | os.PathLike | None, *, shipped: str) -> Path:
    """The checkpoint a model runs: ``--param checkpoint=PATH`` if given, else the shipped ``shipped``."""
    return Path(checkpoint).expanduser() if checkpoint else shipped_dir() / shipped


def resolve(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(weights .npz, config .json)`` of a checkpoint given by either file or their common stem."""
    p = Path(path).expanduser()
    stem = p.with_suffix("") if p.suffix in (".npz", ".json") else p
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A deterministic ``.npz`` (deflated, sorted names, fixed timestamps) of ``arrays``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def _as_array(value: Any) -> np.ndarray:
    """A NumPy array from an array or a torch tensor (detached, on the CPU)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


@dataclass(frozen=True)
class CheckpointFiles:
    """The two files of one checkpoint."""

    weights: Path
    config: Path

    @classmethod
    def of(cls, path: str | os.PathLike) -> CheckpointFiles:
        weights, config = resolve(path)
        return cls(weights=weights, config=config)

    def weights_files(self) -> list[Path]:
        """The files whose sha256 results.json records (none while the weights are missing)."""
        return [self.weights] if self.weights.is_file() else []


@dataclass(frozen=True)
class CheckpointFormat:
    """One kind of checkpoint.

    Attributes
    ----------
    name : str
        The ``format`` entry of the JSON, e.g. ``musebench-umt/1``; another value is refused on load.
    label : str
        What the error messages call it, e.g. ``"UMT checkpoint"``.
    hint : str
        What to do when a file is missing (the end of that one-line error).
    full_precision : tuple of str
        Name prefixes of arrays stored as they are (not cast to the storage dtype) and not
        counted as parameters, e.g. the LSTM's ``_residual_std`` or seq2seq's ``mel_`` statistics.
    """

    name: str
    label: str
    hint: str
    full_precision: tuple[str, ...] = ()

    def _counted(self, key: str) -> bool:
        return not key.startswith(self.full_precision) if self.full_precision else True

    def save(self, path: str | os.PathLike, *, arrays: Mapping[str, Any], config: dict[str, Any],
             dtype: str = "float16") -> tuple[Path, Path]:
        """Write ``<stem>.npz`` and ``<stem>.json``; the config gains ``format`` and ``weights`` entries.

        Parameters
        ----------
        path : path-like
            Either file or the stem.
        arrays : mapping of str to array or torch tensor
            The weights (a torch ``state_dict`` will do).
        config : dict
            The metadata; must be JSON.
        dtype : str
            Storage dtype of the float arrays (``float16`` or ``float32``).

        Returns
        -------
        (weights path, config path)
        """
        weights_path, config_path = resolve(path)
        cast = {}
        for key, value in arrays.items():
            a = _as_array(value)
            if np.issubdtype(a.dtype, np.floating) and self._counted(key):
                a = a.astype(dtype)
            cast[key] = a
        atomic_write_bytes(weights_path, npz_bytes(cast))
        n_params = int(sum(a.size for k, a in cast.items() if self._counted(k)))
        config = {**config, "format": self.name,
                  "weights": {"file": weights_path.name, "sha256": sha256_file(weights_path), "dtype": dtype,
                              "bytes": weights_path.stat().st_size, "n_parameters": n_params}}
        atomic_write_json(config_path, config, indent=1)
        return weights_path, config_path

    def read_config(self, path: str | os.PathLike) -> tuple[dict[str, Any], CheckpointFiles]:
        """The JSON of a checkpoint (its format checked) and its files.

        Raises
        ------
        MissingDataError
            Either file is missing.
        BadInputError
            The JSON is not of this format.
        """
        files = CheckpointFiles.of(path)
        for f in (files.config, files.weights):
            if not f.is_file():
                raise MissingDataError(f"{f}: {self.label} file not found ({self.hint})")
        config = read_json(files.config, what=f"{self.label} config")
        found = config.get("format") if isinstance(config, dict) else None
        if found != self.name:
            raise BadInputError(f"{files.config}: checkpoint format {found!r} is not {self.name!r}")
        return config, files

    def load(self, path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any], Path]:
        """Read a checkpoint; checks the format and that the weights match the config's sha256.

        Returns
        -------
        (arrays, config, weights path)

        Raises
        ------
        MissingDataError
            Either file is missing.
        BadInputError
            Unknown format, the weights' sha256 differs from the config's, or unreadable weights.
        """
        config, files = self.read_config(path)
        expected = (config.get("weights") or {}).get("sha256")
        if expected and sha256_file(files.weights) != expected:
            raise BadInputError(f"{files.weights}: sha256 differs from the one recorded in {files.config.name}")
        try:
            with np.load(files.weights, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except Exception as exc:  # zipfile / numpy format errors
            raise BadInputError(f"{files.weights}: unreadable weights ({type(exc).__name__}: {exc})") from None
        return arrays, config, files.weights
