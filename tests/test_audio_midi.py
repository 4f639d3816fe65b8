"""Bad and unusual inputs of musebench.audio and musebench.midi, with their exact messages."""
from __future__ import annotations

import mido
import numpy as np
import pytest
import soundfile as sf

from musebench.audio import audio_bytes, audio_info, load_audio, resample, to_mono, validate_audio, write_audio
from musebench.errors import BadInputError, MissingDataError
from musebench.midi import midi_bytes, read_midi, write_midi
from musebench.types import Notes


def message(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def peak_hz(x: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spectrum)])


# ---- audio ----------------------------------------------------------------------------------
def test_missing_audio_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(MissingDataError) as exc:
        load_audio(path)
    assert message(exc) == f"{path}: audio file not found"


@pytest.mark.parametrize("content", [b"", b"RIFF1234WAVEjunk" * 10, b"not audio at all"])
def test_corrupt_audio_file(tmp_path, content):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(BadInputError) as exc:
        load_audio(path)
    text = message(exc)
    # the detail in parentheses comes from libsndfile and may vary between its versions
    assert text.startswith(f"{path}: not a readable audio file (Error opening ")
    assert text.endswith(")")
    with pytest.raises(BadInputError) as exc:
        audio_info(path)
    assert message(exc).startswith(f"{path}: not a readable audio file (")


def test_zero_length_audio_file(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    with pytest.raises(BadInputError) as exc:
        load_audio(path)
    assert message(exc) == f"{path}: audio is empty (zero samples)"


@pytest.mark.parametrize("bad, count", [([np.nan], 1), ([np.inf, -np.inf], 2), ([np.nan, np.inf, 3], 2)])
def test_non_finite_samples_in_a_file(tmp_path, bad, count):
    audio = np.zeros(100, np.float32)
    audio[10:10 + len(bad)] = bad
    path = tmp_path / "nan.wav"
    sf.write(path, audio, 16000, subtype="FLOAT")
    with pytest.raises(BadInputError) as exc:
        load_audio(path)
    assert message(exc) == f"{path}: audio contains {count} NaN/inf sample(s)"


@pytest.mark.parametrize("audio, text", [
    (np.zeros(0, np.float32), "x: audio is empty (zero samples)"),
    (np.zeros((0, 2), np.float32), "x: audio is empty (zero samples)"),
    (np.zeros((2, 3, 4), np.float32), "x: audio must be 1-D (mono) or 2-D (frames, channels), got shape (2, 3, 4)"),
    (np.array(["a", "b"]), "x: audio has non-numeric dtype <U1"),
    (np.array([0.0, np.nan, np.inf], np.float32), "x: audio contains 2 NaN/inf sample(s)"),
])
def test_validate_audio_rejects(audio, text):
    with pytest.raises(BadInputError) as exc:
        validate_audio(audio, name="x")
    assert message(exc) == text


def test_validate_audio_scales_integers():
    out = validate_audio(np.array([0, 16384, -32767], np.int16))
    assert out.dtype == np.float32
    assert np.allclose(out, [0.0, 16384 / 32767, -1.0])


def test_stereo_is_averaged_to_mono(tmp_path):
    frames = np.c_[np.full(1000, 0.5), np.full(1000, -0.1)].astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, frames, 16000, subtype="FLOAT")
    mono, sr = load_audio(path)
    assert sr == 16000 and mono.shape == (1000,) and mono.dtype == np.float32
    assert np.allclose(mono, 0.2)
    both, _ = load_audio(path, mono=False)
    assert both.shape == (1000, 2)
    assert np.array_equal(to_mono(both), mono)
    assert to_mono(mono) is mono


