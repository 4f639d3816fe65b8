"""Settings of a training run, kept apart from the training code so that the command line can
read their defaults without importing NumPy or the models."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, UnknownNameError
from .settings import TrainSettings, setting


@dataclass
class TrainConfig(TrainSettings):
    """Settings of one training run (all recorded in the checkpoint's JSON).

    Attributes
    ----------
    model : str
        Model name = architecture (``lstm``, ``fc-lstm``, ``conv-lstm``, ``stacked-lstm``, ``bilinear-lstm``).
    epochs : int
        Passes over the training frames (see the module docstring).
    batch_size, seq_frames : int
        Sequences per batch and frames per sequence (96 frames = 1.5 s).
    hidden_size : int
        LSTM (and front-end) width.
    learning_rate, grad_clip : float
        Adam step size and the gradient-norm clip.
    input_noise : float
        Std of Gaussian noise added to the (scaled) teacher-forced input frames.
    free_run_frames : int
        The last this many frames of every training sequence are predicted from the network's
        own previous predictions (gradients flow through them), as at generation time; the
        first ``seq_frames - free_run_frames`` are teacher-forced. 0 = pure teacher forcing,
        which trains a feedback loop that drifts into a seed-independent drone.
    conv_kernel : int
        Frames seen by the ``conv-lstm`` front end.
    seed : int
    device : str
        ``auto`` (CUDA when visible), ``cpu``, ``cuda`` or ``cuda:N``.
    threads : int
        torch CPU threads while training. One is the default: these networks are small, and
        on a busy 2-core machine one thread measured 12x faster per step than two.
    dataset, variant, split, validation_split : str
        Training data (a dataset with a ``variant`` parameter, e.g. ``synth`` / ``piano``).
    max_steps : int or None
        Stop after this many steps whatever ``epochs`` says (smoke tests).
    dtype : str
        Storage dtype of the weights (``float16`` keeps checkpoints small).
    """

    model: str
    epochs: int = setting(150, min=1)
    batch_size: int = setting(16, min=1)
    seq_frames: int = setting(96, min=1)
    hidden_size: int = setting(128, min=1)
    learning_rate: float = setting(1e-3, above=0)
    grad_clip: float = setting(1.0, above=0)
    input_noise: float = setting(0.05, min=0)
    free_run_frames: int = setting(16, min=0)
    conv_kernel: int = setting(4, min=1)
    seed: int = 0
    device: str = "auto"
    threads: int = setting(1, min=1)
    dataset: str = "synth"
    variant: str = "piano"
    split: str = "train"
    validation_split: str | None = "validation"
    max_steps: int | None = setting(None, min=1)
    dtype: str = setting("float16", choices=("float16", "float32"))
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """Check every setting (:mod:`musebench.training.settings`); raises a one-line ConfigError."""
        from ..models.generation.lstm import ARCHITECTURE_MODELS

        if self.model not in ARCHITECTURE_MODELS:
            raise UnknownNameError("trainable generation model", self.model, ARCHITECTURE_MODELS)
        self.check_settings()
        if not self.free_run_frames < self.seq_frames:
            raise ConfigError(f"{self.where}: free_run_frames must be in [0, seq_frames), not {self.free_run_frames}")
