"""The metric registry holds metric functions: a test-defined metric, registered with its
declared parameters and family, is scored in a real (toy) task run like a built-in one."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import core_fixtures
from musebench.errors import ConfigError
from musebench.metrics import FUNCTION_INPUTS, METRICS, MetricSpec, function_scores, register_metric
from musebench.runner import RunOptions, run_task
from musebench.types import Notes


TASK = textwrap.dedent("""\
    name: toy-function-metric
    family: transcription
    version: 1
    dataset: toy
    split: test
    sample_rate: 16000
    metrics: [onset_f1, note_surplus]
""")


@pytest.fixture
def private_registry(monkeypatch):
    """Registrations made by a test vanish after it."""
    monkeypatch.setattr(METRICS, "_entries", dict(METRICS._entries))
    return METRICS


def note_surplus(*, reference: Notes, estimate: Notes, offset: float) -> float:
    """estimated minus reference note count, plus a declared offset"""
    return len(estimate.pitches) - len(reference.pitches) + offset


def test_a_registered_function_metric_is_scored_in_a_task_run(private_registry, tmp_path, monkeypatch):
    register_metric("note_surplus", family="transcription", higher_is_better=False,
                    params={"offset": 0.25})(note_surplus)
    spec = METRICS.get("note_surplus")
    assert spec.function is note_surplus and dict(spec.params) == {"offset": 0.25}
    assert spec.description == "estimated minus reference note count, plus a declared offset"
    _, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK)
    # inline: a metric registered in this process (plug-ins use the entry point, seen by worker processes too)
    outcome = run_task(RunOptions(task=str(task), model="oracle", results_dir=tmp_path / "results", device="cpu",
                                  progress=False, worker="inline"))
    results = json.loads((outcome.run_dir / "results.json").read_text())
    assert results["n_scored"] == 4
    got = results["metrics"]["note_surplus"]
    assert got["mean"] == pytest.approx(0.25) and got["higher_is_better"] is False  # the oracle copies the notes
    assert results["metrics"]["onset_f1"]["mean"] == pytest.approx(1.0)
    for path in (outcome.run_dir / "items").glob("*.json"):
        assert json.loads(path.read_text())["scores"]["note_surplus"] == pytest.approx(0.25)


def test_worker_processes_skip_a_metric_registered_only_in_the_parent(private_registry, tmp_path, monkeypatch):
    """The supervised worker knows built-in and entry-point metrics only: a run-time registration
    is not computed there, and the items do not fail because of it (docs/transcription.md)."""
    register_metric("note_surplus", family="transcription", higher_is_better=False,
                    params={"offset": 0.25})(note_surplus)
    _, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK.replace("toy-function-metric",
                                                                                  "toy-function-metric-worker"))
    outcome = run_task(RunOptions(task=str(task), model="oracle", results_dir=tmp_path / "results", device="cpu",
                                  progress=False))
    results = json.loads((outcome.run_dir / "results.json").read_text())
    assert results["n_scored"] == 4 and results["failures"] == []
    assert "note_surplus" not in results["metrics"] and results["metrics"]["onset_f1"]["mean"] == pytest.approx(1.0)


def test_function_scores_calls_only_function_metrics_with_their_params(private_registry):
    register_metric("note_surplus", family="transcription", higher_is_better=False, params={"offset": 1.0})(
        note_surplus)
    ref = Notes.from_arrays(intervals=np.array([[0.0, 1.0], [1.0, 2.0]]), pitches=np.array([60, 62]))
    scores = function_scores(("onset_f1", "note_surplus"), reference=ref, estimate=Notes.empty())
    assert scores == {"note_surplus": -1.0}  # onset_f1 is the family's: no function here


def test_lazy_targets_and_entry_point_specs_resolve():
    spec = MetricSpec("x", "transcription", True, "d", function=f"{__name__}:note_surplus", params={"offset": 2.0})
    assert spec.resolve() is note_surplus
    assert spec(reference=Notes.empty(), estimate=Notes.empty()) == 2.0
    with pytest.raises(ConfigError, match="computed by the transcription family"):
        METRICS.get("onset_f1")(reference=Notes.empty(), estimate=Notes.empty())


def test_registration_is_checked(private_registry):
    with pytest.raises(ConfigError, match="family must be one of transcription, translation, generation"):
        register_metric("m", family="rhythm", higher_is_better=True)(note_surplus)
    with pytest.raises(ConfigError, match=r"cannot be called with the transcription inputs .* params \['ofset'\]"):
        register_metric("m", family="transcription", higher_is_better=True, params={"ofset": 1})(note_surplus)
    with pytest.raises(ConfigError, match="cannot be called with the generation inputs"):
        register_metric("m", family="generation", higher_is_better=True, params={"offset": 1})(note_surplus)
    with pytest.raises(ConfigError, match="'onset_f1' is already registered"):
        register_metric("onset_f1", family="transcription", higher_is_better=True, params={"offset": 1})(
            note_surplus)
    assert set(FUNCTION_INPUTS) == {"transcription", "translation", "generation"}


def test_a_translation_metric_function_gets_the_features(private_registry):
    from musebench.metrics import translation as tm
    from musebench.metrics.translation_signals import SR, melody

    @register_metric("active_share", family="translation", higher_is_better=True, params={"of": "output"})
    def active_share(*, source, output, reference, of):
        """share of active frames of one signal"""
        return float({"source": source, "output": output}[of].active.mean())

    src = tm.extract_features(melody(1), sample_rate=SR)
    out = tm.extract_features(melody(1, gain=0.01), sample_rate=SR)
    scores = function_scores(["content_correlation", "active_share"], source=src, output=out, reference=None)
    assert scores == {"active_share": pytest.approx(float(out.active.mean()))}
