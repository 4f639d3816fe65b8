"""Training the Universal Music Translation Network (``musebench train umt``).

This module holds the settings (no NumPy or torch imports, so that ``musebench --help`` stays
fast); the data is :mod:`musebench.training.umt.data`, the loop :mod:`musebench.training.umt.loop`
and the command :mod:`musebench.training.umt.command`.

Training material (paper Sec. 4.1 trains on one set of recordings per domain; here the domains
are General MIDI renderings): the *train* pieces of the synth generator's ``piano`` variant
(:func:`musebench.datasets.synth.compose`, split ``train``, indices ``0 .. pieces-1``; the
published train split is 32 pieces), each read back from its MIDI bytes and rendered with every
training domain's program exactly as ``synth-pairs`` renders (TimGM6mb, 16 kHz, 16-bit PCM),
then resampled to the network's rate. A piece's seed is a hash of ``(generator version,
variant, split, index)``, so a train seed can never be a validation or test seed;
:func:`training_pieces` checks this, and that no train score equals a validation or test
score, before anything is trained. The clarinet (GM 71, the unseen domain of
``synth-unseen-clarinet-to-piano``) is refused as a training domain.

Each step draws ``batch_per_domain`` random segments of ``segment_seconds`` from every domain.
The encoder reads the segment after the paper's local pitch augmentation (Sec. 3.2: a random
part of 0.25-0.5 s is pitch-shifted by a random amount in [-0.5, 0.5] semitones, with librosa):
for speed every clip is pitch-shifted once per ``aug_versions`` random amounts up front, and
the part is spliced in from one of these. Losses (Sec. 3.3): the decoders' softmax cross
entropy on the clean 8-bit mu-law segment (teacher forcing), plus the domain classifier's cross
entropy on the latent, which reaches the encoder through a gradient reversal scaled by
``lambda_confusion`` (1e-2 as in the paper). Adam, gradient-norm clipping, and an exponential
learning-rate decay per 1000 steps.

Resumable and seeded: every ``checkpoint_every`` steps the full state (float32 weights,
optimizer, random generators, loss history) goes to ``<output>/umt-<size>.state.pt`` and the
inference checkpoint to ``<output>/umt-<size>.npz`` + ``.json``; a rerun with the same settings
continues from the state file (``restart=True`` starts over).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from ...errors import ConfigError
from ..settings import TrainSettings, setting

if TYPE_CHECKING:
    from ...models.translation.umt_networks import UMTConfig

DEFAULT_DOMAINS = ("piano", "violin", "flute", "strings")


@dataclass
class UMTTrainConfig(TrainSettings):
    """Settings of one UMT training run (all recorded in the checkpoint).

    Attributes
    ----------
    size : str
        ``tiny`` (CPU) or ``paper`` (the paper's sizes; a GPU's job).
    domains : list of str
        Synthetic training domains (their GM programs render the train pieces).
    steps : int
        Total optimizer steps (a resumed run continues up to this many).
    batch_per_domain : int
        Segments per domain per step.
    segment_seconds : float
        Length of a training segment.
    learning_rate, lr_decay, grad_clip : float
        Adam step, its decay factor per 1000 steps, gradient-norm clip.
    lambda_confusion : float
        Weight of the domain-confusion term (gradient reversal scale), paper: 1e-2.
    input_noise : float
        Standard deviation, in mu-law classes, of Gaussian noise added to the decoders'
        teacher-forced *input* samples (the targets stay clean); 0 = the paper's plain teacher forcing.
    augment : bool
        Local pitch augmentation of the encoder's input (paper Sec. 3.2).
    aug_versions, aug_semitones, aug_min_seconds, aug_max_seconds
        Pitch-shifted versions per clip, the largest shift, and the length range of the shifted part.
    pieces : int
        Train pieces (indices ``0 .. pieces-1`` of the synth train split; 32 = the published split).
    seed, device, threads, checkpoint_every, dtype
        Seed of everything; torch device; CPU threads; steps between checkpoints; weight storage dtype.
    init_from : str or None
        Start from this UMT checkpoint's weights (its network must equal this run's); the new
        checkpoint records it as ``training.parent``. Steps and the learning-rate schedule start at 0.
    """

    COMMAND: ClassVar[str] = "train umt"

    size: str = "tiny"
    domains: list[str] = field(default_factory=lambda: list(DEFAULT_DOMAINS))
    steps: int = setting(4000, min=1)
    batch_per_domain: int = setting(2, min=1)
    segment_seconds: float = setting(0.5, above=0)
    learning_rate: float = setting(1e-3, above=0)
    lr_decay: float = setting(0.98, above=0, max=1)
    grad_clip: float = setting(1.0, above=0)
    lambda_confusion: float = setting(1e-2, min=0)
    input_noise: float = setting(0.0, min=0)
    augment: bool = True
    aug_versions: int = setting(4, min=1)
    aug_semitones: float = setting(0.5, min=0)
    aug_min_seconds: float = 0.25
    aug_max_seconds: float = 0.5
    pieces: int = setting(32, min=1)
    seed: int = 0
    device: str = "auto"
    threads: int = setting(1, min=1)
    checkpoint_every: int = setting(200, min=1)
    dtype: str = setting("float16", choices=("float16", "float32"))
    init_from: str | None = None

    def check(self) -> None:
        """Check every setting (:mod:`musebench.training.settings`), the size and the domains.

        Raises
        ------
        ConfigError
            One line, e.g. ``train umt: domain 'clarinet' (GM 71) is the unseen domain of ...``.
        """
        # imported here, not at the top: the command line reads this module's defaults without
        # loading the datasets, NumPy or torch
        from ...datasets.synth import UNSEEN_PROGRAMS
        from ...datasets.translation_domains import get_domain
        from ...models.translation.umt_networks import SIZES

        self.check_settings()
        if self.size not in SIZES:
            raise ConfigError(f"train umt: size must be one of {', '.join(SIZES)}, not {self.size!r}")
        if not self.domains or len(set(self.domains)) != len(self.domains):
            raise ConfigError(f"train umt: need distinct domains, got {self.domains}")
        if len(self.domains) < 2:
            raise ConfigError("train umt: domain confusion needs at least 2 domains")
        for name in self.domains:
            domain = get_domain(name)
            if not domain.synthetic:
                raise ConfigError(f"train umt: domain {name!r} is not synthetic (train on: piano, violin, flute, "
                                  "strings)")
            if domain.program in UNSEEN_PROGRAMS:
                raise ConfigError(f"train umt: domain {name!r} (GM {domain.program}) is the unseen domain of "
                                  "synth-unseen-clarinet-to-piano; training on it would make that task seen")
        if not 0 < self.aug_min_seconds <= self.aug_max_seconds < self.segment_seconds + 1e-9:
            raise ConfigError("train umt: need 0 < aug_min_seconds <= aug_max_seconds <= segment_seconds")

    def network(self) -> UMTConfig:
        """The network sizes of ``size`` for these domains."""
        from ...models.translation.umt_networks import SIZES

        return SIZES[self.size](list(self.domains))
