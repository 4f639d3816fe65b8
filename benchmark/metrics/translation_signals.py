"""Seeded synthetic signals for the translation metrics: the tests (tests/metrics/), their
regression fixtures (``scripts/generate_translation_fixtures.py``) and anyone checking the
metrics on known inputs. Pure NumPy, nothing is downloaded."""
from __future__ import annotations

import numpy as np

SR = 16000


def melody(seed: int = 0, *, n_notes: int = 12, note_seconds: float = 0.35, stretch: float = 1.0,
           transpose: int = 0, harmonics: tuple[float, ...] = (1.0, 0.5, 0.3, 0.2), gain: float = 0.3) -> np.ndarray:
    """A seeded sequence of decaying harmonic tones (pure NumPy), float32 mono at 16 kHz.

    Pitches are drawn from MIDI 55-79 (plus ``transpose``); each note lasts
    ``note_seconds * stretch`` s; 0.3 s of silence follows; peak = ``gain``.
    """
    rng = np.random.default_rng(seed)
    pitches = rng.integers(55, 80, n_notes) + transpose
    dur = note_seconds * stretch
    n = int(round(dur * SR))
    t = np.arange(n) / SR
    env = np.exp(-3.0 * t / dur) * np.minimum(1.0, t / 0.01)
    out = []
    for p in pitches:
        f0 = 440.0 * 2 ** ((p - 69) / 12)
        tone = sum(a * np.sin(2 * np.pi * f0 * (k + 1) * t) for k, a in enumerate(harmonics))
        out.append(tone * env)
    audio = np.concatenate(out + [np.zeros(int(0.3 * SR))])
    return (gain * audio / np.abs(audio).max()).astype(np.float32)
