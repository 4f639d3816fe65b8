"""Built-in transcription models: basic-pitch, transkun, oracle, noisy-oracle, predictions.

The model tests render one 5 s polyphonic piano clip with TinySoundFont and score the output
against the rendered notes with mir_eval (onset-only F1, 50 ms tolerance). basic-pitch is
also compared with basic_pitch's own ``predict`` on the same samples. transkun runs one
16 s segment (its training segment length) in the default suite; its default sliding-window
decoding (16 s segments every 8 s: three segments for a 5 s clip) is ``slow``.
"""
from __future__ import annotations

import sys

import mir_eval
import numpy as np
import pytest
import soundfile as sf

from musebench.errors import BadInputError, ConfigError, MissingDataError, ModelError
from musebench.io_utils import sha256_file
from musebench.midi import write_midi
from musebench.models import get_model_class
from musebench.models.base import Context
from musebench.types import Item, Notes

pytest.importorskip("tinysoundfont")


def piano_clip(*, seed: int = 0, seconds: float = 5.0) -> Notes:
    """A seeded stream of 1-3 note chords (MIDI 45-84), a new one every 0.2-0.45 s."""
    rng = np.random.default_rng(seed)
    rows, t = [], 0.1
    while t < seconds - 0.6:
        chord = rng.choice(np.arange(45, 85), size=rng.integers(1, 4), replace=False)
        duration = rng.uniform(0.25, 0.7)
        rows += [(t, t + duration, p, rng.integers(60, 110)) for p in chord]
        t += rng.uniform(0.2, 0.45)
    a = np.array(rows, dtype=np.float64)
    return Notes.from_arrays(intervals=a[:, :2], pitches=a[:, 2], velocities=a[:, 3]).sorted()


def onset_f1(reference: Notes, estimate: Notes) -> float:
    hz = lambda p: 440.0 * 2.0 ** ((p - 69.0) / 12.0)  # noqa: E731
    if len(estimate) == 0:
        return 0.0
    return mir_eval.transcription.precision_recall_f1_overlap(
        reference.intervals, hz(reference.pitches), estimate.intervals, hz(estimate.pitches), offset_ratio=None)[2]


def context(reference: Notes | None = None, *, seed: int = 0, item_id: str = "clip-01") -> Context:
    return Context(item=Item(id=item_id, dataset="toy"), seed=seed, reference=reference)


@pytest.fixture(scope="module")
def reference() -> Notes:
    return piano_clip()


@pytest.fixture(scope="module")
def render(reference):
    from musebench.render import render_notes

    cache: dict[int, np.ndarray] = {}

    def audio(sample_rate: int) -> np.ndarray:
        if sample_rate not in cache:
            cache[sample_rate] = render_notes(reference, sample_rate=sample_rate)
        return cache[sample_rate]

    return audio


def test_registry_names_the_classes():
    from musebench.models.transcription.oracle import NoisyOracle, Oracle
    from musebench.models.transcription.predictions import MidiPredictions

    assert get_model_class("oracle") is Oracle
    assert get_model_class("noisy-oracle") is NoisyOracle
    assert get_model_class("predictions") is MidiPredictions
    assert get_model_class("basic-pitch").name == "basic-pitch"
    assert get_model_class("transkun").sample_rate == 44100


# -- basic-pitch ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def basic_pitch():
    pytest.importorskip("onnxruntime")
    model = get_model_class("basic-pitch")(device="cpu")
    model.load()
    return model


def test_basic_pitch_equals_upstream_predict_and_finds_the_notes(basic_pitch, reference, render, tmp_path):
    audio = render(22050)
    notes = basic_pitch.transcribe(audio, sample_rate=22050, context=context())
    notes.validate()
    assert onset_f1(reference, notes) > 0.8  # measured 0.848 (P 0.76, R 0.97)
    assert set(notes.programs) == {0}

    from musebench.models.transcription.basic_pitch import onnx_model_path, quiet_import

    with quiet_import():
        from basic_pitch.inference import predict
    wav = tmp_path / "clip.wav"
    sf.write(wav, audio, 22050, subtype="FLOAT")  # no resampling, bit-identical samples
    _, _, events = predict(wav, onnx_model_path())
    upstream = sorted((float(s), float(e), int(p), int(np.round(127 * a))) for s, e, p, a, _ in events)
    ours = sorted((float(s), float(e), int(p), int(v)) for (s, e), p, v in zip(notes.intervals, notes.pitches,
                                                                                notes.velocities))
    assert len(ours) == 37
    assert ours == upstream


