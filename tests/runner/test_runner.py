"""Runs end to end on a tiny fixture dataset: results, resume, failures, bad input."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import core_fixtures
from musebench.errors import MissingDataError, UnknownNameError
from musebench.results import load_run, stable_view
from musebench.runner import RunOptions, run_task

TASK = textwrap.dedent("""\
    name: toy-notes
    family: transcription
    version: 1
    dataset: toy
    split: test
    sample_rate: 16000
    metrics: [onset_f1, onset_offset_f1, frame_f1]
""")


@pytest.fixture
def toy(tmp_path, monkeypatch):
    root, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK)
    return {"task": str(task), "results": tmp_path / "results", "root": root}


def opts(toy, model, **kw):
    return RunOptions(task=toy["task"], model=model, results_dir=toy["results"], progress=False, device="cpu", **kw)


def test_oracle_scores_one_and_writes_the_run(toy):
    out = run_task(opts(toy, "oracle"))
    res = out.results
    assert res["schema_version"] == 1
    assert res["n_items"] == res["n_scored"] == 4
    assert res["failures"] == []
    for m in ("onset_f1", "onset_offset_f1", "frame_f1"):
        assert res["metrics"][m]["mean"] == 1.0
        assert res["metrics"][m]["ci_low"] == res["metrics"][m]["ci_high"] == 1.0
        assert res["metrics"][m]["n"] == 4
    assert res["dataset"]["verified"] is True
    assert len(res["dataset"]["fingerprint"]) == 64
    assert res["task"]["yaml_sha256"] and res["task"]["version"] == 1
    # each prediction: the MIDI file and its exact notes (issue 14: an oracle scores exactly 1.0)
    assert sorted(p.name for p in (out.run_dir / "predictions").iterdir()) == sorted(
        [f"toy-{k:02d}.mid" for k in range(4)] + [f"toy-{k:02d}.notes.json" for k in range(4)])
    assert (out.run_dir / "items.csv").read_text().splitlines()[0].startswith("item,status,error,")
    assert load_run(out.run_dir).model == "oracle"


def test_rerun_is_identical_except_volatile_fields(toy):
    a = run_task(opts(toy, "noisy-oracle", run_id="a")).results
    b = run_task(opts(toy, "noisy-oracle", run_id="b")).results
    a.pop("run_id"), b.pop("run_id")
    assert stable_view(a) == stable_view(b)
    assert a["metrics"]["onset_f1"]["mean"] < 1.0


def test_resume_skips_recorded_items_and_rescores_orphan_predictions(toy):
    first = run_task(opts(toy, "noisy-oracle"))
    run_dir = first.run_dir
    # simulate a crash after the prediction of toy-03 was written but before its record
    (run_dir / "items" / "toy-03.json").unlink()
    mtimes = {p.name: p.stat().st_mtime_ns for p in (run_dir / "predictions").iterdir()}
    seen = []
    second = run_task(opts(toy, "noisy-oracle"), on_item=seen.append)
    assert [r["id"] for r in seen] == ["toy-03"]
    assert seen[0]["model_seconds"] is None  # re-scored, not re-predicted
    assert {p.name: p.stat().st_mtime_ns for p in (run_dir / "predictions").iterdir()} == mtimes
    assert second.results["metrics"] == first.results["metrics"]


def test_kill_9_mid_run_then_resume_gives_same_numbers(toy, tmp_path):
    ref = run_task(opts(toy, "slow", run_id="ref", model_params={"seconds": 0})).results
    env = dict(os.environ, MUSEBENCH_TOY_ROOT=str(toy["root"]), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    code = textwrap.dedent(f"""
        import core_fixtures; core_fixtures.install()
        from musebench.runner import RunOptions, run_task
        run_task(RunOptions(task={toy['task']!r}, model='slow', model_params={{'seconds': 0.6}},
                            results_dir={str(toy['results'])!r}, progress=False, device='cpu', run_id='killed'))
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    items_dir = toy["results"] / "runs" / "toy-notes" / "slow" / "killed" / "items"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(items_dir.glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in items_dir.glob("*.json"))
    assert 2 <= len(done) < 4
    assert not list(items_dir.parent.rglob("*.tmp"))
    seen = []
    resumed = run_task(opts(toy, "slow", run_id="killed", model_params={"seconds": 0.6}), on_item=seen.append)
    assert len(seen) == 4 - len(done)
    assert resumed.results["metrics"] == ref["metrics"]


def test_a_raising_model_fails_one_item_and_the_run_goes_on(toy):
    res = run_task(opts(toy, "raising")).results
    assert res["n_scored"] == 3
    assert res["failures"] == [{"item": "toy-01", "error": "item toy-01: model raising raised RuntimeError: boom"}]
    assert res["metrics"]["onset_f1"]["n"] == 3


@pytest.mark.parametrize("kind, error", [
    ("list", "item toy-00: model garbage returned list, not Notes"),
    ("nan", "item toy-00: model garbage output: note times contain NaN or inf"),
])
def test_garbage_output_is_recorded_per_item(toy, kind, error):
    res = run_task(opts(toy, "garbage", model_params={"kind": kind})).results
    assert res["n_scored"] == 0
    assert res["failures"][0] == {"item": "toy-00", "error": error}
    assert res["metrics"] == {}


def test_item_timeout(toy):
    res = run_task(opts(toy, "slow", model_params={"seconds": 5}, limit=1, item_timeout=0.3)).results
    assert res["failures"] == [{"item": "toy-00", "error": "item toy-00: timed out after 0.3 s"}]


def test_corrupt_audio_fails_that_item_only(toy):
    (toy["root"] / "toy-02.wav").write_bytes(b"RIFF not really")
    res = run_task(opts(toy, "oracle", allow_unverified=True)).results
    assert res["n_scored"] == 3
    (fail,) = res["failures"]
    assert fail["item"] == "toy-02"
    # the oracle does not read audio; a model that does gets the file-named error
    res = run_task(opts(toy, "raising", model_params={"fail_suffix": "zz"}, allow_unverified=True, run_id="r")).results
    (fail,) = res["failures"]
    assert fail["error"].startswith(f"{toy['root'] / 'toy-02.wav'}: not a readable audio file")


def test_unverified_data_is_refused_unless_asked(toy):
    (toy["root"] / ".musebench-verified.json").unlink()
    with pytest.raises(MissingDataError, match=r"split 'test' is not verified; run `musebench datasets verify toy`"):
        run_task(opts(toy, "oracle"))
    res = run_task(opts(toy, "oracle", allow_unverified=True)).results
    assert res["dataset"]["verified"] is False


def test_unknown_model_and_split(toy):
    with pytest.raises(UnknownNameError, match="did you mean 'oracle'"):
        run_task(opts(toy, "orakle"))


def test_cli_run_and_leaderboard(toy, capsys):
    from musebench.cli import main

    assert main(["run", "--task", toy["task"], "--model", "oracle", "--results-dir", str(toy["results"]),
                 "--no-progress", "--device", "cpu"]) == 0
    assert main(["run", "--task", toy["task"], "--model", "noisy-oracle", "--results-dir", str(toy["results"]),
                 "--no-progress", "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "--results-dir", str(toy["results"])]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert "oracle" in lines[2] and "1.000 [1.000, 1.000]" in lines[2]
    assert "noisy-oracle" in lines[3]
    assert main(["leaderboard", "--results-dir", str(toy["results"]), "--format", "json"]) == 0
    board = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in board[0]["ranked"]] == ["oracle", "noisy-oracle"]
