"""A Ray run (local 2-CPU cluster started by the test) equals a local run, and resumes."""
from __future__ import annotations

import textwrap

import pytest

import core_fixtures
from musebench.results import stable_view
from musebench.runner import RunOptions, run_task

ray = pytest.importorskip("ray")


def test_ray_run_equals_local_run(tmp_path, monkeypatch, ray_cluster):
    _, task = core_fixtures.toy_task(tmp_path, monkeypatch, n=6, task_yaml=textwrap.dedent("""\
        name: toy-ray
        family: transcription
        version: 1
        dataset: toy
        split: test
        metrics: [onset_f1, onset_offset_f1, frame_f1]
    """))

    def run(backend, run_id, **kw):
        return run_task(RunOptions(task=str(task), model="noisy-oracle", results_dir=tmp_path / "res",
                                   progress=False, device="cpu", backend=backend, run_id=run_id, **kw))

    local = run("local", "same")
    (local.run_dir.parent / "same").rename(local.run_dir.parent / "local")
    remote = run("ray", "same")
    a, b = stable_view(local.results), stable_view(remote.results)
    assert a == b
    assert remote.results["n_scored"] == 6
    local_preds = {p.name: p.read_bytes() for p in (local.run_dir.parent / "local" / "predictions").iterdir()}
    ray_preds = {p.name: p.read_bytes() for p in (remote.run_dir / "predictions").iterdir()}
    assert local_preds == ray_preds
    # resume: drop two records, the Ray run redoes only those
    for i in ("toy-01", "toy-04"):
        (remote.run_dir / "items" / f"{i}.json").unlink()
    seen = []
    again = run_task(RunOptions(task=str(task), model="noisy-oracle", results_dir=tmp_path / "res", progress=False,
                                device="cpu", backend="ray", run_id="same"), on_item=seen.append)
    assert sorted(r["id"] for r in seen) == ["toy-01", "toy-04"]
    assert stable_view(again.results) == b
