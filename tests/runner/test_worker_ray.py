"""Under --backend ray a model that kills its actor fails that item with one line, like the local
worker; the actor is replaced and the other items score. A failed load stops the run."""
from __future__ import annotations

import textwrap

import pytest

import core_fixtures
import fault_models
from musebench.errors import ModelLoadError
from musebench.runner import RunOptions, run_task

ray = pytest.importorskip("ray")

TASK = textwrap.dedent("""\
    name: toy-ray-faults
    family: transcription
    version: 1
    dataset: toy
    split: test
    sample_rate: 16000
    metrics: [onset_f1]
""")


@pytest.fixture
def toy(tmp_path, monkeypatch, ray_cluster):
    root, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK)
    fault_models.install()
    return {"task": str(task), "results": tmp_path / "results"}


def run(toy, model, **kw):
    return run_task(RunOptions(task=toy["task"], model=model, results_dir=toy["results"], progress=False,
                               device="cpu", backend="ray", workers=2, **kw))


@pytest.mark.parametrize("fault", ["segfault", "exit"])
def test_a_dead_actor_fails_its_item_and_is_replaced(toy, fault):
    res = run(toy, "faulty", model_params={"fault": fault}).results
    assert res["n_scored"] == 3
    (fail,) = res["failures"]
    assert fail["item"] == "toy-01"
    assert fail["error"].startswith("item toy-01: the model's Ray actor ")
    assert "\n" not in fail["error"]


def test_a_hang_in_c_on_ray_is_stopped_by_the_item_timeout(toy):
    res = run(toy, "faulty", model_params={"fault": "deadlock"}, item_timeout=1).results
    assert res["n_scored"] == 3, res["failures"]
    assert res["failures"] == [{"item": "toy-01", "error": "item toy-01: timed out after 1 s (its Ray actor was killed)"}]


def test_a_failed_load_on_ray_stops_the_run(toy):
    with pytest.raises(ModelLoadError, match=r"^model bad-load: load\(\) failed \(OSError: weights.bin: "):
        run(toy, "bad-load")


def test_a_load_that_hangs_on_ray_stops_the_run_at_the_load_timeout(toy):
    with pytest.raises(ModelLoadError) as info:
        run(toy, "bad-load", model_params={"how": "deadlock"}, load_timeout=3)
    assert str(info.value) == ("model bad-load: loading the model did not finish in 3 s (--load-timeout); "
                               "its Ray actors were killed")


def test_a_resume_with_other_weights_is_refused_on_ray_too(toy, tmp_path):
    from musebench.errors import ConfigError

    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"first")
    first = run(toy, "weights-file", model_params={"weights": str(weights)}, run_id="w")
    (first.run_dir / "items" / "toy-02.json").unlink()
    (first.run_dir / "predictions" / "toy-02.mid").unlink()
    weights.write_bytes(b"second")
    with pytest.raises(ConfigError, match=r"its predictions were made with weights sha256 [0-9a-f]{12}, but model "
                                          r"weights-file now loads [0-9a-f]{12}; rerun with --fresh"):
        run(toy, "weights-file", model_params={"weights": str(weights)}, run_id="w")
    assert not (first.run_dir / "predictions" / "toy-02.mid").exists()
