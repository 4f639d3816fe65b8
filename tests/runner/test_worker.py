"""The supervised worker (local backend): a model that crashes, exits, deadlocks in C or runs out
of memory on one item fails that item with one line; a fresh worker scores the others."""
from __future__ import annotations

import json
import textwrap
import time

import pytest

import core_fixtures
from musebench.errors import ConfigError, ModelLoadError
from musebench.runner import RunOptions, run_task



@pytest.fixture
def toy(tmp_path, monkeypatch):
    return core_fixtures.toy_run(tmp_path, monkeypatch, name="toy-faults")


def run(toy, model="faulty", **kw):
    kw.setdefault("device", "cpu")
    return run_task(RunOptions(task=toy["task"], model=model, results_dir=toy["results"], progress=False, **kw))


@pytest.mark.parametrize("fault, error", [
    ("segfault", "item toy-01: the model's worker process killed by SIGSEGV"),
    ("exit", "item toy-01: the model's worker process exited with status 3"),
    ("sigkill", "item toy-01: the model's worker process killed by SIGKILL"),
    ("system-exit", "item toy-01: the model raised SystemExit(3)"),
    ("keyboard-interrupt", "item toy-01: the model raised KeyboardInterrupt"),
])
def test_a_dying_model_fails_its_item_and_a_fresh_worker_goes_on(toy, fault, error):
    out = run(toy, model_params={"fault": fault})
    res = out.results
    assert res["n_scored"] == 3
    assert res["failures"] == [{"item": "toy-01", "error": error}]
    assert out.worker_stats["starts"] == 2
    record = json.loads((out.run_dir / "items" / "toy-01.json").read_text())
    assert record["killed_worker"] is True and record["status"] == "failed"


def test_a_deadlock_in_c_is_stopped_by_the_item_timeout(toy):
    t0 = time.perf_counter()
    res = run(toy, model_params={"fault": "deadlock"}, item_timeout=1).results
    assert time.perf_counter() - t0 < 20
    assert res["n_scored"] == 3
    (fail,) = res["failures"]
    assert fail["error"] == ("item toy-01: timed out after 1 s (stuck where Python cannot interrupt it; "
                             "its worker was killed after 2 s)")


def test_memory_above_max_memory_fails_the_item(toy):
    res = run(toy, model="memory-hog", model_params={"mb": 400}, max_memory_mb=250).results
    assert res["n_scored"] == 3
    (fail,) = res["failures"]
    assert fail["item"] == "toy-01"
    assert fail["error"].startswith("item toy-01: the model's worker used ")
    assert fail["error"].endswith(" MB, above --max-memory 250 MB (worker killed)")
    used = float(fail["error"].split("used ")[1].split(" MB")[0])
    assert 250 < used < 700


def test_a_batched_call_that_crashes_is_pinned_on_its_item(toy):
    res = run(toy, model="faulty-batching", model_params={"fault": "segfault", "fail_id": "toy-02"},
              batch_items=4).results
    assert res["n_scored"] == 3
    assert res["failures"] == [{"item": "toy-02", "error": "item toy-02: the model's worker process killed by SIGSEGV"}]


def test_items_that_killed_the_worker_are_retried_only_when_asked(toy):
    first = run(toy, model_params={"fault": "exit"}, run_id="r")
    assert first.results["n_scored"] == 3
    seen = []
    again = run_task(RunOptions(task=toy["task"], model="faulty", model_params={"fault": "exit"}, device="cpu",
                                results_dir=toy["results"], progress=False, run_id="r"), on_item=seen.append)
    assert seen == [] and again.results["failures"] == first.results["failures"]
    again = run_task(RunOptions(task=toy["task"], model="faulty", model_params={"fault": "exit"}, device="cpu",
                                results_dir=toy["results"], progress=False, run_id="r", retry_failed=True),
                     on_item=seen.append)
    assert [r["id"] for r in seen] == ["toy-01"]


@pytest.mark.parametrize("how, message", [
    ("raise", "model bad-load: load() failed (OSError: weights.bin: checkpoint truncated)"),
    ("segfault", "model bad-load: its worker killed by SIGSEGV while loading the model"),
])
def test_a_failed_load_stops_the_run(toy, how, message):
    with pytest.raises(ModelLoadError) as info:
        run(toy, model="bad-load", model_params={"how": how})
    assert str(info.value) == message
    assert list((toy["results"]).rglob("items/*.json")) == []  # nothing was scored on a model that never loaded


def test_a_load_that_hangs_in_c_stops_the_run_at_the_load_timeout(toy):
    t0 = time.monotonic()
    with pytest.raises(ModelLoadError) as info:
        run(toy, model="bad-load", model_params={"how": "deadlock"}, load_timeout=1.5)
    assert str(info.value) == ("model bad-load: loading the model did not finish in 1.5 s (--load-timeout); "
                               "its worker was killed")
    assert time.monotonic() - t0 < 60
    assert list((toy["results"]).rglob("items/*.json")) == []


def test_the_default_load_timeout_and_a_bad_one(toy):
    from musebench.runner.plan import DEFAULT_LOAD_TIMEOUT_S, plan_run

    plan = plan_run(RunOptions(task=toy["task"], model="faulty", results_dir=toy["results"], device="cpu"))
    assert plan.load_timeout == DEFAULT_LOAD_TIMEOUT_S == 900.0
    with pytest.raises(ConfigError, match=r"^--load-timeout must be a positive number of seconds, not 0$"):
        run(toy, model="faulty", load_timeout=0)
    assert not toy["results"].exists() or list(toy["results"].rglob("config.json")) == []


def test_the_default_item_timeout_is_per_family_and_proportional_to_duration(toy):
    from musebench.runner.plan import plan_run

    plan = plan_run(RunOptions(task=toy["task"], model="faulty", results_dir=toy["results"], device="cpu"))
    assert plan.timeout_for(plan.items[0]) == 120 + 20 * 2.0  # toy items last 2 s
    plan.options.item_timeout = 7
    assert plan.timeout_for(plan.items[0]) == 7


def test_worker_overhead_per_item_is_small(toy):
    out = run(toy, model="oracle")
    stats = out.worker_stats
    assert stats["items"] == 4 and stats["starts"] == 1
    assert stats["ipc_s"] / stats["items"] < 0.05  # measured: well under 1 ms per item


def test_a_model_defined_in_the_running_script_runs_in_a_spawned_worker(toy, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "my_eval.py"
    script.write_text(textwrap.dedent(f"""
        import ctypes
        import core_fixtures
        from musebench.models import MODELS
        from musebench.models.base import TranscriptionModel
        from musebench.types import Notes

        class ScriptModel(TranscriptionModel):
            name = "script-model"
            sample_rate = 16000

            def transcribe(self, audio, *, sample_rate, context):
                if context.item.id == "toy-02":
                    ctypes.string_at(0)
                return Notes.empty()

        if __name__ == "__main__":
            core_fixtures.install()
            MODELS["transcription"].register("script-model", ScriptModel)
            from musebench.runner import RunOptions, run_task
            out = run_task(RunOptions(task={toy['task']!r}, model="script-model", results_dir={str(toy['results'])!r},
                                      progress=False, device="cpu"))
            print(out.results["n_scored"], out.results["failures"][0]["error"])
    """))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "3 item toy-02: the model's worker process killed by SIGSEGV"