def test_basic_pitch_info_and_edge_cases(basic_pitch):
    from importlib import metadata

    from musebench.models.transcription.basic_pitch import onnx_model_path

    info = basic_pitch.info()
    assert info["weights_sha256"] == sha256_file(onnx_model_path())
    assert info["package_version"] == metadata.version("basic-pitch")
    assert info["providers"] == ["CPUExecutionProvider"]
    assert info["params"]["onset_threshold"] == 0.5 and basic_pitch.min_note_frames == 11
    assert len(basic_pitch.transcribe(np.zeros(22050, np.float32), sample_rate=22050, context=context())) == 0
    assert len(basic_pitch.transcribe(np.zeros(10, np.float32), sample_rate=22050, context=context())) == 0


def test_basic_pitch_batch_size_does_not_change_activations(basic_pitch, render):
    audio = render(22050)
    one = get_model_class("basic-pitch")(device="cpu", batch_size=1)
    a, b = one.activations(audio), basic_pitch.activations(audio)
    assert a["note"].shape == (int(len(audio) * 86 / 22050), 88) and a["contour"].shape[1] == 264
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-5)


# -- transkun ------------------------------------------------------------------------------

def test_melscale_standin_reproduces_the_checkpoint_filterbank():
    torch = pytest.importorskip("torch")
    from musebench.models.transcription._melscale import melscale_fbanks, torchaudio_stub
    from musebench.models.transcription.transkun import checkpoint_files

    state = torch.load(checkpoint_files()[0], map_location="cpu", weights_only=True)["state_dict"]
    stored = state["framewiseFeatureExtractor.freq2mels"]
    ours = melscale_fbanks(n_freqs=2049, f_min=30, f_max=8000, n_mels=229, sample_rate=44100)
    assert ours.shape == (2049, 229) and ours.dtype == torch.float32
    assert float((ours - stored).abs().max()) == 0.0
    with torchaudio_stub():
        import torchaudio

        assert torchaudio.functional.melscale_fbanks is melscale_fbanks
    assert "torchaudio" not in sys.modules


@pytest.fixture(scope="module")
def transkun():
    pytest.importorskip("torch")
    model = get_model_class("transkun")(device="cpu", segment_seconds=16, hop_seconds=16)
    model.load()
    return model


def test_transkun_finds_the_notes(transkun, reference, render):
    from importlib import metadata

    from musebench.models.transcription.transkun import checkpoint_files

    assert "torchaudio" not in sys.modules
    notes = transkun.transcribe(render(44100), sample_rate=44100, context=context())
    notes.validate()
    assert onset_f1(reference, notes) > 0.95  # measured 1.0 (29 of 29 notes)
    assert set(notes.programs) == {0} and notes.velocities.min() >= 1
    info = transkun.info()
    assert info["weights_sha256"] == sha256_file(checkpoint_files()[0])
    assert info["package_version"] == metadata.version("transkun")


@pytest.mark.slow
def test_transkun_default_decoding(reference, render):
    pytest.importorskip("torch")
    model = get_model_class("transkun")(device="cpu")
    notes = model.transcribe(render(44100), sample_rate=44100, context=context())
    assert onset_f1(reference, notes) > 0.95  # measured 1.0


def test_transkun_rejects_half_a_segmentation():
    with pytest.raises(ConfigError, match="^transkun: give both segment_seconds and hop_seconds, or neither$"):
        get_model_class("transkun")(device="cpu", segment_seconds=16)


def test_transkun_rejects_a_bad_batch_size():
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ConfigError, match=r"^transkun: batch_size must be an integer >= 1, not "):
            get_model_class("transkun")(device="cpu", batch_size=bad)


@pytest.fixture(scope="module")
def short_segments():
    """transkun on 4 s segments every 2 s: several segments per short clip, cheap forward passes."""
    pytest.importorskip("torch")
    model = get_model_class("transkun")(device="cpu", segment_seconds=4, hop_seconds=2)
    model.load()
    return model


