"""Training reference models (``musebench train``).

Only the seed LSTM generators are trained here (:mod:`benchmark.training.fft_lstm`): small
networks that train on the synthetic train split on a CPU in minutes, or on a GPU when one is
visible. Their shipped checkpoints in ``benchmark/data/checkpoints/`` were made with
``musebench train <model> --output benchmark/data/checkpoints`` and record their training
config, timing and data fingerprint.
"""
from __future__ import annotations

from .fft_lstm import TrainConfig, TrainResult, load_frames, train

__all__ = ["TrainConfig", "TrainResult", "load_frames", "train"]
