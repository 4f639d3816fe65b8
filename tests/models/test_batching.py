"""Batching across items (``--batch-items``): same results as one by one, failures stay per item.

A test model that batches (it overrides ``transcribe_batch``) records the group sizes it gets
(in a file: it runs in the runner's worker process);
basic-pitch's own ``transcribe_batch`` must give exactly the notes of ``transcribe`` per item.
"""
from __future__ import annotations

import os
import textwrap
from typing import ClassVar

import numpy as np
import pytest

import core_fixtures
from musebench.errors import ConfigError
from musebench.models import MODELS
from musebench.models.base import TranscriptionModel
from musebench.results import stable_view
from musebench.runner import RunOptions, run_task
from musebench.types import Notes

TASK = textwrap.dedent("""\
    name: toy-batch
    family: transcription
    version: 1
    dataset: toy
    split: test
    sample_rate: 16000
    metrics: [onset_f1, onset_offset_f1, frame_f1]
""")


def _log_call(kind: str, n: int, path: str | None = None) -> None:
    # the test's file, or the model's ``calls`` parameter (Ray workers do not see the test's environment)
    with open(path or os.environ["BATCHING_ORACLE_CALLS"], "a") as f:
        f.write(f"{kind} {n}\n")


def calls(path: str | None = None) -> list[tuple[str, int]]:
    """The calls the model got since the last :func:`clear_calls`, in order."""
    path = path or os.environ["BATCHING_ORACLE_CALLS"]
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [(kind, int(n)) for kind, n in (line.split() for line in f)]


def clear_calls() -> None:
    open(os.environ["BATCHING_ORACLE_CALLS"], "w").close()


class BatchingOracle(TranscriptionModel):
    """Returns the reference; batches across items; fails on item ``fail_id`` (alone or in a batch)."""

    name: ClassVar[str] = "batching-oracle"
    sample_rate: ClassVar[int] = core_fixtures.SR
    uses_reference: ClassVar[bool] = True
    def transcribe(self, audio, *, sample_rate, context):
        _log_call("one", 1, self.params.get("calls"))
        if context.item.id == self.params.get("fail_id"):
            raise RuntimeError("bad item")
        return context.reference

    def transcribe_batch(self, audios, *, sample_rate, contexts):
        _log_call("batch", len(audios), self.params.get("calls"))
        assert all(a.dtype == np.float32 and a.ndim == 1 for a in audios)
        if any(c.item.id == self.params.get("fail_id") for c in contexts):
            raise RuntimeError("bad batch")
        return [c.reference for c in contexts]


@pytest.fixture
def toy(tmp_path, monkeypatch):
    _, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK)
    MODELS["transcription"].register(BatchingOracle.name, BatchingOracle, replace=True)
    monkeypatch.setenv("BATCHING_ORACLE_CALLS", str(tmp_path / "calls.txt"))
    return {"task": str(task), "results": tmp_path / "results"}


def run(toy, model="batching-oracle", **kw):
    return run_task(RunOptions(task=toy["task"], model=model, results_dir=toy["results"], progress=False,
                               device="cpu", **kw))


def test_batched_run_equals_one_by_one(toy):
    one = run(toy, run_id="one")
    assert calls() == [("one", 1)] * 4
    clear_calls()
    batched = run(toy, run_id="batched", batch_items=3)
    assert calls() == [("batch", 3), ("one", 1)]  # 4 items: a group of 3, then one alone
    a, b = one.results, batched.results
    a.pop("run_id"), b.pop("run_id")
    assert stable_view(a) == stable_view(b)
    assert b["metrics"]["onset_f1"]["mean"] == 1.0 and b["n_scored"] == 4
    preds = lambda out: {p.name: p.read_bytes() for p in (out.run_dir / "predictions").iterdir()}  # noqa: E731
    assert preds(one) == preds(batched)
    import json

    records = [json.loads(p.read_text()) for p in sorted((batched.run_dir / "items").iterdir())]
    assert all(r["model_seconds"] is not None and r["model_seconds"] >= 0 for r in records)


def test_a_failing_item_fails_alone(toy):
    out = run(toy, batch_items=4, model_params={"fail_id": "toy-02"})
    assert calls() == [("batch", 4)] + [("one", 1)] * 4  # the batch fails, then one by one
    assert out.results["n_scored"] == 3
    assert out.results["failures"] == [
        {"item": "toy-02", "error": "item toy-02: model batching-oracle raised RuntimeError: bad item"}]


def test_resume_and_models_that_do_not_batch(toy):
    out = run(toy, run_id="r", batch_items=2)
    assert calls() == [("batch", 2), ("batch", 2)]
    (out.run_dir / "items" / "toy-00.json").unlink()
    (out.run_dir / "predictions" / "toy-00.mid").unlink()
    (out.run_dir / "items" / "toy-01.json").unlink()  # prediction kept: re-scored, not predicted
    clear_calls()
    seen = []
    again = run_task(RunOptions(task=toy["task"], model="batching-oracle", results_dir=toy["results"], progress=False,
                                device="cpu", run_id="r", batch_items=2), on_item=seen.append)
    assert sorted(r["id"] for r in seen) == ["toy-00", "toy-01"]
    assert calls() == [("one", 1)]
    assert again.results["n_scored"] == 4
    # a model without transcribe_batch runs one by one whatever --batch-items says
    plain = run(toy, model="oracle", run_id="plain", batch_items=3)
    assert plain.results["metrics"]["onset_f1"]["mean"] == 1.0


def test_batch_items_must_be_positive(toy):
    with pytest.raises(ConfigError, match=r"^--batch-items must be a whole number of at least 1, not 0$"):
        run(toy, batch_items=0)


def test_ray_backend_batches_too(toy, tmp_path, ray_cluster):
    # the workers import this module and core_fixtures (the ray_cluster fixture's PYTHONPATH)
    params = {"calls": str(tmp_path / "ray-calls.txt")}
    remote = run(toy, run_id="ray", backend="ray", workers=2, batch_items=2, model_params=params)
    assert calls(params["calls"]) == [("batch", 2), ("batch", 2)]
    local = run(toy, run_id="local", batch_items=2, model_params=params)
    a, b = local.results, remote.results
    a.pop("run_id"), b.pop("run_id")
    assert stable_view(a) == stable_view(b)


def test_basic_pitch_transcribe_batch_equals_transcribe():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tinysoundfont")
    from musebench.models import get_model_class
    from musebench.render import render_notes

    rng = np.random.default_rng(0)
    clips = []
    for seconds in (3.0, 1.2):  # 3 windows and 1 window at 22050 Hz
        on = np.sort(rng.uniform(0.1, seconds - 0.5, 8))
        notes = Notes.from_arrays(intervals=np.c_[on, on + 0.3], pitches=rng.integers(48, 80, 8),
                                  velocities=rng.integers(60, 110, 8))
        clips.append(render_notes(notes, sample_rate=16000))
    clips.insert(1, np.zeros(0, np.float32))
    model = get_model_class("basic-pitch")(device="cpu", batch_size=2)  # windows of two items share a call
    assert model.batches_items()
    one = [model.transcribe(a, sample_rate=16000, context=None) for a in clips]
    many = model.transcribe_batch(clips, sample_rate=16000, contexts=[None] * len(clips))
    assert [len(n) for n in one] == [len(n) for n in many] and len(one[0]) > 0 and len(one[1]) == 0
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a.intervals, b.intervals)
        np.testing.assert_array_equal(a.pitches, b.pitches)
        np.testing.assert_array_equal(a.velocities, b.velocities)