def test_transkun_segment_frames_are_upstreams(short_segments, render):
    import torch

    from musebench.models.transcription.transkun import segment_frames

    net = short_segments._model
    x = torch.from_numpy(render(44100)[: 44100 * 3].astype(np.float32).reshape(-1, 1))
    seen = []
    original = type(net).transcribeFrames

    def spy(frames, **kwargs):
        seen.append(frames.clone())
        return original(net, frames, **kwargs)

    net.transcribeFrames = spy
    try:
        with torch.inference_mode():
            net.transcribe(x, stepInSecond=2, segmentSizeInSecond=4, discardSecondHalf=False)
    finally:
        del net.transcribeFrames
    ours = list(segment_frames(net, x, segment=4, hop=2))
    # 3 s + 2 s of padding at both ends = 7 s; a segment starts every 87 hops (2.02 s): 4 segments
    assert len(seen) == len(ours) == 4
    assert all(torch.equal(a, b) for a, b in zip(seen, ours))


def test_transkun_batched_segments_give_the_same_notes(short_segments, render):
    audio = render(44100)
    clips = [audio, audio[: 44100 * 3], np.zeros(44100 // 2, np.float32)]
    contexts = [context(item_id=f"clip-{i}") for i in range(len(clips))]
    short_segments.batch_size = 1
    one_by_one = short_segments.transcribe_batch(clips, sample_rate=44100, contexts=contexts)
    assert [len(n) for n in one_by_one][:2] == [16, 9] and len(one_by_one[2]) == 0
    try:
        for batch_size in (3,):  # 5 + 4 + 3 segments: passes mix the segments of two items
            short_segments.batch_size = batch_size
            batched = short_segments.transcribe_batch(clips, sample_rate=44100, contexts=contexts)
            for a, b in zip(one_by_one, batched):
                # the same notes; the sub-frame onset/offset refinements move by float32 rounding
                # of the batched forward pass (measured up to 6e-7 s)
                np.testing.assert_array_equal(a.pitches, b.pitches)
                np.testing.assert_array_equal(a.velocities, b.velocities)
                np.testing.assert_allclose(a.intervals, b.intervals, rtol=0, atol=1e-5)
    finally:
        short_segments.batch_size = 1
    assert "processFramesBatch" not in vars(short_segments._model)  # the replay hook is removed


# -- oracles -------------------------------------------------------------------------------

def big_reference(n: int = 400) -> Notes:
    rng = np.random.default_rng(7)
    on = np.sort(rng.uniform(0, 60, n))
    return Notes.from_arrays(intervals=np.stack([on, on + rng.uniform(0.1, 1.0, n)], 1),
                             pitches=rng.integers(30, 100, n), velocities=rng.integers(20, 120, n),
                             programs=rng.integers(0, 3, n)).sorted()


def test_oracle_returns_the_reference():
    oracle = get_model_class("oracle")()
    ref = big_reference(20)
    assert oracle.uses_reference and oracle.device == "cpu"
    assert oracle.transcribe(np.zeros(10, np.float32), sample_rate=16000, context=context(ref)) is ref
    with pytest.raises(ModelError) as err:
        oracle.transcribe(np.zeros(10, np.float32), sample_rate=16000, context=context(None))
    assert str(err.value) == ("oracle: no reference notes for item 'clip-01' "
                              "(the harness passes them only to models with uses_reference = True)")


def test_noisy_oracle_is_seeded_valid_and_worse():
    model = get_model_class("noisy-oracle")()
    ref = big_reference()
    a = model.transcribe(None, sample_rate=16000, context=context(ref, seed=1))
    b = model.transcribe(None, sample_rate=16000, context=context(ref, seed=1))
    c = model.transcribe(None, sample_rate=16000, context=context(ref, seed=2))
    for field in ("intervals", "pitches", "velocities", "programs", "is_drum"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert len(a) != len(c) or not np.array_equal(a.intervals, c.intervals)
    a.validate()
    assert np.all(a.intervals[:, 1] > a.intervals[:, 0]) and a.velocities.min() >= 1
    f1 = onset_f1(ref, a)
    assert 0.7 < f1 < 0.95
    # about drop_prob of the notes go and spurious_rate * n come back
    assert abs(len(a) - len(ref)) < 0.1 * len(ref)
    # order of the reference does not matter: it is sorted first
    shuffled = ref.select(np.random.default_rng(0).permutation(len(ref)))
    d = model.transcribe(None, sample_rate=16000, context=context(shuffled, seed=1))
    np.testing.assert_array_equal(d.intervals, a.intervals)


def test_noisy_oracle_without_noise_is_the_reference():
    model = get_model_class("noisy-oracle")(onset_jitter=0, offset_jitter=0, drop_prob=0, spurious_rate=0,
                                            pitch_error_prob=0, velocity_jitter=0)
    ref = big_reference(50)
    out = model.transcribe(None, sample_rate=16000, context=context(ref, seed=3))
    for field in ("intervals", "pitches", "velocities", "programs", "is_drum"):
        np.testing.assert_array_equal(getattr(out, field), getattr(ref, field))
    assert len(model.transcribe(None, sample_rate=16000, context=context(Notes.empty()))) == 0


def test_noisy_oracle_pitch_errors_are_semitones_or_octaves():
    only_pitch = get_model_class("noisy-oracle")(onset_jitter=0, offset_jitter=0, drop_prob=0, spurious_rate=0,
                                                 pitch_error_prob=1, velocity_jitter=0)
    ref = big_reference(100)  # distinct onsets: output order matches the reference order
    out = only_pitch.transcribe(None, sample_rate=16000, context=context(ref, seed=0))
    np.testing.assert_array_equal(out.intervals, ref.intervals)
    moves = out.pitches - ref.pitches
    assert set(np.unique(moves)) == {-12.0, -1.0, 1.0, 12.0}
    assert onset_f1(ref, out) == 0.0


def test_noisy_oracle_rejects_bad_parameters():
    with pytest.raises(ConfigError, match=r"^noisy-oracle: drop_prob must be in \[0, 1\], not 1\.5$"):
        get_model_class("noisy-oracle")(drop_prob=1.5)
    with pytest.raises(ConfigError, match=r"^noisy-oracle: onset_jitter must be a finite number >= 0, not -1$"):
        get_model_class("noisy-oracle")(onset_jitter=-1)


# -- predictions ---------------------------------------------------------------------------

def test_predictions_reads_item_midi(tmp_path):
    ref = big_reference(10)
    write_midi(ref, tmp_path / "clip-01.mid")
    write_midi(ref.select(np.arange(5)), tmp_path / "clip-02.midi")
    model = get_model_class("predictions")(path=tmp_path)
    model.load()
    out = model.transcribe(None, sample_rate=16000, context=context(item_id="clip-01"))
    assert len(out) == 10
    np.testing.assert_allclose(out.intervals, ref.intervals, atol=2e-3)  # MIDI tick rounding
    np.testing.assert_array_equal(out.pitches, ref.pitches)
    assert len(model.transcribe(None, sample_rate=16000, context=context(item_id="clip-02"))) == 5
    info = model.info()
    assert info["predictions_dir"] == str(tmp_path.resolve()) and info["predictions_files"] == 2
    digest = info["weights_sha256"]
    assert len(digest) == 64
    write_midi(ref.select(np.arange(3)), tmp_path / "clip-02.midi")
    assert get_model_class("predictions")(path=tmp_path).weights_sha256() != digest


def test_predictions_errors(tmp_path):
    model = get_model_class("predictions")(path=tmp_path)
    with pytest.raises(MissingDataError) as err:
        model.transcribe(None, sample_rate=16000, context=context(item_id="clip-09"))
    assert str(err.value) == (f"predictions: no MIDI file for item 'clip-09' "
                              f"(expected {tmp_path.resolve() / 'clip-09.mid'} or .midi)")
    (tmp_path / "clip-03.mid").write_bytes(b"not a midi file")
    with pytest.raises(BadInputError, match="clip-03.mid: not a readable MIDI file"):
        model.transcribe(None, sample_rate=16000, context=context(item_id="clip-03"))
    with pytest.raises(ConfigError, match=r"^predictions: parameter 'path' \(directory of <item_id>\.mid files\) "
                                          r"is required$"):
        get_model_class("predictions")()
    with pytest.raises(MissingDataError, match="predictions directory not found$"):
        get_model_class("predictions")(path=tmp_path / "nope").load()
