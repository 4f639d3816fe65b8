"""Generation models: FFT framing, networks, checkpoints, training, floors and ceilings."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from musebench.errors import BadInputError, ConfigError, MissingDataError, ModelError, UnknownNameError
from musebench.models import get_model_class, model_names
from musebench.models.base import Context
from musebench.models.generation import BUILTIN, fft_frames
from musebench.models.generation.baselines import coloured_noise
from musebench.models.checkpoints import npz_bytes, shipped_dir
from musebench.models.generation.lstm import CHECKPOINT
from musebench.types import Item

SR = 16000
LSTM_MODELS = ("lstm", "fc-lstm", "conv-lstm", "stacked-lstm", "bilinear-lstm")


def test_builtin_names():
    assert set(BUILTIN) == {*LSTM_MODELS, "noise", "copy-train", "oracle", "predictions"}
    assert set(model_names("generation")["generation"]) >= set(BUILTIN)


# ---- FFT frames -------------------------------------------------------------------------------
def test_fft_frames_round_trip_is_exact():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    frames = fft_frames.analyze(x, frame_size=64, hop_size=32)
    assert frames.shape == (33, 66)  # ceil(1000 / 32) + 1 frames, 33 real + 33 imaginary parts
    y = fft_frames.synthesize(frames, frame_size=64, hop_size=32, n_samples=1000)
    np.testing.assert_allclose(y, x, atol=1e-6)
    # the first floor(n / hop) frames lie inside the signal: they reconstruct all but its last hop
    k = fft_frames.inner_frames(1000, hop_size=32)
    z = fft_frames.synthesize(frames[:k], frame_size=64, hop_size=32)
    assert len(z) == (k - 1) * 32
    np.testing.assert_allclose(z, x[:len(z)], atol=1e-6)
    with pytest.raises(BadInputError,
                       match="frame_size must be even and twice hop_size, got frame_size=64, hop_size=16"):
        fft_frames.analyze(x, frame_size=64, hop_size=16)


# ---- networks ---------------------------------------------------------------------------------
@pytest.mark.parametrize("architecture", LSTM_MODELS)
def test_networks_stream_like_they_run_whole_sequences(architecture):
    import torch

    from musebench.models.generation.networks import FrameLSTM

    torch.manual_seed(0)
    net = FrameLSTM(architecture, n_features=10, hidden_size=6, conv_kernel=3).eval()
    x = torch.randn(2, 9, 10)
    with torch.no_grad():
        whole, _ = net(x)
        first, state = net(x[:, :4])
        parts = [first]
        for t in range(4, 9):
            y, state = net(x[:, t:t + 1], state)
            parts.append(y)
    torch.testing.assert_close(torch.cat(parts, dim=1), whole, atol=1e-5, rtol=1e-5)


# ---- checkpoints ------------------------------------------------------------------------------
def test_npz_bytes_are_deterministic_and_checkpoints_round_trip(tmp_path: Path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "_residual_std": np.ones(3, np.float32)}
    assert npz_bytes(arrays) == npz_bytes(dict(reversed(list(arrays.items()))))
    w, c = CHECKPOINT.save(tmp_path / "toy", arrays=arrays, config={"architecture": "lstm"})
    loaded, config, path = CHECKPOINT.load(tmp_path / "toy.json")
    assert path == w and loaded["w"].dtype == np.float16 and loaded["_residual_std"].dtype == np.float32
    assert config["weights"]["n_parameters"] == 6 and config["weights"]["dtype"] == "float16"
    w.write_bytes(w.read_bytes() + b"x")
    with pytest.raises(BadInputError, match=r"toy.npz: sha256 differs from the one recorded in toy.json$"):
        CHECKPOINT.load(tmp_path / "toy")
    with pytest.raises(MissingDataError, match="nope.json: checkpoint file not found"):
        CHECKPOINT.load(tmp_path / "nope")


@pytest.mark.parametrize("name", LSTM_MODELS)
def test_shipped_checkpoints_are_small_documented_and_generate(name):
    from musebench.datasets.synth import SynthDataset

    arrays, config, path = CHECKPOINT.load(shipped_dir() / name)
    assert path.stat().st_size < 2_000_000
    assert config["architecture"] == name and config["weights"]["dtype"] == "float16"
    data = config["data"]
    assert (data["dataset"], data["variant"], data["split"], data["n_items"]) == ("synth", "piano", "train", 32)
    assert data["fingerprint"] == SynthDataset(variant="piano").fingerprint("train")
    assert config["training"]["steps"] > 100 and config["training"]["seconds"] > 0
    model = get_model_class(name, family="generation")(device="cpu")
    model.load()
    info = model.info()
    assert info["params"] == {} and info["settings"]["temperature"] == 0.25  # plain label on the leaderboard
    assert info["checkpoint"]["data"]["fingerprint"] == data["fingerprint"]
    assert info["weights_sha256"] == config["weights"]["sha256"]
    seed = (0.3 * np.sin(2 * np.pi * 220 * np.arange(SR) / SR)).astype(np.float32)
    clips = model.generate(1, 0.5, seed_audio=seed, sample_rate=SR, rng=np.random.default_rng(0))
    assert len(clips) == 1 and clips[0].shape == (8000,) and np.all(np.isfinite(clips[0]))


def test_lstm_sampling_is_seeded_and_unconditional_works():
    model = get_model_class("lstm", family="generation")(device="cpu", temperature=0.5, burn_in=0.1)
    a = model.generate(2, 0.25, sample_rate=SR, rng=np.random.default_rng(1))
    b = model.generate(2, 0.25, sample_rate=SR, rng=np.random.default_rng(1))
    assert [x.shape for x in a] == [(4000,), (4000,)]
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], a[1])
    at_22k = model.generate(1, 0.25, sample_rate=22050, rng=np.random.default_rng(1))
    assert at_22k[0].shape == (5512,) or at_22k[0].shape == (5513,)
    with pytest.raises(ConfigError, match="model lstm: temperature must be >= 0, not -1"):
        get_model_class("lstm", family="generation")(temperature=-1)


def test_checkpoint_of_another_architecture_is_refused():
    model = get_model_class("fc-lstm", family="generation")(device="cpu", checkpoint=str(shipped_dir() / "lstm"))
    with pytest.raises(ModelError, match="lstm.npz: checkpoint is a 'lstm' network, model fc-lstm needs 'fc-lstm'"):
        model.load()


# ---- floors and ceilings ----------------------------------------------------------------------
def test_coloured_noise_level_colour_and_seed():
    x = coloured_noise(32000, rng=np.random.default_rng(0), colour="pink", rms_db=-20.0)
    assert 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))) == pytest.approx(-20.0, abs=1e-4)
    np.testing.assert_array_equal(x, coloured_noise(32000, rng=np.random.default_rng(0)))
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    low, high = spectrum[100:200].mean(), spectrum[10000:10100].mean()
    assert 50 < low / high < 200  # pink: power ~ 1/f, f ratio 100
    with pytest.raises(ConfigError, match="noise colour must be one of white, pink, brown, not 'red'"):
        coloured_noise(10, rng=np.random.default_rng(0), colour="red")


def _context(item_id="piano-test-000", **params):
    return Context(item=Item(id=item_id, dataset="synth"), seed=0, params=params)


def test_copy_train_returns_training_audio(synth_root):
    from musebench.audio import load_audio
    from musebench.datasets.synth import SynthDataset

    train = SynthDataset(root=synth_root, variant="piano").items("train")
    model = get_model_class("copy-train", family="generation")()
    ctx = _context(train_items=train, seed_seconds=3.0)
    clip = model.generate(1, 2.0, seed_audio=np.zeros(48000, np.float32), sample_rate=SR,
                          rng=np.random.default_rng(5), context=ctx)[0]
    sources = [load_audio(it.audio_path, sample_rate=SR)[0][48000:80000] for it in train]
    assert any(np.array_equal(clip, s) for s in sources)
    with pytest.raises(ModelError, match=r"model copy-train: no training items in context.params\['train_items'\]"):
        model.generate(1, 1.0, sample_rate=SR, rng=np.random.default_rng(0), context=_context())


def test_oracle_and_predictions(tmp_path: Path):
    from musebench.audio import write_audio
    from musebench.families.generation import Clip

    oracle = get_model_class("oracle", family="generation")()
    assert oracle.uses_reference
    ref = Clip(np.linspace(-0.5, 0.5, 800).astype(np.float32), SR)
    ctx = Context(item=Item(id="x", dataset="synth"), seed=0, reference=ref)
    np.testing.assert_array_equal(oracle.generate(1, 0.05, sample_rate=SR, rng=None, context=ctx)[0], ref.audio)
    with pytest.raises(ModelError, match="model oracle: no reference in the context"):
        oracle.generate(1, 0.05, sample_rate=SR, rng=None, context=_context())

    write_audio(tmp_path / "clip-000.wav", ref.audio, SR)
    preds = get_model_class("predictions", family="generation")(path=str(tmp_path))
    preds.load()
    got = preds.generate(1, 0.05, sample_rate=SR, rng=None, context=_context("clip-000"))[0]
    np.testing.assert_allclose(got, ref.audio, atol=1 / 32768)
    assert preds.info()["predictions_files"] == 1 and len(preds.weights_sha256()) == 64
    with pytest.raises(MissingDataError, match=r"predictions: no audio file for item 'clip-001' \(expected "):
        preds.generate(1, 0.05, sample_rate=SR, rng=None, context=_context("clip-001"))
    with pytest.raises(ConfigError,
                       match=r"predictions: parameter 'path' \(directory of <item_id>.wav files\) is required"):
        get_model_class("predictions", family="generation")()


# ---- training ---------------------------------------------------------------------------------
def test_train_two_steps_writes_a_reproducible_checkpoint(synth_root, tmp_path: Path):
    from musebench.datasets.synth import SynthDataset
    from musebench.training import TrainConfig, train

    config = TrainConfig(model="conv-lstm", max_steps=2, hidden_size=8, batch_size=2, seq_frames=8,
                         free_run_frames=3, validation_split=None, device="cpu")
    a = train(config, output=tmp_path / "a", data_dir=synth_root, progress=False)
    b = train(config, output=tmp_path / "b", data_dir=synth_root, progress=False)
    assert a.steps == 2 and a.weights_path.name == "conv-lstm.npz"
    assert a.weights_path.read_bytes() == b.weights_path.read_bytes()  # seeded: same bytes
    saved = json.loads(a.config_path.read_text())
    assert saved["data"]["fingerprint"] == SynthDataset(variant="piano").fingerprint("train")
    assert saved["training"]["max_steps"] == 2 and saved["network"]["hidden_size"] == 8
    model = get_model_class("conv-lstm", family="generation")(device="cpu", checkpoint=str(a.weights_path))
    clip = model.generate(1, 0.1, seed_audio=np.zeros(4000, np.float32), sample_rate=SR,
                          rng=np.random.default_rng(0))[0]
    assert clip.shape == (1600,)


def test_train_config_errors():
    from musebench.training import TrainConfig

    with pytest.raises(UnknownNameError, match="noise"):
        TrainConfig(model="noise").check()
    with pytest.raises(ConfigError, match="train lstm: epochs must be >= 1, not 0"):
        TrainConfig(model="lstm", epochs=0).check()
    with pytest.raises(ConfigError, match=r"train lstm: free_run_frames must be in \[0, seq_frames\), not 8"):
        TrainConfig(model="lstm", seq_frames=8, free_run_frames=8).check()


def test_train_cli(synth_root, tmp_path: Path, capsys):
    from musebench.cli import main

    code = main(["train", "fc-lstm", "--max-steps", "1", "--hidden-size", "4", "--batch-size", "1",
                 "--seq-frames", "4", "--free-run-frames", "1", "--device", "cpu", "--output", str(tmp_path),
                 "--data-dir", str(synth_root), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"wrote {tmp_path / 'fc-lstm.npz'}" in out
    assert f"--param checkpoint={tmp_path / 'fc-lstm'}" in out
    with pytest.raises(SystemExit):
        main(["train", "noise"])