@pytest.mark.parametrize("orig_sr", [8000, 11025, 22050, 44100, 48000, 96000])
def test_unusual_rates_are_resampled(tmp_path, orig_sr):
    t = np.arange(orig_sr) / orig_sr  # one second
    path = tmp_path / f"sine{orig_sr}.wav"
    sf.write(path, np.c_[0.5 * np.sin(2 * np.pi * 440 * t), np.zeros(orig_sr)].astype(np.float32), orig_sr)
    audio, sr = load_audio(path, sample_rate=16000)
    assert sr == 16000 and audio.shape == (16000,) and audio.dtype == np.float32
    assert peak_hz(audio[2000:14000], 16000) == pytest.approx(440.0, abs=2.0)
    assert np.max(np.abs(audio[2000:14000])) == pytest.approx(0.25, abs=0.01)  # mono mean of 0.5 and 0
    native, native_sr = load_audio(path)
    assert native_sr == orig_sr and len(native) == orig_sr


def test_resample_same_rate_is_identity(sine):
    audio = sine()
    assert resample(audio, 16000, 16000) is audio


def test_write_audio_rejects_other_formats(tmp_path, sine):
    path = tmp_path / "out.mp3"
    with pytest.raises(BadInputError) as exc:
        write_audio(path, sine(), 16000)
    assert message(exc) == f"{path}: audio output must be .wav or .flac"


def test_write_audio_round_trip_and_clipping(tmp_path):
    audio = np.array([0.0, 0.5, -0.5, 2.0, -2.0], np.float32)
    path = write_audio(tmp_path / "x.wav", audio, 16000)
    back, sr = load_audio(path)
    assert sr == 16000
    assert np.allclose(back, [0.0, 0.5, -0.5, 1.0, -1.0], atol=1 / 32767)
    assert audio_bytes(audio, 16000) == path.read_bytes()


# ---- MIDI -----------------------------------------------------------------------------------
def test_missing_midi_file(tmp_path):
    path = tmp_path / "nope.mid"
    with pytest.raises(MissingDataError) as exc:
        read_midi(path)
    assert message(exc) == f"{path}: MIDI file not found"


@pytest.mark.parametrize("content, detail", [
    (b"", "EOFError"),
    (b"MThd\x00\x00\x00\x06junk", "EOFError"),
    (b"hello world", "MThd not found. Probably not a MIDI file"),
])
def test_corrupt_midi_file(tmp_path, content, detail):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(BadInputError) as exc:
        read_midi(path)
    assert message(exc) == f"{path}: not a readable MIDI file ({detail})"


def test_midi_without_notes_reads_as_empty(tmp_path):
    path = write_midi(Notes.empty(), tmp_path / "empty.mid")
    notes = read_midi(path)
    assert len(notes) == 0 and notes.intervals.shape == (0, 2)
    mf = mido.MidiFile()
    mf.tracks.append(mido.MidiTrack([mido.MetaMessage("end_of_track", time=0)]))
    mf.save(tmp_path / "bare.mid")
    assert len(read_midi(tmp_path / "bare.mid")) == 0


def test_zero_length_note_in_a_file_is_dropped(tmp_path):
    mf = mido.MidiFile(ticks_per_beat=480)
    mf.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=60, velocity=90, time=0),
        mido.Message("note_off", note=60, velocity=0, time=0),  # end == start
        mido.Message("note_on", note=62, velocity=90, time=480),
        mido.Message("note_off", note=62, velocity=0, time=480),
    ]))
    mf.save(tmp_path / "zero.mid")
    for drop in (True, False):
        notes = read_midi(tmp_path / "zero.mid", drop_zero_length=drop)
        assert notes.pitches.tolist() == [62.0]
        assert np.allclose(notes.intervals, [[0.5, 1.0]])


@pytest.mark.parametrize("intervals, pitch, text", [
    ([[1.0, 0.5]], 60, "note 0 (pitch 60) has end <= start (0.5 s <= 1 s)"),
    ([[0.5, 0.5]], 61.5, "note 0 (pitch 61.5) has end <= start (0.5 s <= 0.5 s)"),
    ([[np.nan, 1.0]], 60, "note times contain NaN or inf"),
    ([[-0.5, 1.0]], 60, "note 0 starts before 0 s (-0.5 s)"),
    ([[0.0, 1.0]], 128, "note pitches outside the MIDI range 0-127"),
    ([[0.0, 1.0]], np.inf, "note pitches contain NaN or inf"),
])
def test_malformed_notes_are_refused_when_writing(tmp_path, intervals, pitch, text):
    notes = Notes.from_arrays(intervals=intervals, pitches=[pitch])
    path = tmp_path / "bad.mid"
    with pytest.raises(BadInputError) as exc:
        write_midi(notes, path)
    assert message(exc) == f"{path}: {text}"
    assert not path.exists()
    with pytest.raises(BadInputError) as exc:
        notes.validate(name="est")
    assert message(exc) == f"est: {text}"


