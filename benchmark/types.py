"""The data model: notes with their units, and dataset items.

Units are part of the data (as in mirdata): note times are in seconds, pitches are MIDI
note numbers (float, so that pitch-bent or tuned notes keep their cents), velocities are
MIDI velocities 0-127, programs are General MIDI program numbers 0-127.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import numpy as np

from .errors import BadInputError

TIME_UNIT = "s"
PITCH_UNIT = "midi"


@dataclass(frozen=True)
class Notes:
    """A set of notes, column-oriented.

    Attributes
    ----------
    intervals : np.ndarray, shape=(n, 2), float64
        Onset and offset times in seconds.
    pitches : np.ndarray, shape=(n,), float64
        MIDI note numbers.
    velocities : np.ndarray, shape=(n,), float64
        MIDI velocities (1-127); 0 is allowed for "unknown" only when the whole set is.
    programs : np.ndarray, shape=(n,), int64
        General MIDI programs (0-127).
    is_drum : np.ndarray, shape=(n,), bool
        True for notes on a drum track (General MIDI channel 10).
    """

    intervals: np.ndarray
    pitches: np.ndarray
    velocities: np.ndarray
    programs: np.ndarray
    is_drum: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.pitches)
        object.__setattr__(self, "intervals", np.asarray(self.intervals, dtype=np.float64).reshape(n, 2))
        object.__setattr__(self, "pitches", np.asarray(self.pitches, dtype=np.float64).reshape(n))
        object.__setattr__(self, "velocities", np.asarray(self.velocities, dtype=np.float64).reshape(n))
        object.__setattr__(self, "programs", np.asarray(self.programs, dtype=np.int64).reshape(n))
        object.__setattr__(self, "is_drum", np.asarray(self.is_drum, dtype=bool).reshape(n))

    @classmethod
    def empty(cls) -> Notes:
        return cls(np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, bool))

    @classmethod
    def from_arrays(
        cls,
        *,
        intervals,
        pitches,
        velocities=None,
        programs=None,
        is_drum=None,
    ) -> Notes:
        """Build notes; missing columns default to velocity 100, program 0, not drums."""
        pitches = np.asarray(pitches, dtype=np.float64).reshape(-1)
        n = len(pitches)
        return cls(
            intervals=np.asarray(intervals, dtype=np.float64).reshape(n, 2),
            pitches=pitches,
            velocities=np.full(n, 100.0) if velocities is None else velocities,
            programs=np.zeros(n, np.int64) if programs is None else np.broadcast_to(programs, (n,)),
            is_drum=np.zeros(n, bool) if is_drum is None else np.broadcast_to(is_drum, (n,)),
        )

    def __len__(self) -> int:
        return len(self.pitches)

    def select(self, mask: np.ndarray) -> Notes:
        """Return the notes where ``mask`` (boolean or index array) selects."""
        return Notes(self.intervals[mask], self.pitches[mask], self.velocities[mask],
                     self.programs[mask], self.is_drum[mask])

    def sorted(self) -> Notes:
        """Notes ordered by (onset, pitch, offset, program, drum flag): a canonical order."""
        order = np.lexsort((self.is_drum, self.programs, self.intervals[:, 1], self.pitches, self.intervals[:, 0]))
        return self.select(order)

    @staticmethod
    def concatenate(parts: list[Notes]) -> Notes:
        if not parts:
            return Notes.empty()
        return Notes(
            np.concatenate([p.intervals for p in parts]),
            np.concatenate([p.pitches for p in parts]),
            np.concatenate([p.velocities for p in parts]),
            np.concatenate([p.programs for p in parts]),
            np.concatenate([p.is_drum for p in parts]),
        )

    @property
    def onsets(self) -> np.ndarray:
        return self.intervals[:, 0]

    @property
    def offsets(self) -> np.ndarray:
        return self.intervals[:, 1]

    @property
    def end_time(self) -> float:
        return float(self.intervals[:, 1].max()) if len(self) else 0.0

    def validate(self, *, name: str = "notes") -> Notes:
        """Raise :class:`BadInputError` naming ``name`` when the notes are malformed.

        Checks finite values, ``end > start`` for every note, non-negative onsets, MIDI
        pitch range 0-127, velocities 0-127 and programs 0-127.
        """
        if len(self) == 0:
            return self
        if not np.all(np.isfinite(self.intervals)):
            raise BadInputError(f"{name}: note times contain NaN or inf")
        if not np.all(np.isfinite(self.pitches)):
            raise BadInputError(f"{name}: note pitches contain NaN or inf")
        if np.any(self.intervals[:, 0] < 0):
            i = int(np.argmax(self.intervals[:, 0] < 0))
            raise BadInputError(f"{name}: note {i} starts before 0 s ({self.intervals[i, 0]:.6g} s)")
        bad = self.intervals[:, 1] <= self.intervals[:, 0]
        if np.any(bad):
            i = int(np.argmax(bad))
            raise BadInputError(
                f"{name}: note {i} (pitch {self.pitches[i]:g}) has end <= start "
                f"({self.intervals[i, 1]:.6g} s <= {self.intervals[i, 0]:.6g} s)"
            )
        if np.any((self.pitches < 0) | (self.pitches > 127)):
            raise BadInputError(f"{name}: note pitches outside the MIDI range 0-127")
        if np.any((self.velocities < 0) | (self.velocities > 127)) or not np.all(np.isfinite(self.velocities)):
            raise BadInputError(f"{name}: note velocities outside 0-127")
        if np.any((self.programs < 0) | (self.programs > 127)):
            raise BadInputError(f"{name}: programs outside 0-127")
        return self


@dataclass(frozen=True)
class Item:
    """One example of a dataset split.

    Attributes
    ----------
    id : str
        Unique within the dataset; used for file names, so only ``[A-Za-z0-9._-]``.
    dataset : str
        Registry name of the dataset the item belongs to.
    audio_path : Path or None
        The input audio (the mix, for multi-instrument data).
    files : Mapping[str, Path]
        Other files of the item by role ("midi", "jams", "reference_audio", ...).
    metadata : Mapping[str, Any]
        Dataset-specific facts (duration, programs, composer, ...); JSON-serialisable.
    """

    id: str
    dataset: str
    audio_path: Path | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
