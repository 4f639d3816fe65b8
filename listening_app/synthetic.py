"""A small synthetic study folder (audio + manifest) for tests, demos and load tests.

Each item is a short melody. The source is the melody played with a sine timbre, the reference
the same melody with a brighter (sawtooth-like) timbre, and each condition a copy of the
reference with a condition-specific degradation of increasing strength.
"""
from __future__ import annotations

import csv
from pathlib import Path
from collections.abc import Sequence

import numpy as np


def _melody(rng: np.random.Generator, *, sample_rate: int, seconds: float, harmonics: int) -> np.ndarray:
    n = int(seconds * sample_rate)
    out = np.zeros(n)
    notes = rng.integers(57, 76, size=4)
    step = n // len(notes)
    t = np.arange(step) / sample_rate
    env = np.minimum(1.0, np.minimum(t / 0.01, (t[-1] - t + 1e-9) / 0.05))
    for k, pitch in enumerate(notes):
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, harmonics + 1) if f0 * h < sample_rate / 2)
        out[k * step:(k + 1) * step] = 0.3 * env * tone
    return out.astype(np.float32)


def make_study_folder(folder: str | Path, *, conditions: Sequence[str] = ("alpha", "beta", "gamma"),
                      n_items: int = 4, seconds: float = 1.0, sample_rate: int = 16000, seed: int = 0) -> Path:
    """Write ``n_items`` x ``len(conditions)`` WAV clips, sources, references and ``manifest.csv``.

    Returns the manifest path. Condition k gets white noise at an SNR of ``30 - 10 k`` dB, so
    their expected quality order is the order given.
    """
    from musebench.audio import write_audio

    folder = Path(folder)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_items):
        item = f"item{i:02d}"
        melody_seed = int(rng.integers(2**31))  # the same notes for source and reference
        src = _melody(np.random.default_rng(melody_seed), sample_rate=sample_rate, seconds=seconds, harmonics=1)
        ref = _melody(np.random.default_rng(melody_seed), sample_rate=sample_rate, seconds=seconds, harmonics=8)
        write_audio(folder / "sources" / f"{item}.wav", src, sample_rate)
        write_audio(folder / "references" / f"{item}.wav", ref, sample_rate)
        power = float(np.mean(ref.astype(np.float64) ** 2))
        for k, cond in enumerate(conditions):
            snr = 30.0 - 10.0 * k
            noisy = ref + rng.standard_normal(ref.shape).astype(np.float32) * np.float32(np.sqrt(power / 10 ** (snr / 10)))
            path = folder / "clips" / cond / f"{item}.wav"
            write_audio(path, np.clip(noisy, -1, 1), sample_rate)
            rows.append({"file": f"clips/{cond}/{item}.wav", "condition": cond, "item": item,
                         "source": f"sources/{item}.wav", "reference": f"references/{item}.wav"})
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return manifest
