"""Training the seq2seq transcribers (``musebench train mt3`` / ``musebench train seq2seq-piano``).

This module holds only the settings (no NumPy/torch imports, so that ``musebench --help``
stays fast); the training loop is :mod:`musebench.training.seq2seq.loop` and the data
:mod:`musebench.training.seq2seq.data`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ...errors import UnknownNameError
from ..settings import TrainSettings, setting

#: model name -> (synth variant, vocabulary kind)
MODELS: dict[str, tuple[str, str]] = {"mt3": ("ensemble", "mt3"), "seq2seq-piano": ("piano", "piano")}
SIZES = ("tiny", "small")


@dataclass
class Seq2SeqTrainConfig(TrainSettings):
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

    EXTRA_KEYS: ClassVar[tuple[str, ...]] = ("network", "validation_max_tokens")

    model: str = "seq2seq-piano"
    size: str = setting("tiny", choices=SIZES)
    steps: int = setting(4000, min=1)
    batch_size: int = setting(32, min=1)
    learning_rate: float = setting(1.5e-3, above=0)
    warmup_steps: int = setting(200, min=0)
    final_lr_fraction: float = setting(0.05, min=0, max=1)
    weight_decay: float = setting(0.01, min=0)
    grad_clip: float = setting(1.0, above=0)
    label_smoothing: float = setting(0.0, min=0, below=1)
    segment_steps: int = setting(200, min=1)
    num_velocity_bins: int = setting(32, min=1)
    pool_pieces: int = setting(256, min=1)
    refresh_pieces: int = setting(1, min=0)
    extra_pieces: int = setting(200000, min=1)
    validate_every: int = setting(250, min=1)
    checkpoint_every: int = setting(50, min=1)
    validation_items: int = setting(6, min=0)
    gain_db: float = setting(6.0, min=0)
    max_minutes: float | None = setting(None, min=0)
    precision: str = setting("bf16", choices=("bf16", "fp32"))
    seed: int = 0
    threads: int = setting(1, min=1)
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
        """Check every setting (:mod:`musebench.training.settings`); the keys of ``extra["network"]``
        are checked against the network's config when it is built (:func:`.loop.make_net_config`)."""
        if self.model not in MODELS:
            raise UnknownNameError("seq2seq model", self.model, MODELS)
        self.check_settings()
