"""MIDI files <-> :class:`~musebench.types.Notes`.

Reading uses pretty_midi (which resolves tempo maps to seconds). Sustain-pedal extension of
offsets follows the convention of MAESTRO/MT3 (``note_seq.apply_sustain_control_changes``): while
CC64 >= 64 on a channel, a note released by its key lasts until the pedal is released, and a
re-struck pitch ends the sounding copy of that pitch.
"""
from __future__ import annotations

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


#: resolution and tempo of the files MuseBench writes (pretty_midi's defaults: 960 ticks per second)
RESOLUTION = 480
TEMPO_BPM = 120.0
_TICK_SCALE = 60.0 / (TEMPO_BPM * RESOLUTION)  # seconds per tick, computed as pretty_midi does
_TEMPO_US = int(6e7 / (60.0 / (_TICK_SCALE * RESOLUTION)))  # microseconds per quarter note
_CHANNELS = [c for c in range(16) if c != 9]  # melodic channels, in pretty_midi's order


def _vlq(value: int) -> bytes:
    """A MIDI variable-length quantity (big-endian 7-bit groups, high bit on all but the last)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _chunk(name: bytes, data: bytes | bytearray) -> bytes:
    return name + len(data).to_bytes(4, "big") + bytes(data)


def midi_bytes(notes: Notes, *, name: str = "notes") -> bytes:
    """Serialise notes to Standard MIDI File bytes (deterministic for the same notes).

    The bytes are those that ``notes_to_pretty_midi(notes).write(...)`` produces (pretty_midi
    writing through mido: a type-1 file, 480 ticks per beat at 120 bpm, a timing track, then
    one track per (program, drum flag) in :func:`notes_to_pretty_midi`'s order with a track
    name, a program change and note-on/note-on-velocity-0 pairs in pretty_midi's event order,
    mido's running status), written directly: ~10x faster, which matters because every
    prediction is stored this way. ``tests/test_audio_midi.py`` checks byte equality with
    pretty_midi on 1,200 seeded random note sets.

    Raises :class:`BadInputError` naming ``name`` for malformed notes (e.g. end <= start).
    """
    notes.validate(name=name)
    timing = bytearray()
    timing += b"\x00\xff\x51\x03" + _TEMPO_US.to_bytes(3, "big")  # set_tempo, tick 0
    timing += b"\x00\xff\x58\x04\x04\x02\x18\x08"  # time_signature 4/4, 24 clocks/click, 8 32nds/beat
    timing += b"\x01\xff\x2f\x00"  # end_of_track one tick later
    tracks = [_chunk(b"MTrk", timing)]
    keys = sorted({(int(p), bool(d)) for p, d in zip(notes.programs, notes.is_drum)}, key=lambda k: (k[1], k[0]))
    for index, (program, is_drum) in enumerate(keys):
        tracks.append(_chunk(b"MTrk", _instrument_track(notes, index=index, program=program, is_drum=is_drum)))
    header = _chunk(b"MThd", (1).to_bytes(2, "big") + len(tracks).to_bytes(2, "big") + RESOLUTION.to_bytes(2, "big"))
    return header + b"".join(tracks)


def _instrument_track(notes: Notes, *, index: int, program: int, is_drum: bool) -> bytearray:
    """The MTrk data of one instrument, as pretty_midi's ``write`` lays it out."""
    import pretty_midi

    sub = notes.select((notes.programs == program) & (notes.is_drum == is_drum)).sorted()
    channel = 9 if is_drum else _CHANNELS[index % len(_CHANNELS)]
    label = ("drums" if is_drum else pretty_midi.program_to_instrument_name(program)).encode("latin1")
    data = bytearray(b"\x00\xff\x03" + _vlq(len(label)) + label)  # track_name
    data += bytes((0, 0xC0 | channel, program))  # program_change at tick 0
    n = len(sub)
    # pretty_midi: tick = int(round(seconds / tick_scale)); velocity and pitch rounded half to even
    on = np.rint(sub.intervals[:, 0] / _TICK_SCALE).astype(np.int64)
    off = np.rint(sub.intervals[:, 1] / _TICK_SCALE).astype(np.int64)
    pitch = np.rint(sub.pitches).astype(np.int64)
    velocity = np.clip(np.rint(sub.velocities), 1, 127).astype(np.int64)
    # events in creation order (each note's on, then its off), sorted stably by tick and then by
    # pretty_midi's secondary key for note_on messages: pitch * 256 + velocity (0 for offs)
    ticks = np.empty(2 * n, np.int64)
    ticks[0::2], ticks[1::2] = on, off
    pitches = np.repeat(pitch, 2)
    velocities = np.zeros(2 * n, np.int64)
    velocities[0::2] = velocity
    order = np.lexsort((np.arange(2 * n), pitches * 256 + velocities, ticks))
    previous, status = 0, bytes((0x90 | channel,))
    for k, (tick, p, v) in enumerate(zip(ticks[order].tolist(), pitches[order].tolist(),
                                         velocities[order].tolist())):
        data += _vlq(tick - previous)
        if k == 0:  # mido's running status: only the first note_on carries its status byte
            data += status
        data += bytes((p, v))
        previous = tick
    data += b"\x01\xff\x2f\x00"  # end_of_track one tick after the last event
    return data


def write_midi(notes: Notes, path: str | os.PathLike) -> Path:
    """Write notes to a MIDI file atomically."""
    from .io_utils import atomic_write_bytes

    return atomic_write_bytes(path, midi_bytes(notes, name=str(path)))


# --- predictions: the MIDI file plus the exact notes -------------------------------------------

#: suffix of the exact-notes companion of a prediction MIDI file (``<id>.mid`` -> ``<id>.notes.json``)
NOTES_SUFFIX = ".notes.json"


def exact_notes_path(midi_path: str | os.PathLike) -> Path:
    """``x.mid`` -> ``x.notes.json``: where :func:`write_prediction` keeps the exact notes."""
    p = Path(midi_path)
    return p.with_name(p.stem + NOTES_SUFFIX)


def write_prediction(notes: Notes, path: str | os.PathLike) -> Path:
    """Write a prediction: the exact notes (``<stem>.notes.json``), then the MIDI file.

    A MIDI file holds times in ticks (here 1/960 s) and whole velocities, so notes read back
    from it differ from the model's by up to half a tick, enough to move a note across a
    62.5 fps frame boundary (an exact oracle scored frame F1 0.9989 on real MIDI that way). The
    JSON keeps every float exactly (``repr`` round-trips); the MIDI file is for listening and
    for other tools. The JSON is written first, so an existing MIDI file means both are there.
    """
    import json

    from .io_utils import atomic_write_text

    notes.validate(name=str(path))
    payload = {"format": "musebench-notes", "version": 1,
               "onsets": notes.intervals[:, 0].tolist(), "offsets": notes.intervals[:, 1].tolist(),
               "pitches": notes.pitches.tolist(), "velocities": notes.velocities.tolist(),
               "programs": notes.programs.tolist(), "is_drum": notes.is_drum.tolist()}
    atomic_write_text(exact_notes_path(path), json.dumps(payload, separators=(",", ":")))
    return write_midi(notes, path)


def read_exact_notes(path: str | os.PathLike) -> Notes:
    """The notes of a ``.notes.json`` file written by :func:`write_prediction`."""
    from .io_utils import read_json

    data = read_json(path, what="exact notes file")
    if not isinstance(data, dict) or data.get("format") != "musebench-notes":
        raise BadInputError(f"{path}: not a MuseBench notes file (format 'musebench-notes')")
    try:
        notes = Notes(np.stack([np.asarray(data["onsets"], np.float64), np.asarray(data["offsets"], np.float64)],
                               axis=1).reshape(-1, 2),
                      np.asarray(data["pitches"], np.float64), np.asarray(data["velocities"], np.float64),
                      np.asarray(data["programs"], np.int64), np.asarray(data["is_drum"], bool))
    except (KeyError, ValueError, TypeError) as exc:
        raise BadInputError(f"{path}: malformed notes file ({exc})") from None
    return notes.validate(name=str(path))


def read_prediction(path: str | os.PathLike, *, sustain_pedal: bool = False) -> Notes:
    """The notes of a prediction file: exactly as the model gave them when ``<stem>.notes.json``
    is beside the MIDI file (see :func:`write_prediction`), else :func:`read_midi`.

    ``sustain_pedal`` applies to a plain MIDI file only (the exact notes are final).
    """
    exact = exact_notes_path(path)
    if exact.is_file():
        return read_exact_notes(exact).sorted()
    return read_midi(path, sustain_pedal=sustain_pedal)
