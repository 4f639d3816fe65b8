"""Training the seq2seq transcribers: checkpoint contents, exact resumption, schedule, CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from musebench.errors import ConfigError
from musebench.training.seq2seq import Seq2SeqTrainConfig
from musebench.training.seq2seq.loop import lr_at, token_map, train

TINY = {"network": {"n_mels": 32, "d_model": 32, "n_heads": 2, "d_ff": 64, "encoder_layers": 1,
                    "decoder_layers": 1}, "validation_max_tokens": 8}


def config(**kw) -> Seq2SeqTrainConfig:
    base = dict(model="seq2seq-piano", steps=4, batch_size=2, pool_pieces=2, validate_every=2, checkpoint_every=2,
                validation_items=1, device="cpu", warmup_steps=2, extra_pieces=1000, extra=TINY)
    return Seq2SeqTrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    return out, train(config(), out=out, progress=False)


def test_checkpoint_records_config_vocabulary_data_steps_and_validation(straight):
    out, result = straight
    assert result.steps == 4
    meta = json.loads((out / "seq2seq-piano-tiny.json").read_text())
    assert meta["format"] == "musebench-seq2seq/1" and meta["model"] == "seq2seq-piano"
    assert meta["vocabulary"] == {"kind": "piano", "steps_per_second": 100, "segment_steps": 200,
                                  "num_velocity_bins": 32, "size": 366}
    training = meta["training"]
    assert training["config"]["steps"] == 4 and training["steps"] in (2, 4)
    assert [v["step"] for v in training["validation"]][:1] == [2]
    assert set(training["validation"][0]) >= {"onset_f1", "onset_offset_f1", "frame_f1", "n_ref_notes"}
    data = training["data"]
    assert data["disjointness"]["collisions"] == 0 and data["disjointness"]["extra_pieces_checked"] == 1000
    assert len(data["sha256"]) == 64 and len(data["train_split_fingerprint"]) == 64
    last = json.loads((out / "seq2seq-piano-tiny-last.json").read_text())
    assert last["training"]["steps"] == 4 and [v["step"] for v in last["training"]["validation"]] == [2, 4]
    assert (out / "seq2seq-piano-tiny.resume.pt").is_file()


def test_resumed_run_equals_a_straight_run(straight, tmp_path):
    out, _ = straight
    messages: list[str] = []
    train(config(steps=2), out=tmp_path, progress=False)
    result = train(config(steps=4), out=tmp_path, progress=False, log=messages.append)
    assert result.steps == 4 and any("resuming" in m and "at step 2" in m for m in messages)
    with np.load(out / "seq2seq-piano-tiny-last.npz") as a, np.load(tmp_path / "seq2seq-piano-tiny-last.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    with pytest.raises(ConfigError, match="resume state was written with other settings"):
        train(config(steps=5, learning_rate=0.5), out=tmp_path, progress=False)


def test_init_from_records_the_lineage_and_a_resume_keeps_it(straight, tmp_path):
    out, _ = straight
    parent = json.loads((out / "seq2seq-piano-tiny.json").read_text())
    child_dir, grandchild_dir = tmp_path / "child", tmp_path / "grandchild"
    messages: list[str] = []
    train(config(steps=2, init_from=str(out / "seq2seq-piano-tiny")), out=child_dir, progress=False)
    train(config(steps=4, init_from=str(out / "seq2seq-piano-tiny")), out=child_dir, progress=False,
          log=messages.append)
    assert any("resuming" in m for m in messages)  # the parent record is carried through the resume state
    child = json.loads((child_dir / "seq2seq-piano-tiny-last.json").read_text())
    assert child["training"]["steps"] == 4
    assert child["training"]["parent"] == {
        "path": str(out / "seq2seq-piano-tiny"), "weights_sha256": parent["weights"]["sha256"],
        "steps": parent["training"]["steps"], "seconds": parent["training"]["seconds"],
        "pieces_rendered": parent["training"]["pieces_rendered"], "learning_rate": 0.0015,
        "best": parent["training"]["best"]}
    train(config(steps=2, init_from=str(child_dir / "seq2seq-piano-tiny-last")), out=grandchild_dir, progress=False)
    grandchild = json.loads((grandchild_dir / "seq2seq-piano-tiny-last.json").read_text())["training"]["parent"]
    assert grandchild["weights_sha256"] == child["weights"]["sha256"] and grandchild["steps"] == 4
    assert grandchild["parent"] == child["training"]["parent"]
    assert "parent" not in parent["training"]


def test_schedule_warmup_cosine_and_time_budget():
    c = Seq2SeqTrainConfig(steps=1000, warmup_steps=100, learning_rate=1e-3, final_lr_fraction=0.1)
    assert lr_at(0, c) == pytest.approx(1e-5) and lr_at(99, c) == pytest.approx(1e-3)
    assert lr_at(550, c) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))
    assert lr_at(1000, c) == pytest.approx(1e-4)
    c.max_minutes = 10
    assert lr_at(200, c, elapsed=600) == pytest.approx(1e-4)  # time is up: the end of the schedule


def test_piano_to_mt3_token_map():
    from musebench.models.transcription.seq2seq.vocabulary import mt3_vocabulary, piano_vocabulary

    m, p = mt3_vocabulary(), piano_vocabulary()
    mapping = token_map(p, m)
    assert mapping[m.token("shift", 57)] == p.token("shift", 57)
    assert mapping[m.token("pitch", 60)] == p.token("pitch", 60)
    assert mapping[m.token("velocity", 1)] == p.token("velocity", 26)  # note-on <- the bin of velocity 100
    assert mapping[m.token("tie", 0)] == p.token("tie", 0)
    assert m.token("program", 5) not in mapping and len(mapping) == 3 + 201 + 128 + 2 + 1


def test_cli_builds_the_config():
    from musebench.cli import build_parser
    from musebench.training.seq2seq.command import config_from_args

    args = build_parser().parse_args(["train", "mt3", "--size", "small", "--steps", "10", "--batch-size", "8",
                                      "--max-minutes", "5", "--init-from", "x/seq2seq-piano-tiny", "--out", "o"])
    c = config_from_args(args)
    assert (c.model, c.size, c.steps, c.batch_size, c.max_minutes, c.init_from, c.variant, c.kind) == \
        ("mt3", "small", 10, 8, 5.0, "x/seq2seq-piano-tiny", "ensemble", "mt3")
    assert args.output == "o" and c.learning_rate == Seq2SeqTrainConfig().learning_rate
    with pytest.raises(ConfigError, match="--size must be tiny or small"):
        config_from_args(build_parser().parse_args(["train", "seq2seq-piano", "--size", "paper"]))
    lstm = build_parser().parse_args(["train", "lstm"])
    assert lstm.batch_size is None and lstm.learning_rate is None  # filled with TrainConfig's defaults in main
