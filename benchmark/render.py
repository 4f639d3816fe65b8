"""Render notes to audio with TinySoundFont and a General MIDI soundfont.

The default soundfont is ``TimGM6mb.sf2``, the small General MIDI bank that pretty_midi ships
(``pretty_midi/TimGM6mb.sf2``; by Tim Brechbill, GPL-2 according to Debian's
``timgm6mb-soundfont`` package, as pretty_midi itself states no licence for it).

Rendering is a sample-accurate event loop: the synthesizer generates audio up to the sample of
each note-on/note-off, then the event is applied. Each (program, is_drum) track gets its own
MIDI channel (drums on channel 10, i.e. index 9, with the drum bank 128). The same notes
always give byte-identical audio on the same platform.

The optional ``tinysoundfont`` package is imported only when rendering
(``pip install --no-deps tinysoundfont``; see scripts/install.sh).
"""
from __future__ import annotations

import functools
import io
import os
import wave
from pathlib import Path

import numpy as np

from .errors import BadInputError, MissingDataError
from .types import Notes

DRUM_CHANNEL = 9
DRUM_BANK = 128
DEFAULT_SAMPLE_RATE = 16000


def default_soundfont() -> Path:
    """Path of the General MIDI soundfont bundled with pretty_midi (``TimGM6mb.sf2``)."""
    import pretty_midi

    path = Path(pretty_midi.__file__).resolve().parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise MissingDataError(f"{path}: the General MIDI soundfont bundled with pretty_midi is missing")
    return path


@functools.lru_cache(maxsize=4)
def _soundfont_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def _import_tinysoundfont():
    try:
        import tinysoundfont
    except ImportError:
        raise MissingDataError(
            "tinysoundfont is not installed; run `pip install --no-deps tinysoundfont` to render MIDI"
        ) from None
    return tinysoundfont


def _channels(tracks: list[tuple[int, bool]]) -> dict[tuple[int, bool], int]:
    """MIDI channel per (program, is_drum) track.

    The first drum track gets channel 9 (General MIDI channel 10); other tracks take 0-8,
    10-15, 16, ... in order (TinySoundFont has no 16-channel limit; further drum kits are
    marked as drums on their own channel).
    """
    out: dict[tuple[int, bool], int] = {}
    free = (c for c in range(1 << 16) if c != DRUM_CHANNEL)
    for key in tracks:
        if key[1] and DRUM_CHANNEL not in out.values():
            out[key] = DRUM_CHANNEL
        else:
            out[key] = next(free)
    return out


