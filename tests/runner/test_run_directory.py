"""The run directory under two runs, killed writes and resumes: a lock naming its holder's PID
(stale after the holder dies), stale temporary files removed, provenance kept across resumes."""
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
from musebench.cli import main
from musebench.runner import RunOptions, run_task

TESTS = Path(__file__).resolve().parents[1]
TASK = textwrap.dedent("""\
    name: toy-dir
    family: transcription
    version: 1
    dataset: toy
    split: test
    sample_rate: 16000
    metrics: [onset_f1]
""")


@pytest.fixture
def toy(tmp_path, monkeypatch):
    root, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK)
    return {"task": str(task), "results": tmp_path / "results", "root": root}


def env(toy):
    return dict(os.environ, PYTHONPATH=str(TESTS), MUSEBENCH_TOY_ROOT=str(toy["root"]))


def wait_for(predicate, seconds=60.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_a_second_run_of_a_running_run_is_refused_naming_the_pid_and_a_dead_holder_is_stale(toy, capsys):
    code = textwrap.dedent(f"""
        import core_fixtures; core_fixtures.install()
        from musebench.runner import RunOptions, run_task
        run_task(RunOptions(task={toy['task']!r}, model='slow', model_params={{'seconds': 1.0}},
                            results_dir={str(toy['results'])!r}, progress=False, device='cpu', run_id='busy'))
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], env=env(toy))
    run_dir = toy["results"] / "runs" / "toy-dir" / "slow" / "busy"
    lock = run_dir / "run.lock"
    try:
        assert wait_for(lambda: lock.exists() and lock.read_text().startswith(f"{holder.pid} "))
        args = ["run", "--task", toy["task"], "--model", "slow", "--param", "seconds=1.0", "--run-id", "busy",
                "--results-dir", str(toy["results"]), "--no-progress", "--device", "cpu"]
        assert main(args) == 2
        err = capsys.readouterr().err.splitlines()[-1]  # after the unchecked-parameter warning
        assert err == (f"musebench: error: {run_dir}: already being run by process {holder.pid} (lock {lock}); "
                       "wait for it to finish, or give this run another --run-id")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock.read_text().startswith(f"{holder.pid} ")  # left behind by the killed run: stale
    out = run_task(RunOptions(task=toy["task"], model="slow", model_params={"seconds": 1.0}, run_id="busy",
                              results_dir=toy["results"], progress=False, device="cpu"))
    assert out.results["n_scored"] == 4
    assert lock.read_text().startswith(f"{os.getpid()} ")


def test_stale_tmp_files_of_a_killed_write_are_removed_on_resume(toy):
    first = run_task(RunOptions(task=toy["task"], model="oracle", results_dir=toy["results"], progress=False,
                                device="cpu", run_id="r"))
    target = first.run_dir / "predictions" / "toy-02.mid"
    code = ("import sys; from musebench.io_utils import atomic_write_bytes; "
            "atomic_write_bytes(sys.argv[1], b'x' * (200 << 20))")  # a long write, killed half way
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)])
    tmp_files = lambda: list(target.parent.glob(".*.tmp"))  # noqa: E731
    try:
        assert wait_for(lambda: any(p.stat().st_size > 0 for p in tmp_files()))
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert tmp_files(), "the killed write left its temporary file"
    again = run_task(RunOptions(task=toy["task"], model="oracle", results_dir=toy["results"], progress=False,
                                device="cpu", run_id="r"))
    assert tmp_files() == [] and not list(again.run_dir.rglob("*.tmp"))
    assert again.results["metrics"] == first.results["metrics"]


def test_provenance_and_total_wall_time_survive_a_resume(toy):
    pytest.importorskip("onnxruntime")
    opts = dict(task=toy["task"], model="basic-pitch", results_dir=toy["results"], progress=False, device="cpu",
                run_id="p", limit=2)
    first = run_task(RunOptions(**opts)).results
    assert first["model"]["providers"] == ["CPUExecutionProvider"]
    second = run_task(RunOptions(**opts)).results  # nothing left to predict: the model is not loaded
    assert second["model"] == first["model"]
    assert second["timing"]["invocations"] == 2
    run_dir = toy["results"] / "runs" / "toy-dir" / "basic-pitch" / "p"
    rows = json.loads((run_dir / "invocations.json").read_text())
    assert [r["wall_s"] for r in rows] == [first["timing"]["wall_s"], second["timing"]["wall_s"]]
    assert second["timing"]["total_wall_s"] == pytest.approx(first["timing"]["wall_s"] + second["timing"]["wall_s"],
                                                             abs=2e-3)
    # a resume after a kill: the model information is that of the invocation that predicted
    (run_dir / "results.json").unlink()
    third = run_task(RunOptions(**opts)).results
    assert third["model"] == first["model"] and third["timing"]["invocations"] == 3


@pytest.mark.parametrize("worker", ["process", "inline"])
def test_a_resume_with_other_weights_is_refused_before_predicting(toy, tmp_path, worker):
    import hashlib

    import fault_models
    from musebench.errors import ConfigError

    fault_models.install()
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"first")

    def run(**kw):
        return run_task(RunOptions(task=toy["task"], model="weights-file", model_params={"weights": str(weights)},
                                   results_dir=toy["results"], progress=False, device="cpu", run_id="w",
                                   worker=worker, **kw))

    first = run()
    assert first.results["n_scored"] == 4
    (first.run_dir / "items" / "toy-02.json").unlink()
    (first.run_dir / "predictions" / "toy-02.mid").unlink()
    weights.write_bytes(b"second")  # the checkpoint replaced in place: same name, same parameters
    old, new = (hashlib.sha256(b).hexdigest()[:12] for b in (b"first", b"second"))
    with pytest.raises(ConfigError) as info:
        run()
    assert str(info.value) == (f"{first.run_dir}: its predictions were made with weights sha256 {old}, but model "
                               f"weights-file now loads {new}; rerun with --fresh, or give another --run-id")
    assert not (first.run_dir / "predictions" / "toy-02.mid").exists()  # nothing predicted with the new weights
    fresh = run(fresh=True)
    assert fresh.results["model"]["weights_sha256"] == hashlib.sha256(b"second").hexdigest()
    (fresh.run_dir / "items" / "toy-02.json").unlink()
    (fresh.run_dir / "predictions" / "toy-02.mid").unlink()
    weights.write_bytes(b"first")
    with pytest.raises(ConfigError, match=f"made with weights sha256 {new}, but model weights-file now loads {old};"):
        run()  # and back: the run now holds the second weights' predictions
    weights.write_bytes(b"second")
    assert run().results["n_scored"] == 4  # the same weights again: it resumes
    weights.write_bytes(b"third")  # nothing left to predict: the files are hashed, not loaded, and refused
    with pytest.raises(ConfigError, match=f"made with weights sha256 {new}, but model weights-file now loads "
                                          f"{hashlib.sha256(b'third').hexdigest()[:12]};"):
        run()
