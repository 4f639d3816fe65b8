#!/usr/bin/env python
"""Score the seq2seq transcribers on music they have never seen: public-domain pieces from
music21's bundled corpus, rendered on piano and on a small ensemble with the synth renderer.

    pip install --target /tmp/m21 --no-deps music21 chardet jsonpickle more_itertools webcolors
    PYTHONPATH=/tmp/m21 python scripts/seq2seq_unseen_music.py [--seconds 20] [--json out.json]

The pieces are fixed below (chosen before looking at any score, not tuned to): a Haydn string
quartet movement, two Bach chorales, and two folk tunes from the Essen collection. Each is cut
to its first ``--seconds`` seconds (notes starting later dropped, notes running past it cut),
rendered with :func:`musebench.datasets.synth.render_synth_notes` (TimGM6mb, as the synth
items), once with every part on piano (program 0; scored with ``seq2seq-piano`` and
basic-pitch) and once with the parts on violin, flute, nylon guitar and contrabass (programs
the synth ensemble pieces use; scored with ``mt3`` and basic-pitch). Scores are
:func:`musebench.metrics.transcription.evaluate`'s.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

PIECES = [
    ("haydn/opus1no1/movement1.mxl", "Haydn, string quartet op. 1 no. 1, i"),
    ("bach/bwv66.6.mxl", "Bach, chorale BWV 66.6"),
    ("bach/bwv269.mxl", "Bach, chorale BWV 269"),
    ("essenFolksong/altdeu10.abc", "Essen folk song (altdeu10, first tune)"),
    ("essenFolksong/ballad10.abc", "Essen folk song (ballad10, first tune)"),
]
ENSEMBLE_PROGRAMS = (40, 73, 24, 43)  # violin, flute, nylon guitar, contrabass (all in synth's pools)
SCORES = ("onset_f1", "onset_offset_f1", "onset_velocity_f1", "frame_f1", "multi_instrument_f1",
          "multi_instrument_f1_midi_class", "multi_instrument_f1_flat")


def load_piece(path: str, seconds: float):
    """The piece's notes (first ``seconds``), one program index per part."""
    from music21 import corpus

    from musebench.midi import read_midi
    from musebench.types import Notes

    score = corpus.parse(path)
    if hasattr(score, "scores"):  # an Opus (abc collections): its first tune
        score = score.scores[0]
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for k, part in enumerate(score.parts):
            mid = Path(tmp) / f"part{k}.mid"
            part.write("midi", fp=str(mid))
            notes = read_midi(mid)
            parts.append(Notes(notes.intervals, notes.pitches, notes.velocities,
                               np.full(len(notes), k, np.int64), np.zeros(len(notes), bool)))
    notes = Notes.concatenate(parts)
    keep = notes.onsets < seconds
    notes = notes.select(keep)
    iv = notes.intervals.copy()
    iv[:, 1] = np.minimum(iv[:, 1], seconds)
    return Notes(iv, notes.pitches, notes.velocities, notes.programs, notes.is_drum).sorted()


def with_programs(notes, programs):
    from musebench.types import Notes

    mapped = np.array([programs[p % len(programs)] for p in notes.programs], np.int64)
    return Notes(notes.intervals, notes.pitches, notes.velocities, mapped, notes.is_drum)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--json", help="write the scores here")
    args = p.parse_args(argv)

    from musebench.datasets.synth import render_synth_notes
    from musebench.metrics.transcription import evaluate
    from musebench.models import get_model_class

    models = {}
    for name in ("seq2seq-piano", "mt3", "basic-pitch"):
        m = get_model_class(name)(device="cpu")
        m.load()
        models[name] = m
    rows = []
    for path, title in PIECES:
        base = load_piece(path, args.seconds)
        for version, programs, names in (("piano", (0,), ("seq2seq-piano", "basic-pitch")),
                                         ("ensemble", ENSEMBLE_PROGRAMS, ("mt3", "basic-pitch"))):
            ref = with_programs(base, programs)
            audio = render_synth_notes(ref)
            for name in names:
                t0 = time.perf_counter()
                est = models[name].transcribe(audio, sample_rate=16000, context=None)
                seconds = time.perf_counter() - t0
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    scores = evaluate(ref, est)
                row = {"piece": title, "path": path, "version": version, "model": name, "n_ref": len(ref),
                       "n_est": len(est), "audio_s": round(len(audio) / 16000, 2),
                       "rtf": round(seconds / (len(audio) / 16000), 4),
                       **{k: round(float(scores[k]), 4) for k in SCORES if k in scores}}
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print("\n| piece | version | model | notes | onset F1 | onset+offset F1 | frame F1 | multi-instrument F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['piece']} | {r['version']} | {r['model']} | {r['n_ref']} | {r['onset_f1']:.3f} | "
              f"{r['onset_offset_f1']:.3f} | {r['frame_f1']:.3f} | {r['multi_instrument_f1']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
