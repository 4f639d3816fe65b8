"""Training the seq2seq transcribers (``musebench train mt3`` / ``musebench train seq2seq-piano``).

This module holds only the settings (no NumPy/torch imports, so that ``musebench --help``
stays fast); the training loop is :mod:`musebench.training.seq2seq.loop` and the data
:mod:`musebench.training.seq2seq.data`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ...errors import ConfigError

#: model name -> (synth variant, vocabulary kind)
MODELS: dict[str, tuple[str, str]] = {"mt3": ("ensemble", "mt3"), "seq2seq-piano": ("piano", "piano")}
SIZES = ("tiny", "small")


@dataclass
class Seq2SeqTrainConfig:
    """Settings of one seq2seq training run (recorded in the checkpoint).

    Attributes
    ----------
    model : {"mt3", "seq2seq-piano"}
    size : {"tiny", "small"}
        Network shape (:data:`musebench.models.transcription.seq2seq.network.SIZES`).
    steps : int
        Optimizer steps in total (a resumed run continues to this many).
    batch_size : int
        Segments per step.
    learning_rate, warmup_steps, final_lr_fraction : float, int, float
        AdamW peak rate, linear warm-up, then cosine decay to ``final_lr_fraction`` of the peak.
    weight_decay, grad_clip, label_smoothing : float
    segment_steps : int
        Segment length in 10-ms steps (200 = 2 s; MT3: 256 frames of 8 ms = 2.048 s).
    num_velocity_bins : int
        Velocity bins of the piano vocabulary (Hawthorne et al.: 127).
    pool_pieces, refresh_pieces : int
        Rendered pieces kept in memory, and how many are replaced by fresh ones every step.
    extra_pieces : int
        How many pieces beyond the synth train split may be generated (seed range
        ``seq2seq-extra/0..extra_pieces-1``; checked disjoint from validation and test).
    validate_every, checkpoint_every : int
        Steps between validation runs / resumable checkpoints.
    validation_items : int
        Validation pieces transcribed each time (from the synth validation split).
    gain_db : float
        Random gain of +-gain_db dB on training segments.
    max_minutes : float or None
        Stop after this many minutes of training time (validation excluded); the learning-rate
        schedule then follows whichever of steps and time runs out first.
    precision : {"bf16", "fp32"}
        ``bf16``: forward and backward under bfloat16 autocast (float32 master weights; about
        1.5x faster on a CPU with AVX512-BF16, measured here); ``fp32``: plain float32.
    seed, threads, device : int, int, str
    init_from : str or None
        Start from this checkpoint's weights where the shapes fit (e.g. mt3 from the piano model).
    """

    model: str = "seq2seq-piano"
    size: str = "tiny"
    steps: int = 4000
    batch_size: int = 32
    learning_rate: float = 1.5e-3
    warmup_steps: int = 200
    final_lr_fraction: float = 0.05
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    label_smoothing: float = 0.0
    segment_steps: int = 200
    num_velocity_bins: int = 32
    pool_pieces: int = 256
    refresh_pieces: int = 1
    extra_pieces: int = 200000
    validate_every: int = 250
    checkpoint_every: int = 50
    validation_items: int = 6
    gain_db: float = 6.0
    max_minutes: float | None = None
    precision: str = "bf16"
    seed: int = 0
    threads: int = 1
    device: str = "auto"
    init_from: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def variant(self) -> str:
        return MODELS[self.model][0]

    @property
    def kind(self) -> str:
        return MODELS[self.model][1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self) -> None:
        if self.model not in MODELS:
            from ...errors import UnknownNameError

            raise UnknownNameError("seq2seq model", self.model, MODELS)
        if self.size not in SIZES:
            raise ConfigError(f"train {self.model}: size must be one of {', '.join(SIZES)}, not {self.size!r}")
        for name in ("steps", "batch_size", "segment_steps", "num_velocity_bins", "pool_pieces", "validate_every",
                     "checkpoint_every", "threads", "extra_pieces"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"train {self.model}: {name} must be >= 1, not {getattr(self, name)}")
        if self.learning_rate <= 0 or self.grad_clip <= 0 or not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"train {self.model}: learning_rate and grad_clip must be > 0, label_smoothing in [0, 1)")
        if self.precision not in ("bf16", "fp32"):
            raise ConfigError(f"train {self.model}: precision must be bf16 or fp32, not {self.precision!r}")
        if self.refresh_pieces < 0 or self.validation_items < 0 or self.warmup_steps < 0:
            raise ConfigError(f"train {self.model}: refresh_pieces, validation_items, warmup_steps must be >= 0")
