"""musebench.render: TinySoundFont rendering of notes."""
from __future__ import annotations

import hashlib
import io
import wave

import numpy as np
import pytest

from musebench.audio import load_audio
from musebench.errors import BadInputError
from musebench.midi import write_midi
from musebench.render import DRUM_CHANNEL, _channels, pcm16, pcm16_wav_bytes, render_midi_file, render_notes
from musebench.types import Notes

SR = 16000


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def peak_hz(x: np.ndarray, sr: int = SR) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spectrum)])


def note(on: float, off: float, pitch: float, **kw) -> Notes:
    return Notes.from_arrays(intervals=[[on, off]], pitches=[pitch], **kw)


@pytest.mark.parametrize("program", [0, 40, 73])
def test_a4_has_its_energy_peak_at_440_hz(program):
    audio = render_notes(note(0.0, 1.0, 69, programs=[program]))
    assert peak_hz(audio[1600:14400]) == pytest.approx(440.0, abs=3.0)


def test_octave_below_peaks_at_220_hz():
    audio = render_notes(note(0.0, 1.0, 57, programs=[40]))  # violin: strong fundamental
    assert peak_hz(audio[1600:14400]) == pytest.approx(220.0, abs=3.0)


def test_length_dtype_and_silence_before_and_between_notes():
    notes = Notes.from_arrays(intervals=[[1.0, 1.3], [4.0, 4.3]], pitches=[69, 69])
    audio = render_notes(notes, tail=0.5)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == round((4.3 + 0.5) * SR)
    assert np.all(audio[: SR] == 0.0)  # nothing before the first onset
    assert rms(audio[16000:20800]) > 1e-3  # the note sounds
    assert np.max(np.abs(audio[3 * SR: 4 * SR])) < 1e-4  # the first note has died away
    assert rms(audio[-800:]) < 0.01 * rms(audio[16000:20800])  # the tail is a decaying release


def test_onsets_are_sample_accurate():
    # the square lead (program 80) starts sounding on the note-on sample itself
    for t0 in (0.0, 0.25, 0.30001):
        audio = render_notes(note(t0, t0 + 0.3, 69, programs=[80]))
        assert int(np.flatnonzero(np.abs(audio) > 1e-6)[0]) == round(t0 * SR)
    # a piano sample has a fixed latency, identical wherever the note starts
    first = [int(np.flatnonzero(np.abs(render_notes(note(t, t + 0.3, 69))) > 1e-6)[0]) for t in (0.25, 0.3)]
    assert first[1] - first[0] == 800


def test_drums_are_audible_and_differ_from_melodic_notes():
    intervals = [[0.1, 0.2], [0.5, 0.6], [0.9, 1.0]]
    drums = render_notes(Notes.from_arrays(intervals=intervals, pitches=[36, 38, 42], is_drum=True))
    melodic = render_notes(Notes.from_arrays(intervals=intervals, pitches=[36, 38, 42]))
    assert rms(drums) > 0.01
    for on, _ in intervals:  # every hit is heard
        start = round(on * SR)
        assert rms(drums[start:start + 1600]) > 0.005
    assert not np.allclose(drums[: len(melodic)], melodic[: len(drums)], atol=1e-3)


def test_same_notes_give_byte_identical_audio():
    rng = np.random.default_rng(7)
    onsets = np.sort(rng.random(120) * 6)
    notes = Notes.from_arrays(intervals=np.c_[onsets, onsets + 0.2 + rng.random(120)],
                              pitches=rng.integers(36, 90, 120), velocities=rng.integers(30, 120, 120),
                              programs=rng.choice([0, 33, 48, 73], 120), is_drum=rng.random(120) < 0.2)
    first = hashlib.sha256(render_notes(notes).tobytes()).hexdigest()
    second = hashlib.sha256(render_notes(notes).tobytes()).hexdigest()
    assert first == second
    # the order of the rows does not matter
    shuffled = notes.select(rng.permutation(len(notes)))
    assert hashlib.sha256(render_notes(shuffled).tobytes()).hexdigest() == first