def render_notes(
    notes: Notes,
    *,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    program_override: int | None = None,
    tail: float = 0.5,
    gain_db: float = -6.0,
    soundfont: str | os.PathLike | None = None,
) -> np.ndarray:
    """Render notes to mono audio.

    Parameters
    ----------
    notes : Notes
        The score; pitches are rounded to the nearest MIDI key, velocities to integers 1-127.
    sample_rate : int
        Output rate in Hz.
    program_override : int or None
        Render every non-drum note with this General MIDI program (0-127) instead of its own;
        drum notes are kept as they are.
    tail : float
        Seconds of audio kept after the last note-off (the release). An empty score renders
        ``tail`` seconds of silence.
    gain_db : float
        Synthesizer output gain in dB.
    soundfont : path-like or None
        A ``.sf2`` file; default :func:`default_soundfont`.

    Returns
    -------
    audio : np.ndarray, shape=(round((last offset + tail) * sample_rate),), float32
        Mono (mean of the synthesizer's two channels).

    Raises
    ------
    BadInputError
        Malformed notes (see :meth:`Notes.validate`), a bad rate, tail or program.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise BadInputError(f"render_notes: sample_rate must be a positive integer, got {sample_rate!r}")
    sample_rate = int(sample_rate)
    if not np.isfinite(tail) or tail < 0:
        raise BadInputError(f"render_notes: tail must be a finite number >= 0 s, got {tail!r}")
    if program_override is not None and not 0 <= int(program_override) <= 127:
        raise BadInputError(f"render_notes: program_override must be in 0-127, got {program_override!r}")
    notes = notes.validate(name="render_notes")
    tail_samples = int(round(tail * sample_rate))
    if len(notes) == 0:
        return np.zeros(tail_samples, dtype=np.float32)

    programs = notes.programs.copy()
    if program_override is not None:
        programs[~notes.is_drum] = int(program_override)
    keys = [(int(p), bool(d)) for p, d in zip(programs, notes.is_drum)]
    tracks = sorted(set(keys), key=lambda k: (k[1], k[0]))
    channel_of = _channels(tracks)

    starts = np.round(notes.intervals[:, 0] * sample_rate).astype(np.int64)
    ends = np.maximum(np.round(notes.intervals[:, 1] * sample_rate).astype(np.int64), starts + 1)
    pitches = np.clip(np.round(notes.pitches), 0, 127).astype(np.int64)
    velocities = np.clip(np.round(notes.velocities), 1, 127).astype(np.int64)
    chans = np.array([channel_of[k] for k in keys], dtype=np.int64)
    # events: (sample, kind 0=off before 1=on, channel, key, velocity); a re-struck key is
    # released before it is struck again at the same sample.
    n = len(notes)
    events = np.empty((2 * n, 5), dtype=np.int64)
    events[:n] = np.column_stack([ends, np.zeros(n, np.int64), chans, pitches, np.zeros(n, np.int64)])
    events[n:] = np.column_stack([starts, np.ones(n, np.int64), chans, pitches, velocities])
    order = np.lexsort((events[:, 4], events[:, 3], events[:, 2], events[:, 1], events[:, 0]))
    events = events[order]

    tsf = _import_tinysoundfont()
    sf_path = str(Path(soundfont) if soundfont is not None else default_soundfont())
    synth = tsf.Synth(samplerate=sample_rate, gain=float(gain_db))
    try:
        sfid = synth.sfload(_soundfont_bytes(sf_path))
    except Exception as exc:  # the binding raises plain exceptions for bad files
        raise BadInputError(f"{sf_path}: not a readable soundfont ({exc})") from None
    for (program, is_drum), chan in channel_of.items():
        bank = DRUM_BANK if is_drum else 0
        preset = program if synth.sfpreset_name(sfid, bank, program) is not None else 0
        synth.program_select(chan, sfid, bank, preset, is_drum)

    total = int(ends.max()) + tail_samples
    out = np.zeros((total, 2), dtype=np.float32)
    pos = 0
    for sample, kind, chan, key, vel in events.tolist():
        if sample > pos:
            out[pos:sample] = np.frombuffer(synth.generate(sample - pos), dtype=np.float32).reshape(-1, 2)
            pos = sample
        if kind:
            synth.noteon(chan, key, vel)
        else:
            synth.noteoff(chan, key)
    if total > pos:
        out[pos:total] = np.frombuffer(synth.generate(total - pos), dtype=np.float32).reshape(-1, 2)
    return np.ascontiguousarray(out.mean(axis=1, dtype=np.float32))


def render_midi_file(path: str | os.PathLike, **kwargs) -> np.ndarray:
    """Read a MIDI file with :func:`musebench.midi.read_midi` and render it with :func:`render_notes`.

    Keyword arguments are passed to :func:`render_notes`.
    """
    from .midi import read_midi

    return render_notes(read_midi(path), **kwargs)


def pcm16(audio: np.ndarray) -> np.ndarray:
    """Quantise float audio in [-1, 1] to int16 (clipped, rounded half to even)."""
    audio = np.asarray(audio, dtype=np.float64)
    return np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def pcm16_wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """Mono 16-bit PCM WAV bytes, written with the standard library (fully deterministic).

    Parameters
    ----------
    audio : np.ndarray, shape=(n,), float in [-1, 1] (clipped) or int16
    sample_rate : int
    """
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise BadInputError(f"pcm16_wav_bytes: audio must be mono (1-D), got shape {audio.shape}")
    data = audio if audio.dtype == np.int16 else pcm16(audio)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(data.astype("<i2", copy=False).tobytes())
    return buf.getvalue()
