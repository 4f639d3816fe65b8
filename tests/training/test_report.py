"""`musebench train`: what it prints once a checkpoint is written, and the options it refuses (a trainer that does not read an option)."""
from __future__ import annotations

import json

import pytest

from musebench.training.report import report_checkpoint


def test_report_checkpoint_lines_and_json(tmp_path, capsys):
    weights = tmp_path / "umt-tiny.npz"
    weights.write_bytes(b"x" * 1_500_000)
    kw = dict(config={"b": 1, "a": [2]}, weights_path=weights, config_path=tmp_path / "umt-tiny.json",
              n_parameters=783076, task="synth-piano-to-violin", model="umt")
    assert report_checkpoint(**kw, as_json=False) == 0
    assert capsys.readouterr().out == (
        f"wrote {weights} (1.50 MB, 783076 parameters) and umt-tiny.json\n"
        f"run it: musebench run --task synth-piano-to-violin --model umt --param checkpoint={tmp_path / 'umt-tiny'}\n")
    report_checkpoint(**kw, as_json=False, details="926 steps, 92.0 min")
    assert capsys.readouterr().out.splitlines()[0] == (
        f"wrote {weights} (1.50 MB, 783076 parameters, 926 steps, 92.0 min) and umt-tiny.json")
    assert report_checkpoint(**kw, as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == {"a": [2], "b": 1}


@pytest.mark.parametrize("argv, message", [
    (["train", "umt", "--max-minutes", "3"], "train umt: --max-minutes applies to mt3/seq2seq-piano only"),
    (["train", "mt3", "--epochs", "3"], "train mt3: --epochs applies to the LSTM generators only"),
    (["train", "seq2seq-piano", "--max-steps", "5"], "train seq2seq-piano: --max-steps applies to the LSTM generators only"),
    (["train", "lstm", "--max-minutes", "3"], "train lstm: --max-minutes applies to mt3/seq2seq-piano only"),
    (["train", "mt3", "--domains", "piano"], "train mt3: --domains applies to umt only"),
    (["train", "lstm", "--init-from", "x"], "train lstm: --init-from applies to umt and mt3/seq2seq-piano only"),
    (["train", "umt", "--batch-size", "4"], "train umt: --batch-size applies to the LSTM generators and mt3/seq2seq-piano only"),
])
def test_an_option_the_trainer_does_not_read_is_refused_before_training(argv, message, tmp_path, capsys):
    from musebench.cli import main

    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"musebench: error: {message}\n"
    assert not (tmp_path / "out").exists()
