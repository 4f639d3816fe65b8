"""docs/reproduction.md: every command in it names a real task, a model registered for the task's
family, and dataset parameters the task's dataset accepts (issue 14, part 5)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from benchmark.datasets import DATASETS
from benchmark.models import MODELS
from benchmark.tasks import get_task

DOC = Path(__file__).parents[1] / "docs" / "reproduction.md"
COMMANDS = re.findall(r"`(musebench run [^`]+)`", DOC.read_text())


def test_the_doc_has_commands():
    assert len(COMMANDS) >= 12


@pytest.mark.parametrize("command", COMMANDS)
def test_command_names_a_real_task_model_and_dataset_parameters(command):
    argv = shlex.split(command)[2:]
    opts: dict[str, list[str]] = {}
    for flag, value in zip(argv[::2], argv[1::2]):
        opts.setdefault(flag, []).append(value)
    task = get_task(opts["--task"][0])
    model = opts["--model"][0]
    assert model in MODELS[task.family], f"{command}: no {task.family} model {model!r}"
    dataset_cls = DATASETS.get(task.dataset)
    for pair in opts.get("--dataset-param", []):
        key, value = pair.split("=", 1)
        choices = getattr(dataset_cls, "param_choices", {})
        assert key in getattr(dataset_cls, "default_params", {}), f"{command}: {task.dataset} has no parameter {key}"
        if key in choices:
            assert any(str(c).lower() == value.lower() for c in choices[key]), f"{command}: {key}={value}"
    if model == "predictions":
        assert "--param" in opts and any(p.startswith("path=") for p in opts["--param"])
