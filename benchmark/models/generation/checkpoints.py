"""Checkpoints of the seed LSTM generators: ``<name>.npz`` (weights) + ``<name>.json`` (config).

The weights file is a NumPy ``.npz`` written with fixed zip timestamps, so that the same
weights always give the same bytes (and sha256); arrays are float16 unless asked otherwise,
and loading needs no pickle. The JSON holds everything needed to rebuild and reproduce the
model: architecture and sizes, the FFT framing, the feature scale, the training settings,
the training time, and the fingerprint of the data it was trained on. Shipped checkpoints
live in ``benchmark/data/checkpoints/``.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import BadInputError, MissingDataError
from ...io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_file
from ...paths import package_data

FORMAT = "musebench-fft-lstm/1"


def shipped_dir() -> Path:
    """Where the shipped checkpoints live (``benchmark/data/checkpoints``)."""
    return package_data("checkpoints")


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
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


def resolve(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(weights .npz, config .json)`` for a checkpoint given by either file or their common stem."""
    p = Path(path).expanduser()
    stem = p.with_suffix("") if p.suffix in (".npz", ".json") else p
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def save_checkpoint(path: str | os.PathLike, *, arrays: dict[str, np.ndarray], config: dict[str, Any],
                    dtype: str = "float16") -> tuple[Path, Path]:
    """Write ``<stem>.npz`` and ``<stem>.json``; the config gains a ``weights`` entry (file, sha256, dtype).

    Returns
    -------
    (weights path, config path)
    """
    weights_path, config_path = resolve(path)
    cast = {k: (v.astype(dtype) if np.issubdtype(v.dtype, np.floating) and not k.startswith("_") else v)
            for k, v in arrays.items()}
    atomic_write_bytes(weights_path, npz_bytes(cast))
    n_params = int(sum(v.size for k, v in cast.items() if not k.startswith("_")))
    config = {**config, "format": FORMAT,
              "weights": {"file": weights_path.name, "sha256": sha256_file(weights_path), "dtype": dtype,
                          "bytes": weights_path.stat().st_size, "n_parameters": n_params}}
    atomic_write_json(config_path, config, indent=1)
    return weights_path, config_path


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any], Path]:
    """Read a checkpoint; checks the format and that the weights match the config's sha256.

    Returns
    -------
    (arrays, config, weights path)

    Raises
    ------
    MissingDataError
        Either file is missing.
    BadInputError
        Unknown format, or the weights' sha256 differs from the config's.
    """
    weights_path, config_path = resolve(path)
    for f in (weights_path, config_path):
        if not f.is_file():
            raise MissingDataError(f"{f}: checkpoint file not found (train one with `musebench train`)")
    config = read_json(config_path, what="checkpoint config")
    found = config.get("format") if isinstance(config, dict) else None
    if found != FORMAT:
        raise BadInputError(f"{config_path}: checkpoint format {found!r} is not {FORMAT!r}")
    expected = config.get("weights", {}).get("sha256")
    if expected and sha256_file(weights_path) != expected:
        raise BadInputError(f"{weights_path}: sha256 differs from the one recorded in {config_path.name}")
    with np.load(weights_path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, config, weights_path
