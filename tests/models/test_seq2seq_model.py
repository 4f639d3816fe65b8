"""The seq2seq network and inference: a tiny model overfits a 4-s piece (two segments, a note
tied across the boundary) in seconds and then transcribes exactly its notes; batched and
one-by-one inference agree; the KV cache gives the teacher-forced logits; checkpoints round-trip
through the registered models with one-line errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.errors import BadInputError, ConfigError, MissingDataError
from musebench.models.transcription.seq2seq.checkpoint import CHECKPOINT
from musebench.models.transcription.seq2seq.inference import segment_frames, transcribe_many
from musebench.models.transcription.seq2seq.network import NetConfig, Seq2SeqNet, greedy_decode, log_mel
from musebench.models.transcription.seq2seq.vocabulary import EOS, PAD, piano_vocabulary
from musebench.types import Notes

@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: one thread is faster than two, and much faster on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


VOCAB = piano_vocabulary(segment_steps=200, num_velocity_bins=8)
NET = dict(n_mels=64, frame_stack=2, d_model=64, n_heads=2, d_ff=128, encoder_layers=1, decoder_layers=2,
           dropout=0.0)


def piece() -> Notes:
    rows = [(0.20, 0.60, 60, 90), (0.60, 1.00, 64, 60), (1.10, 2.90, 67, 100),  # 67 is tied into segment 2
            (2.30, 2.70, 72, 40), (3.00, 3.50, 55, 80)]
    arr = np.array(rows, float)
    return Notes.from_arrays(intervals=arr[:, :2], pitches=arr[:, 2], velocities=arr[:, 3])


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    from musebench.datasets.synth import render_synth_notes

    return render_synth_notes(piece())[:64000]  # exactly 4 s = two segments


def make_net(seed=0) -> Seq2SeqNet:
    torch.manual_seed(seed)
    config = NetConfig(vocab_size=VOCAB.size, **NET)
    return Seq2SeqNet(config, shift_ids=VOCAB.shift_ids(), steps_per_frame=config.frame_stack)


@pytest.fixture(scope="module")
def trained(audio, one_thread):
    """A tiny network overfitted on the two segments of the piece (a few seconds on a CPU)."""
    torch.manual_seed(0)
    net = make_net()
    frames = segment_frames(log_mel(audio, NET["n_mels"]), VOCAB.segment_steps)
    net.mel_mean.copy_(frames.reshape(-1, NET["n_mels"]).mean(0))
    net.mel_std.copy_(frames.reshape(-1, NET["n_mels"]).std(0).clamp(min=1e-3))
    targets = VOCAB.encode(piece(), 2)
    length = max(map(len, targets))
    tgt = torch.full((2, length), -100)
    dec = torch.full((2, length), PAD)
    for b, t in enumerate(targets):
        tgt[b, :len(t)] = torch.tensor(t)
        dec[b, 1:len(t)] = torch.tensor(t[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for step in range(400):
        loss = torch.nn.functional.cross_entropy(net(frames, dec).reshape(-1, VOCAB.size), tgt.reshape(-1),
                                                 ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 24:
            memory, mask = net.encode(frames)
            if greedy_decode(net, memory, mask, max_tokens=64, eos=EOS) == [t[:-1] for t in targets]:
                break
    net.eval()
    return net, targets, step


def test_overfits_one_piece_and_decodes_exactly_its_notes(trained, audio):
    net, targets, steps = trained
    assert steps < 399, "did not overfit"
    frames = segment_frames(log_mel(audio, NET["n_mels"]), VOCAB.segment_steps)
    memory, mask = net.encode(frames)
    assert greedy_decode(net, memory, mask, max_tokens=64, eos=EOS) == [t[:-1] for t in targets]
    assert VOCAB.event(targets[1][0]) == ("pitch", 67)  # segment 2 opens with the tie of pitch 67
    (notes,), stats = transcribe_many(net, VOCAB, [audio], batch_size=4)
    assert stats == {"segments": 2, "tokens": sum(len(t) - 1 for t in targets), "invalid": 0, "truncated": 0}
    expected = VOCAB.quantised_notes(piece())
    np.testing.assert_allclose(notes.intervals, expected.intervals, atol=1e-12)
    np.testing.assert_array_equal(notes.pitches, [60, 64, 67, 72, 55])
    np.testing.assert_array_equal(expected.pitches, [60, 64, 67, 72, 55])
    np.testing.assert_array_equal(notes.velocities, expected.velocities)
    assert notes.intervals[2].tolist() == pytest.approx([1.10, 2.90])  # the tied note, whole


def test_batched_equals_one_by_one(trained, audio):
    net, _, _ = trained
    audios = [audio, audio[:40000], np.zeros(8000, np.float32), audio[16000:]]
    together, _ = transcribe_many(net, VOCAB, audios, batch_size=8, max_tokens=48)
    for a, t in zip(audios, together):
        (alone,), _ = transcribe_many(net, VOCAB, [a], batch_size=1, max_tokens=48)
        assert len(alone) == len(t)
        np.testing.assert_allclose(alone.intervals, t.intervals, atol=1e-9)
        np.testing.assert_array_equal(alone.pitches, t.pitches)
        np.testing.assert_array_equal(alone.velocities, t.velocities)
    assert len(together[0]) == 5


def test_kv_cache_matches_teacher_forcing():
    net = make_net(seed=3).eval()
    frames = torch.randn(2, 200, NET["n_mels"])
    memory, mask = net.encode(frames)
    with torch.no_grad():
        tokens = greedy_decode(net, memory, mask, max_tokens=12, eos=EOS)
        for b in range(2):
            seq = [PAD] + tokens[b]
            logits = net(frames[b:b + 1], torch.tensor([seq]))
            assert logits[0, :len(tokens[b])].argmax(-1).tolist() == tokens[b]


def test_checkpoint_round_trip_through_the_registered_model(trained, audio, tmp_path):
    from musebench.models import get_model_class

    net, _, _ = trained
    meta = {"model": "seq2seq-piano", "size": "test", "vocabulary": VOCAB.to_dict(), "network": net.config.to_dict()}
    CHECKPOINT.save(tmp_path / "tiny", arrays=net.state_dict(), config=meta, dtype="float32")
    model = get_model_class("seq2seq-piano")(checkpoint=str(tmp_path / "tiny"), device="cpu")
    model.load()
    notes = model.transcribe(audio, sample_rate=16000, context=None)
    (direct,), _ = transcribe_many(net, VOCAB, [audio])
    np.testing.assert_allclose(notes.intervals, direct.intervals)
    from musebench.io_utils import sha256_file

    assert model.weights_sha256() == sha256_file(tmp_path / "tiny.npz")
    with pytest.raises(ConfigError, match=r"tiny\.json: a 'piano' checkpoint, but mt3 needs a 'mt3' one"):
        get_model_class("mt3")(checkpoint=str(tmp_path / "tiny.npz"), device="cpu").load()
    with pytest.raises(MissingDataError, match=r"nowhere\.json: seq2seq checkpoint file not found"):
        get_model_class("mt3")(checkpoint=str(tmp_path / "nowhere"), device="cpu").load()
    (tmp_path / "tiny.npz").write_bytes(b"not a zip")
    with pytest.raises(BadInputError, match=r"tiny\.npz: sha256 differs"):
        model.load()
    with pytest.raises(ConfigError, match="batch_size must be an integer >= 1"):
        get_model_class("mt3")(batch_size=0)


def test_mel_filterbank_equals_librosa():
    import librosa

    from musebench.models.transcription.seq2seq.network import mel_filters

    expected = librosa.filters.mel(sr=16000, n_fft=2048, n_mels=229, fmin=20.0, fmax=8000.0)
    np.testing.assert_allclose(mel_filters(229).numpy(), expected, atol=1e-7)
