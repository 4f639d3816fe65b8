"""The project's own regression gate: the deterministic built-in models, run on a fixed subset
of the synthetic tasks, must reproduce the committed baselines (results/baselines/ci--*.json).

A change that silently alters a metric, the data or a model's output fails here. If the change
is intended, regenerate with `python scripts/update_leaderboard.py --only-baselines`, bump the
task version where scoring changed, and say why in the commit.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from musebench.committed import CI_GATE
from musebench.gate import check
from musebench.runner import RunOptions, run_task

ROOT = Path(__file__).resolve().parent.parent

BASELINES = ROOT / "results" / "baselines"


def test_every_gate_entry_has_a_committed_baseline():
    assert CI_GATE
    for task, model, _params, _limit in CI_GATE:
        assert (BASELINES / f"ci--{task}--{model}.json").is_file(), (task, model)


@pytest.mark.parametrize("task, model, params, limit", CI_GATE, ids=[f"{t}--{m}" for t, m, _, _ in CI_GATE])
def test_built_in_models_reproduce_the_committed_baselines(task, model, params, limit, synth_env, tmp_path):
    baseline = BASELINES / f"ci--{task}--{model}.json"
    outcome = run_task(RunOptions(task=task, model=model, model_params=params, limit=limit,
                                  results_dir=tmp_path, device="cpu", progress=False))
    report = check(outcome.run_dir, baseline=str(baseline), max_drop=0.0)
    assert report.passed, report.table()
    # deterministic models: every per-item score is reproduced, not just "no significant drop"
    expected = json.loads(baseline.read_text())["items"]
    got = {p.stem: json.loads(p.read_text()) for p in (outcome.run_dir / "items").glob("*.json")}
    assert set(got) == set(expected)
    for item, rec in expected.items():
        assert got[item]["status"] == rec["status"], item
        assert got[item]["scores"].keys() == rec["scores"].keys(), item
        for name, value in rec["scores"].items():
            assert got[item]["scores"][name] == pytest.approx(value, abs=1e-9), (item, name)
