"""Checkpoints of the seq2seq transcribers: ``<stem>.npz`` (weights) + ``<stem>.json`` (everything else).

The weights are a deterministic ``.npz`` (no pickle; float16 unless asked otherwise, see
:func:`musebench.models.generation.checkpoints.npz_bytes`); the JSON records the model name,
size, vocabulary, network config, feature settings, the training config, the fingerprint of
the training data, steps, time and the validation scores, plus the weights' sha256 (checked
on load). Shipped ones: ``benchmark/data/checkpoints/{mt3-tiny,seq2seq-piano-tiny}.{npz,json}``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ....errors import BadInputError, ConfigError, MissingDataError
from ....io_utils import atomic_write_bytes, atomic_write_json, read_json, sha256_file
from ....paths import package_data
from .vocabulary import Vocabulary

FORMAT = "musebench-seq2seq/1"


def shipped_checkpoint(model: str, size: str = "tiny") -> Path:
    """Stem of a shipped checkpoint, e.g. ``benchmark/data/checkpoints/mt3-tiny``."""
    return package_data("checkpoints", f"{model}-{size}")


def resolve(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(weights .npz, config .json)`` of a checkpoint given by either file or their stem."""
    p = Path(path).expanduser()
    stem = p.with_suffix("") if p.suffix in (".npz", ".json") else p
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def save(path: str | os.PathLike, *, state: dict[str, Any], config: dict[str, Any],
         dtype: str = "float16") -> tuple[Path, Path]:
    """Write a checkpoint from a torch ``state_dict``; returns (weights, config) paths."""
    from ...generation.checkpoints import npz_bytes

    weights_path, config_path = resolve(path)
    arrays = {}
    for name, tensor in state.items():
        a = tensor.detach().cpu().numpy()
        if np.issubdtype(a.dtype, np.floating) and not name.startswith("mel_"):
            a = a.astype(dtype)
        arrays[name] = a
    atomic_write_bytes(weights_path, npz_bytes(arrays))
    n_params = int(sum(a.size for k, a in arrays.items() if not k.startswith("mel_")))
    config = {**config, "format": FORMAT,
              "weights": {"file": weights_path.name, "sha256": sha256_file(weights_path), "dtype": dtype,
                          "bytes": weights_path.stat().st_size, "n_parameters": n_params}}
    atomic_write_json(config_path, config, indent=1)
    return weights_path, config_path


def load(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any], Path]:
    """Read a checkpoint: (arrays, config, weights path); checks format and sha256.

    Raises
    ------
    MissingDataError
        A file is missing.
    BadInputError
        Wrong format, sha256 mismatch or unreadable weights.
    """
    weights_path, config_path = resolve(path)
    for f in (config_path, weights_path):
        if not f.is_file():
            raise MissingDataError(f"{f}: seq2seq checkpoint file not found "
                                   "(give --param checkpoint=STEM, where STEM.npz and STEM.json exist)")
    config = read_json(config_path, what="seq2seq checkpoint config")
    found = config.get("format") if isinstance(config, dict) else None
    if found != FORMAT:
        raise BadInputError(f"{config_path}: checkpoint format {found!r} is not {FORMAT!r}")
    expected = config.get("weights", {}).get("sha256")
    if expected and sha256_file(weights_path) != expected:
        raise BadInputError(f"{weights_path}: sha256 differs from the one recorded in {config_path.name}")
    try:
        with np.load(weights_path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile / numpy format errors
        raise BadInputError(f"{weights_path}: unreadable weights ({type(exc).__name__}: {exc})") from None
    return arrays, config, weights_path


def build_net(config: dict[str, Any], arrays: dict[str, np.ndarray] | None = None, *, where: str = "checkpoint"):
    """(network, vocabulary) from a checkpoint config (and weights)."""
    import torch

    from .network import NetConfig, Seq2SeqNet

    try:
        vocab = Vocabulary.from_dict(config["vocabulary"])
        net_config = NetConfig.from_dict(config["network"])
    except KeyError as exc:
        raise ConfigError(f"{where}: missing {exc} in the checkpoint config") from None
    if net_config.vocab_size != vocab.size:
        raise ConfigError(f"{where}: network vocab_size {net_config.vocab_size} != vocabulary size {vocab.size}")
    net = Seq2SeqNet(net_config, shift_ids=vocab.shift_ids(), steps_per_frame=net_config.frame_stack)
    if arrays is not None:
        state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise BadInputError(f"{where}: weights do not fit the architecture (missing {list(missing)[:3]}, "
                                f"unexpected {list(unexpected)[:3]})")
    return net, vocab
