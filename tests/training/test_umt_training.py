"""UMT training: held-out checks, settings, augmentation splicing, resumable seeded runs."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from musebench.errors import BadInputError, ConfigError  # noqa: E402
from musebench.models.translation import umt_networks as un  # noqa: E402
from musebench.models.translation.umt import CHECKPOINT  # noqa: E402
from musebench.training.umt import UMTTrainConfig  # noqa: E402
from musebench.training.umt.data import draw_batch, training_pieces  # noqa: E402
from musebench.training.umt.loop import train  # noqa: E402


def test_train_pieces_never_share_a_seed_or_score_with_held_out_pieces():
    from musebench.datasets import synth

    pieces = training_pieces(32)
    assert [p["id"] for p in pieces][:2] == ["piano-train-000", "piano-train-001"]
    held = {synth.item_seed("piano", s, i) for s in ("validation", "test") for i in range(synth.SPLIT_SIZES[s])}
    assert len(held) == 14 and not held & {p["seed"] for p in pieces}
    assert len({p["midi_sha256"] for p in pieces}) == 32


def test_a_train_piece_equal_to_a_test_piece_is_refused(monkeypatch):
    from musebench.datasets import synth

    real = synth.item_seed
    monkeypatch.setattr(synth, "item_seed", lambda v, s, i: real(v, "test", 0) if (s, i) == ("train", 1) else real(v, s, i))
    with pytest.raises(BadInputError, match="piano-train-001 has the seed of held-out piece piano-test-000"):
        training_pieces(3)


@pytest.mark.parametrize("kw, message", [
    ({"domains": ["piano", "clarinet"]}, "unseen domain of synth-unseen-clarinet-to-piano"),
    ({"domains": ["piano"]}, "at least 2 domains"),
    ({"domains": ["piano", "musicnet-bach-cello"]}, "is not synthetic"),
    ({"size": "huge"}, "size must be one of tiny, paper"),
    ({"steps": 0}, "steps must be >= 1"),
    ({"aug_max_seconds": 0.9}, "aug_max_seconds <= segment_seconds"),
])
def test_bad_settings_are_one_line_errors(kw, message):
    with pytest.raises(ConfigError, match=message) as info:
        UMTTrainConfig(**kw).check()
    assert "\n" not in str(info.value)


def test_augmentation_splices_one_part_of_a_quarter_to_half_second():
    n = 4000
    clean = {"a": [np.full(n, 10, np.uint8)], "b": [np.full(n, 20, np.uint8)]}
    shifted = {"a": [np.full((2, n), 11, np.uint8)], "b": [np.full((2, n), 21, np.uint8)]}
    rng = np.random.default_rng(0)
    for _ in range(20):
        x, xa, labels = draw_batch(clean, shifted, ["a", "b"], rng=rng, per_domain=2, length=1000, augment=True,
                                   aug_min=250, aug_max=500)
        assert labels.tolist() == [0, 0, 1, 1]
        assert (x[:2] == 10).all() and (x[2:] == 20).all()
        for row in range(4):
            changed = np.nonzero(xa[row] != x[row])[0]
            assert 250 <= len(changed) <= 500 and changed[-1] - changed[0] == len(changed) - 1
            assert (xa[row, changed] == x[row, 0] + 1).all()
    x, xa, _ = draw_batch(clean, shifted, ["a", "b"], rng=rng, per_domain=1, length=1000, augment=False,
                          aug_min=250, aug_max=500)
    assert (x == xa).all()


def _net(domains):
    return un.UMTConfig(sample_rate=8000, encoder_channels=4, encoder_blocks=1, encoder_layers=2, latent_channels=4,
                        pool=400, decoder_blocks=1, decoder_layers=2, residual_channels=4, skip_channels=4,
                        classifier_layers=1, classifier_channels=4, domains=list(domains))


def test_training_is_seeded_resumable_and_records_provenance(tmp_path):
    cfg = dict(domains=["piano", "violin"], pieces=1, augment=False, batch_per_domain=1, segment_seconds=0.25,
               aug_min_seconds=0.1, aug_max_seconds=0.2, checkpoint_every=2)
    straight = train(UMTTrainConfig(steps=3, **cfg), output=tmp_path / "a", progress=False,
                     network=_net(cfg["domains"]))
    train(UMTTrainConfig(steps=2, **cfg), output=tmp_path / "b", progress=False, network=_net(cfg["domains"]))
    messages = []
    resumed = train(UMTTrainConfig(steps=3, **cfg), output=tmp_path / "b", progress=False,
                    network=_net(cfg["domains"]), log=messages.append)
    assert any("resuming" in m and "at step 2" in m for m in messages)
    a, _, _ = CHECKPOINT.load(straight.weights_path)
    b, config, _ = CHECKPOINT.load(resumed.weights_path)
    assert sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)
    assert config["training"]["steps"] == 3 and config["domains"] == ["piano", "violin"]
    assert config["network"]["domains"] == ["piano", "violin"] and config["format"] == CHECKPOINT.name
    assert config["data"]["pieces"] == ["piano-train-000"] and len(config["data"]["fingerprint"]) == 64
    assert config["data"]["programs"] == {"piano": 0, "violin": 40}
    assert set(config["training"]["final"]) == {"recon", "confusion", "accuracy"}
    assert config["weights"]["dtype"] == "float16"
    assert config == json.loads(resumed.config_path.read_text())
    with pytest.raises(ConfigError, match="other settings .*lambda_confusion.*--restart"):
        train(UMTTrainConfig(steps=4, lambda_confusion=0.5, **cfg), output=tmp_path / "b", progress=False,
                 network=_net(cfg["domains"]))


def test_cli_help_lists_umt_options(capsys):
    from musebench.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "umt" in text and "--size" in text and "tiny" in text and "--domains" in text and "--steps" in text


def test_init_from_continues_a_checkpoint_and_records_its_parent(tmp_path):
    cfg = dict(domains=["piano", "violin"], pieces=1, augment=False, batch_per_domain=1, segment_seconds=0.25,
               aug_min_seconds=0.1, aug_max_seconds=0.2, checkpoint_every=2)
    first = train(UMTTrainConfig(steps=2, **cfg), output=tmp_path / "a", progress=False, network=_net(cfg["domains"]))
    parent = first.config
    messages = []
    child = train(UMTTrainConfig(steps=1, init_from=str(first.weights_path.with_suffix("")), **cfg),
                  output=tmp_path / "b", progress=False, network=_net(cfg["domains"]), log=messages.append)
    assert any(m.startswith("train umt: initialised from ") and "2 steps" in m for m in messages)
    record = child.config["training"]["parent"]
    assert record == {"path": str(first.weights_path.with_suffix("")), "weights_sha256": parent["weights"]["sha256"],
                      "steps": 2, "seconds": parent["training"]["seconds"], "learning_rate": 1e-3,
                      "validation": parent["training"]["validation"]}
    # the child's weights started from the parent's: one step away, not another initialisation
    fresh = train(UMTTrainConfig(steps=1, seed=1, **cfg), output=tmp_path / "c", progress=False, network=_net(cfg["domains"]))
    a, _, _ = CHECKPOINT.load(first.weights_path)
    b, _, _ = CHECKPOINT.load(child.weights_path)
    c, _, _ = CHECKPOINT.load(fresh.weights_path)
    near = sum(float(np.abs(a[k].astype(np.float64) - b[k]).sum()) for k in a)
    far = sum(float(np.abs(a[k].astype(np.float64) - c[k]).sum()) for k in a)
    assert near < far / 5
    # a grandchild keeps the whole lineage
    grand = train(UMTTrainConfig(steps=1, init_from=str(child.weights_path.with_suffix("")), **cfg),
                  output=tmp_path / "d", progress=False, network=_net(cfg["domains"]))
    assert grand.config["training"]["parent"]["parent"] == record
    other = _net(cfg["domains"])
    other.latent_channels = 8
    with pytest.raises(ConfigError, match=r"^train umt: --init-from .* has another network \(latent_channels differ\)$"):
        train(UMTTrainConfig(steps=1, init_from=str(first.weights_path.with_suffix("")), **cfg),
              output=tmp_path / "e", progress=False, network=other)
    assert not (tmp_path / "e").exists()


def test_input_noise_perturbs_the_decoder_input_in_whole_classes():
    from musebench.training.umt.data import noisy_inputs

    x = np.full((4, 20000), 128, np.int64)
    x[:, :10] = 0
    x[:, 10:20] = 255
    y = noisy_inputs(x, np.random.default_rng(0), 6.0)
    assert y.dtype == np.int64 and y.min() == 0 and y.max() == 255
    d = (y - x)[:, 20:]
    assert abs(float(d.std()) - 6.0) < 0.05 and abs(float(d.mean())) < 0.05
    assert (y[:, :10] >= 0).all() and (y[:, 10:20] <= 255).all()
    assert (noisy_inputs(x, np.random.default_rng(0), 0.0) == x).all()


def test_cli_input_noise_default_is_the_trainers():
    from musebench.cli.train import UMT_INPUT_NOISE

    assert UMT_INPUT_NOISE == UMTTrainConfig().input_noise


def test_init_from_a_missing_checkpoint_is_one_line_before_anything_is_written(tmp_path, capsys):
    from musebench.cli import main

    out = tmp_path / "out"
    assert main(["train", "umt", "--init-from", str(tmp_path / "nothing"), "--steps", "1", "--out", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / 'nothing'}.json: UMT checkpoint file not found" in err
    assert not out.exists()
