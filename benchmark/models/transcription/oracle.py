"""Reference-reading "models": an exact oracle (an upper bound, and a check of the scoring
pipeline) and a noisy oracle whose errors are known, for testing metrics and listening tests.

Noise model of :class:`NoisyOracle`, applied to the reference notes in canonical order
(:meth:`Notes.sorted`) with ``np.random.default_rng(context.seed)``, so that the output for an
item depends only on the item's seed and the parameters:

1. **Drop**: each reference note is deleted with probability ``drop_prob``.
2. **Pitch errors**: each kept note, with probability ``pitch_error_prob``, moves by one of
   -12, -1, +1, +12 semitones (equally likely); a move that would leave 0-127 goes the other way.
3. **Timing**: onsets move by ``N(0, onset_jitter)`` seconds and offsets by
   ``N(0, offset_jitter)``; onsets are clipped at 0 s and offsets to at least
   ``onset + min_duration``.
4. **Velocity**: ``N(0, velocity_jitter)`` is added, then velocities are rounded and clipped to 1-127.
5. **Spurious notes**: ``Poisson(spurious_rate * n_reference)`` notes are added; each copies the
   program, drum flag, duration and velocity of a random reference note, moves its pitch by a
   random non-zero whole number of semitones in -12..12 (kept in 0-127), and starts at a
   uniformly random time in ``[0, reference end time)``.

The output is sorted and valid (:meth:`Notes.validate`): finite, ``end > start``, in range.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError, ModelError
from ...types import Notes
from ..base import Context, TranscriptionModel

PITCH_ERRORS = np.array([-12, -1, 1, 12])


def _reference(model: TranscriptionModel, context: Context) -> Notes:
    ref = context.reference if context is not None else None
    if not isinstance(ref, Notes):
        item = context.item.id if context is not None and context.item is not None else "?"
        raise ModelError(f"{model.name}: no reference notes for item {item!r} "
                         f"(the harness passes them only to models with uses_reference = True)")
    return ref


class Oracle(TranscriptionModel):
    """Returns the reference notes unchanged: every note metric should score 1.0."""

    name: ClassVar[str] = "oracle"
    version: ClassVar[str] = "1"
    uses_reference: ClassVar[bool] = True
    description: ClassVar[str] = "Returns the reference notes unchanged (upper bound; checks the scoring)."

    def __init__(self, *, device: str = "auto"):
        super().__init__(device="cpu" if device == "auto" else device)  # weightless: no CUDA probe

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        return _reference(self, context)


def _move_pitch(pitches: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Add ``shift`` to ``pitches``; where that leaves 0-127, subtract it instead."""
    moved = pitches + shift
    outside = (moved < 0) | (moved > 127)
    moved[outside] = pitches[outside] - shift[outside]
    return np.clip(moved, 0, 127)


class NoisyOracle(TranscriptionModel):
    """The reference with seeded, documented errors (see the module docstring).

    Parameters
    ----------
    onset_jitter, offset_jitter : float
        Standard deviations (s) of the Gaussian onset and offset shifts (defaults 0.02, 0.05).
    drop_prob : float
        Probability of deleting each reference note (default 0.1).
    spurious_rate : float
        Expected number of added notes per reference note (default 0.1).
    pitch_error_prob : float
        Probability that a kept note moves by a semitone or an octave (default 0.02).
    velocity_jitter : float
        Standard deviation of the Gaussian velocity change, MIDI units (default 8).
    min_duration : float
        Shortest note the noise may produce, in seconds (default 0.01).
    """

    name: ClassVar[str] = "noisy-oracle"
    version: ClassVar[str] = "1"
    uses_reference: ClassVar[bool] = True
    description: ClassVar[str] = ("The reference with seeded errors: dropped and added notes, semitone/octave "
                                  "pitch errors, Gaussian onset/offset/velocity jitter.")

    def __init__(self, *, device: str = "auto", onset_jitter: float = 0.02, offset_jitter: float = 0.05,
                 drop_prob: float = 0.1, spurious_rate: float = 0.1, pitch_error_prob: float = 0.02,
                 velocity_jitter: float = 8.0, min_duration: float = 0.01):
        params: dict[str, Any] = dict(onset_jitter=onset_jitter, offset_jitter=offset_jitter, drop_prob=drop_prob,
                                      spurious_rate=spurious_rate, pitch_error_prob=pitch_error_prob,
                                      velocity_jitter=velocity_jitter, min_duration=min_duration)
        for key, value in params.items():
            if not np.isfinite(value) or value < 0:
                raise ConfigError(f"noisy-oracle: {key} must be a finite number >= 0, not {value!r}")
        for key in ("drop_prob", "pitch_error_prob"):
            if params[key] > 1:
                raise ConfigError(f"noisy-oracle: {key} must be in [0, 1], not {params[key]!r}")
        if min_duration <= 0:
            raise ConfigError(f"noisy-oracle: min_duration must be > 0, not {min_duration!r}")
        super().__init__(device="cpu" if device == "auto" else device, **params)
        self.onset_jitter, self.offset_jitter = float(onset_jitter), float(offset_jitter)
        self.drop_prob, self.spurious_rate = float(drop_prob), float(spurious_rate)
        self.pitch_error_prob, self.velocity_jitter = float(pitch_error_prob), float(velocity_jitter)
        self.min_duration = float(min_duration)

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        return self.perturb(_reference(self, context), seed=context.seed)

    def perturb(self, reference: Notes, *, seed: int) -> Notes:
        """Apply the noise model to ``reference`` with ``np.random.default_rng(seed)``."""
        rng = np.random.default_rng(seed)
        ref = reference.sorted()
        n = len(ref)
        if n == 0:
            return Notes.empty()
        # draw everything for every reference note, in a fixed order, so one parameter's
        # value does not change which random numbers the others get
        keep = rng.random(n) >= self.drop_prob
        wrong_pitch = rng.random(n) < self.pitch_error_prob
        shift = rng.choice(PITCH_ERRORS, size=n)
        d_on = rng.normal(0.0, 1.0, n) * self.onset_jitter
        d_off = rng.normal(0.0, 1.0, n) * self.offset_jitter
        d_vel = rng.normal(0.0, 1.0, n) * self.velocity_jitter

        pitches = ref.pitches.copy()
        pitches[wrong_pitch] = _move_pitch(pitches[wrong_pitch], shift[wrong_pitch].astype(np.float64))
        onsets = ref.onsets + d_on
        offsets = ref.offsets + d_off
        velocities = ref.velocities + d_vel
        kept = Notes(np.stack([onsets, offsets], axis=1), pitches, velocities, ref.programs, ref.is_drum).select(keep)

        n_spurious = int(rng.poisson(self.spurious_rate * n))
        template = rng.integers(0, n, size=n_spurious)
        magnitude = rng.integers(1, 13, size=n_spurious)
        sign = np.where(rng.random(n_spurious) < 0.5, -1.0, 1.0)
        starts = rng.random(n_spurious) * ref.end_time
        durations = ref.offsets[template] - ref.onsets[template]
        spurious = Notes(np.stack([starts, starts + durations], axis=1),
                         _move_pitch(ref.pitches[template].copy(), sign * magnitude),
                         ref.velocities[template], ref.programs[template], ref.is_drum[template])

        out = Notes.concatenate([kept, spurious])
        on = np.maximum(out.onsets, 0.0)
        off = np.maximum(out.offsets, on + self.min_duration)
        vel = np.clip(np.round(out.velocities), 1, 127)
        return Notes(np.stack([on, off], axis=1), out.pitches, vel, out.programs, out.is_drum).sorted().validate(
            name=self.name)
