"""Training reference models (``musebench train``).

Only the seed LSTM generators are trained here (:mod:`musebench.training.fft_lstm`): small
networks that train on the synthetic train split on a CPU in minutes, or on a GPU when one is
visible. Their shipped checkpoints in ``benchmark/data/checkpoints/`` were made with
``musebench train <model> --output benchmark/data/checkpoints`` and record their training
config, timing and data fingerprint.
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