def test_program_override_changes_melodic_notes_only():
    piano = Notes.from_arrays(intervals=[[0, 0.5], [0.5, 1.0]], pitches=[60, 64], programs=[0, 33])
    violin = Notes.from_arrays(intervals=[[0, 0.5], [0.5, 1.0]], pitches=[60, 64], programs=[40, 40])
    assert np.array_equal(render_notes(piano, program_override=40), render_notes(violin))
    assert not np.allclose(render_notes(piano), render_notes(violin))
    drums = Notes.from_arrays(intervals=[[0, 0.1], [0.5, 0.6]], pitches=[36, 38], is_drum=True)
    assert np.array_equal(render_notes(drums, program_override=40), render_notes(drums))


def test_empty_notes_render_tail_of_silence():
    audio = render_notes(Notes.empty(), tail=0.25)
    assert audio.shape == (4000,) and audio.dtype == np.float32 and not audio.any()


def test_sample_rate_and_gain():
    a16 = render_notes(note(0, 0.5, 69), sample_rate=16000)
    a22 = render_notes(note(0, 0.5, 69), sample_rate=22050)
    assert len(a22) == round(1.0 * 22050)
    assert peak_hz(a22[2205:11025], 22050) == pytest.approx(440.0, abs=5.0)
    quiet = render_notes(note(0, 0.5, 69), gain_db=-12.0)
    assert 20 * np.log10(rms(a16) / rms(quiet)) == pytest.approx(6.0, abs=0.1)


def test_channels_put_drums_on_channel_10_and_allow_many_tracks():
    tracks = [(p, False) for p in range(20)] + [(0, True), (8, True)]
    channels = _channels(sorted(tracks, key=lambda k: (k[1], k[0])))
    assert channels[(0, True)] == DRUM_CHANNEL
    assert len(set(channels.values())) == len(tracks)
    assert DRUM_CHANNEL not in {channels[(p, False)] for p in range(20)}
    many = Notes.from_arrays(intervals=[[0, 0.5]] * 20, pitches=list(range(50, 70)), programs=list(range(20)))
    assert rms(render_notes(many)) > 0.01


def test_render_midi_file_equals_render_notes(tmp_path):
    notes = Notes.from_arrays(intervals=[[0.0, 0.5], [0.25, 1.0]], pitches=[60, 67], programs=[0, 40])
    path = write_midi(notes, tmp_path / "x.mid")
    assert np.array_equal(render_midi_file(path, program_override=73), render_notes(notes, program_override=73))


@pytest.mark.parametrize("kwargs, message", [
    ({"sample_rate": 0}, "render_notes: sample_rate must be a positive integer, got 0"),
    ({"sample_rate": 16000.5}, "render_notes: sample_rate must be a positive integer, got 16000.5"),
    ({"tail": -1.0}, "render_notes: tail must be a finite number >= 0 s, got -1.0"),
    ({"program_override": 128}, "render_notes: program_override must be in 0-127, got 128"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(BadInputError) as exc:
        render_notes(note(0, 1, 60), **kwargs)
    assert str(exc.value) == message


@pytest.mark.parametrize("notes, message", [
    (note(1.0, 0.5, 69), "render_notes: note 0 (pitch 69) has end <= start (0.5 s <= 1 s)"),
    (note(0.5, 0.5, 60), "render_notes: note 0 (pitch 60) has end <= start (0.5 s <= 0.5 s)"),
    (note(np.nan, 0.5, 60), "render_notes: note times contain NaN or inf"),
    (note(0, 0.5, 130), "render_notes: note pitches outside the MIDI range 0-127"),
])
def test_bad_notes(notes, message):
    with pytest.raises(BadInputError) as exc:
        render_notes(notes)
    assert str(exc.value) == message


def test_pcm16_wav_bytes_are_deterministic_and_readable(tmp_path, sine):
    audio = sine(440.0, 0.5)
    data = pcm16_wav_bytes(audio, SR)
    assert data == pcm16_wav_bytes(audio, SR)
    assert len(data) == 44 + 2 * len(audio)
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, SR, 8000)
    (tmp_path / "s.wav").write_bytes(data)
    back, sr = load_audio(tmp_path / "s.wav")
    assert sr == SR
    assert np.array_equal(np.round(back * 32768).astype(np.int16), pcm16(audio))
    assert pcm16(np.array([2.0, -2.0, 0.5])).tolist() == [32767, -32767, 16384]
    with pytest.raises(BadInputError) as exc:
        pcm16_wav_bytes(np.zeros((10, 2)), SR)
    assert str(exc.value) == "pcm16_wav_bytes: audio must be mono (1-D), got shape (10, 2)"
