"""Training reference models (``musebench train``).

- the seed LSTM generators: settings :class:`TrainConfig` (:mod:`musebench.training.config`),
  loop :mod:`musebench.training.fft_lstm`;
- the seq2seq transcribers ``mt3`` and ``seq2seq-piano``: :mod:`musebench.training.seq2seq`;
- the Universal Music Translation Network ``umt``: :mod:`musebench.training.umt`.

Each run's settings are a dataclass checked by the one validator in
:mod:`musebench.training.settings`; checkpoints are written in the format of
:mod:`musebench.models.checkpoints`. The shipped checkpoints in ``benchmark/data/checkpoints/``
were made with ``musebench train <model> --output benchmark/data/checkpoints`` and record their
training config, timing and data fingerprint.
"""
from __future__ import annotations

from typing import Any

from .config import TrainConfig

__all__ = ["TrainConfig", "TrainResult", "load_frames", "train"]


def __getattr__(name: str) -> Any:  # the training code (NumPy, torch) only when it is used
    if name in ("TrainResult", "load_frames", "train"):
        from . import fft_lstm

        return getattr(fft_lstm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
