"""MIDI files <-> :class:`~benchmark.types.Notes`.

Reading uses pretty_midi (which resolves tempo maps to seconds). Sustain-pedal extension of
offsets follows the convention of MAESTRO/MT3 (``note_seq.apply_sustain_control_changes``): while
CC64 >= 64 on a channel, a note released by its key lasts until the pedal is released, and a
re-struck pitch ends the sounding copy of that pitch.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .errors import BadInputError, MissingDataError
from .types import Notes

SUSTAIN_CC = 64


def _load_pretty_midi(path: str | os.PathLike):
    import pretty_midi

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: MIDI file not found")
    try:
        return pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido/pretty_midi raise many types for corrupt files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInputError(f"{path}: not a readable MIDI file ({msg})") from None


def _extend_with_pedal(notes: list[tuple[float, float, int, int]], pedal: list[tuple[float, int]]) -> list[tuple[float, float, int, int]]:
    """Extend note offsets of one instrument by its sustain pedal (CC64 >= 64 is down)."""
    if not pedal:
        return notes
    pedal = sorted(pedal, key=lambda x: x[0])
    # pedal-down intervals
    downs: list[tuple[float, float]] = []
    start = None
    for t, value in pedal:
        if value >= 64 and start is None:
            start = t
        elif value < 64 and start is not None:
            downs.append((start, t))
            start = None
    if start is not None:
        downs.append((start, float("inf")))
    if not downs:
        return notes
    events = sorted(notes, key=lambda n: (n[0], n[2]))
    out = []
    for i, (on, off, pitch, vel) in enumerate(events):
        new_off = off
        for d0, d1 in downs:
            if d0 <= off < d1:
                new_off = d1
                break
        if new_off != off:
            # a re-strike of the same pitch ends the sustained copy
            for on2, _off2, pitch2, _v in events[i + 1:]:
                if pitch2 == pitch and on2 > on and on2 < new_off:
                    new_off = on2
                    break
        out.append((on, max(new_off, off), pitch, vel))
    end_of_track = max((n[1] for n in notes), default=0.0)
    return [(on, off if np.isfinite(off) else max(end_of_track, on + 1e-3), p, v) for on, off, p, v in out]


def read_midi(path: str | os.PathLike, *, sustain_pedal: bool = False, drop_zero_length: bool = True) -> Notes:
    """Read a MIDI file into notes (all instruments, programs and drum flags kept).

    Parameters
    ----------
    path : path-like
    sustain_pedal : bool
        Extend note offsets while the sustain pedal (CC64) is held.
    drop_zero_length : bool
        Drop notes whose end <= start (they exist in the wild; mir_eval rejects them).
    """
    pm = _load_pretty_midi(path)
    parts = []
    for inst in pm.instruments:
        raw = [(n.start, n.end, n.pitch, n.velocity) for n in inst.notes]
        if sustain_pedal and not inst.is_drum:
            pedal = [(cc.time, cc.value) for cc in inst.control_changes if cc.number == SUSTAIN_CC]
            raw = _extend_with_pedal(raw, pedal)
        if not raw:
            continue
        arr = np.array(raw, dtype=np.float64)
        parts.append(Notes(arr[:, :2], arr[:, 2], arr[:, 3], np.full(len(arr), inst.program, np.int64),
                           np.full(len(arr), inst.is_drum, bool)))
    notes = Notes.concatenate(parts)
    if drop_zero_length and len(notes):
        notes = notes.select(notes.intervals[:, 1] > notes.intervals[:, 0])
    return notes.sorted()


def notes_to_pretty_midi(notes: Notes, *, resolution: int = 480):
    """Build a pretty_midi object with one instrument per (program, is_drum)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(resolution=resolution, initial_tempo=120.0)
    keys = sorted({(int(p), bool(d)) for p, d in zip(notes.programs, notes.is_drum)}, key=lambda k: (k[1], k[0]))
    for program, is_drum in keys:
        inst = pretty_midi.Instrument(program=program, is_drum=is_drum,
                                      name="drums" if is_drum else pretty_midi.program_to_instrument_name(program))
        mask = (notes.programs == program) & (notes.is_drum == is_drum)
        sub = notes.select(mask).sorted()
        for (on, off), pitch, vel in zip(sub.intervals, sub.pitches, sub.velocities):
            inst.notes.append(pretty_midi.Note(velocity=int(np.clip(round(vel), 1, 127)), pitch=int(round(pitch)),
                                               start=float(on), end=float(off)))
        pm.instruments.append(inst)
    return pm


def midi_bytes(notes: Notes, *, name: str = "notes") -> bytes:
    """Serialise notes to Standard MIDI File bytes (deterministic for the same notes).

    Raises :class:`BadInputError` naming ``name`` for malformed notes (e.g. end <= start).
    """
    notes.validate(name=name)
    pm = notes_to_pretty_midi(notes)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def write_midi(notes: Notes, path: str | os.PathLike) -> Path:
    """Write notes to a MIDI file atomically."""
    from .io_utils import atomic_write_bytes

    return atomic_write_bytes(path, midi_bytes(notes, name=str(path)))
