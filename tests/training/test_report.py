"""What ``musebench train`` prints once a checkpoint is written (every model's command uses it)."""
from __future__ import annotations

import json

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
