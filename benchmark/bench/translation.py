"""The long translation triple and the timed metric suite, shared by ``musebench bench``'s
``dtw`` section and ``scripts/bench_translation.py``.

The triple is rendered from synth scores laid end to end (piano source, violin reference, and
as "output" the same notes 3 % slower on viola). The suite is the whole per-item translation
scoring (features of the three signals, two fastdtw alignments, five correlations) plus the
clip embeddings of ``target_domain_distance``; the judge transcription behind
``pitch_accuracy`` is left out.
"""
from __future__ import annotations

import numpy as np

from ..metrics import translation as tm
from ..types import Notes

__all__ = ["SR", "long_notes", "render_triple", "suite"]

SR = 16000


def long_notes(minutes: float) -> Notes:
    """Synth piano scores (training split) laid end to end, 0.3 s apart, ``minutes`` long."""
    from ..datasets import synth

    parts, offset, index = [], 0.0, 0
    while offset < minutes * 60:
        notes = synth.compose("piano", "train", index % synth.SPLIT_SIZES["train"]).notes
        parts.append(Notes(notes.intervals + offset, notes.pitches, notes.velocities, notes.programs, notes.is_drum))
        offset += notes.end_time + 0.3
        index += 1
    full = Notes.concatenate(parts)
    keep = full.intervals[:, 1] <= minutes * 60 - 1.0
    return full.select(keep)


def render_triple(minutes: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source on piano, output: the notes 3 % slower on viola, reference on violin), each
    ``minutes`` long at :data:`SR`, float32, peak 0.89. Needs ``tinysoundfont``."""
    from ..render import render_notes

    notes = long_notes(minutes)
    n = int(minutes * 60 * SR)

    def fit(audio: np.ndarray) -> np.ndarray:
        out = np.zeros(n, np.float32)
        out[:min(n, len(audio))] = audio[:n]
        return out / max(1e-9, float(np.abs(out).max())) * 0.89

    slower = Notes(notes.intervals * 1.03, notes.pitches, notes.velocities, notes.programs, notes.is_drum)
    return (fit(render_notes(notes, sample_rate=SR, program_override=0)),
            fit(render_notes(slower, sample_rate=SR, program_override=41)),
            fit(render_notes(notes, sample_rate=SR, program_override=40)))


def suite(source: np.ndarray, output: np.ndarray, reference: np.ndarray, *, radius: int,
          config: tm.FeatureConfig | None = None) -> dict[str, float]:
    """The per-item translation scores of one triple, plus the two clip embeddings."""
    cfg = config or tm.FeatureConfig()
    src = tm.extract_features(source, sample_rate=SR, config=cfg)
    out = tm.extract_features(output, sample_rate=SR, config=cfg)
    ref = tm.extract_features(reference, sample_rate=SR, config=cfg)
    scores = tm.evaluate_features(src, out, ref, radius=radius)
    tm.clip_embedding(out)
    tm.clip_embedding(ref)
    return scores
