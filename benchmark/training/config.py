"""Settings of a training run, kept apart from the training code so that the command line can
read their defaults without importing NumPy or the models."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError


@dataclass
class TrainConfig:
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
    epochs: int = 150
    batch_size: int = 16
    seq_frames: int = 96
    hidden_size: int = 128
    learning_rate: float = 1e-3
    grad_clip: float = 1.0
    input_noise: float = 0.05
    free_run_frames: int = 16
    conv_kernel: int = 4
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    dataset: str = "synth"
    variant: str = "piano"
    split: str = "train"
    validation_split: str | None = "validation"
    max_steps: int | None = None
    dtype: str = "float16"
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        from ..models.generation.lstm import ARCHITECTURE_MODELS

        if self.model not in ARCHITECTURE_MODELS:
            from ..errors import UnknownNameError

            raise UnknownNameError("trainable generation model", self.model, ARCHITECTURE_MODELS)
        for name in ("epochs", "batch_size", "seq_frames", "hidden_size", "conv_kernel", "threads"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"train {self.model}: {name} must be >= 1, not {getattr(self, name)}")
        if self.learning_rate <= 0 or self.grad_clip <= 0 or self.input_noise < 0:
            raise ConfigError(f"train {self.model}: learning_rate and grad_clip must be > 0, input_noise >= 0")
        if not 0 <= self.free_run_frames < self.seq_frames:
            raise ConfigError(f"train {self.model}: free_run_frames must be in [0, seq_frames), "
                              f"not {self.free_run_frames}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"train {self.model}: max_steps must be >= 1, not {self.max_steps}")
        if self.dtype not in ("float16", "float32"):
            raise ConfigError(f"train {self.model}: dtype must be float16 or float32, not {self.dtype!r}")