def test_second_bad_note_is_named():
    notes = Notes.from_arrays(intervals=[[0.0, 1.0], [2.0, 1.5]], pitches=[60, 64])
    with pytest.raises(BadInputError) as exc:
        notes.validate(name="ref.mid")
    assert message(exc) == "ref.mid: note 1 (pitch 64) has end <= start (1.5 s <= 2 s)"


def test_midi_round_trip_is_deterministic(tmp_path):
    notes = Notes.from_arrays(intervals=[[0.0, 0.5], [0.25, 1.0], [0.5, 0.6]], pitches=[60, 64, 38],
                              velocities=[80, 100, 90], programs=[0, 40, 0], is_drum=[False, False, True])
    assert midi_bytes(notes) == midi_bytes(notes.select(np.array([2, 0, 1])))
    back = read_midi(write_midi(notes, tmp_path / "x.mid"))
    assert back.pitches.tolist() == [60.0, 64.0, 38.0]
    assert back.programs.tolist() == [0, 40, 0] and back.is_drum.tolist() == [False, False, True]
    assert np.allclose(back.intervals, notes.intervals, atol=1 / 960)


def _random_notes(rng: np.random.Generator, case: int) -> Notes:
    """Seeded note sets that stress the writer: same-tick collisions, half-tick times, long times
    (multi-byte delta times), fractional pitches and velocities, up to 18 instruments and drums."""
    n = int(rng.integers(0, 60))
    kind = case % 4
    if kind == 0:  # a grid of half ticks (1/1920 s): ties in tick, pitch and velocity everywhere
        on, dur = rng.integers(0, 40, n) / 1920.0, rng.integers(1, 20, n) / 1920.0
    elif kind == 1:
        on, dur = rng.uniform(0, 600, n), rng.uniform(1e-4, 30, n)
    elif kind == 2:
        on, dur = np.round(rng.uniform(0, 5, n), 2), np.round(rng.uniform(0.01, 0.5, n), 2)
    else:  # shorter than a tick: on and off fall on the same tick
        on, dur = rng.uniform(0, 3, n), rng.uniform(1e-6, 2e-3, n)
    pitches = rng.integers(60, 64, n) + (rng.uniform(-0.5, 0.5, n) if case % 3 == 0 else 0)
    velocities = rng.choice([0, 0.4, 0.5, 1.5, 2.5, 64, 126.6, 127], n) if case % 2 else rng.integers(1, 128, n)
    programs = rng.choice([0, 0, 33, 127, 5, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 40], n)
    return Notes.from_arrays(intervals=np.stack([on, on + dur], 1), pitches=pitches, velocities=velocities,
                             programs=programs, is_drum=rng.uniform(size=n) < 0.2)


def test_midi_bytes_are_pretty_midis_bytes():
    """The direct writer produces exactly what pretty_midi (through mido) writes."""
    import io

    from musebench.midi import notes_to_pretty_midi

    rng = np.random.default_rng(2026)
    for case in range(1200):
        notes = _random_notes(rng, case)
        buf = io.BytesIO()
        notes_to_pretty_midi(notes).write(buf)
        assert midi_bytes(notes) == buf.getvalue(), f"case {case}"
    assert midi_bytes(Notes.empty()) == (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0"
                                         b"MTrk\x00\x00\x00\x13\x00\xff\x51\x03\x07\xa1\x20"
                                         b"\x00\xff\x58\x04\x04\x02\x18\x08\x01\xff\x2f\x00")
