"""Configuration is checked before a run directory exists: each mistake is one line, exit 2,
and nothing is written."""
from __future__ import annotations

import textwrap

import pytest

import core_fixtures
from musebench.cli import main
from musebench.device import cuda_available

TASK = textwrap.dedent("""\
    name: toy-config
    family: transcription
    version: 1
    dataset: toy
    split: test
    sample_rate: 16000
    metrics: [onset_f1, frame_f1]
""")


@pytest.fixture
def toy(tmp_path, monkeypatch):
    _, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK)
    return {"task": task, "results": tmp_path / "results", "tmp": tmp_path}


def run_cli(toy, *args, task=None):
    return main(["run", "--task", str(task or toy["task"]), "--results-dir", str(toy["results"]), "--no-progress",
                 *args])


def assert_refused(toy, capsys, code, message):
    err = capsys.readouterr().err
    assert code == 2, err
    assert err == f"musebench: error: {message}\n"
    assert not toy["results"].exists()  # nothing written


@pytest.mark.parametrize("args, message", [
    (["--model", "basic-pitch", "--param", "onset_treshold=0.4"],
     "model basic-pitch: unknown parameter 'onset_treshold'; did you mean 'onset_threshold', 'frame_threshold'?"),
    (["--model", "noisy-oracle", "--param", "drop_prob=abc"],
     "model noisy-oracle: parameter drop_prob must be float, not 'abc'"),
    (["--model", "noisy-oracle", "--param", "drop_prob=1.5"],
     "noisy-oracle: drop_prob must be in [0, 1], not 1.5"),
    (["--model", "basic-pitch", "--param", "batch_size=2.5"],
     "model basic-pitch: parameter batch_size must be int, not 2.5"),
    (["--model", "oracle", "--param", "threshold=1"],
     "model oracle: unknown parameter 'threshold' (known: none)"),
    (["--model", "oracle", "--item-timeout", "0"], "--item-timeout must be a positive number of seconds, not 0.0"),
    (["--model", "oracle", "--item-timeout", "-3"], "--item-timeout must be a positive number of seconds, not -3.0"),
    (["--model", "oracle", "--max-memory", "0"], "--max-memory must be a positive number of MB, not 0.0"),
])
def test_bad_model_options(toy, capsys, args, message):
    assert_refused(toy, capsys, run_cli(toy, "--device", "cpu", *args), message)


@pytest.mark.skipif(cuda_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(toy, capsys):
    assert_refused(toy, capsys, run_cli(toy, "--model", "oracle", "--device", "cuda"),
                   "device 'cuda' requested but no CUDA device is visible")


@pytest.mark.parametrize("edit, message", [
    ("params: {onset_tolernace: 0.05}",
     "params: unknown transcription parameter 'onset_tolernace'; did you mean 'onset_tolerance', 'offset_min_tolerance', 'velocity_tolerance'?"),
    ("params: {onset_tolerance: -0.05}", "params: onset_tolerance must be >= 0, not -0.05"),
    ("params: {onset_tolerance: fast}", "params: onset_tolerance must be a number, not 'fast'"),
])
def test_bad_task_params(toy, capsys, edit, message):
    task = toy["tmp"] / "bad.yaml"
    task.write_text(TASK + edit + "\n")
    assert_refused(toy, capsys, run_cli(toy, "--model", "oracle", "--device", "cpu", task=task), f"{task}: {message}")


@pytest.mark.parametrize("old, new, message", [
    ("sample_rate: 16000", "sample_rate: -5", "sample_rate must be a whole number of Hz between 1000 and 384000, not -5"),
    ("metrics: [onset_f1, frame_f1]", "metrics: [onset_f1, frame_f1]\nprimary_metric: onset_offset_f1",
     "primary_metric 'onset_offset_f1' is not among the task's metrics (did you mean 'onset_f1'?)"),
    ("metrics: [onset_f1, frame_f1]", "metrics: [onset_f1, frame_f1]\nprimary_metric: frame_f2",
     "primary_metric 'frame_f2' is not among the task's metrics (did you mean 'frame_f1'?)"),
    ("metrics: [onset_f1, frame_f1]", "metrics: [onset_f1, content_correlation]",
     "metric(s) content_correlation are not transcription metrics"),
])
def test_bad_task_fields(toy, capsys, old, new, message):
    task = toy["tmp"] / "bad.yaml"
    task.write_text(TASK.replace(old, new))
    assert_refused(toy, capsys, run_cli(toy, "--model", "oracle", "--device", "cpu", task=task), f"{task}: {message}")


def test_dataset_params_are_checked(toy, capsys, tmp_path):
    task = tmp_path / "synth.yaml"
    task.write_text(TASK.replace("dataset: toy", "dataset: synth\ndataset_params: {variant: pianoo}"))
    code = run_cli(toy, "--model", "oracle", "--device", "cpu", task=task)
    assert_refused(toy, capsys, code, "dataset 'synth': unknown variant 'pianoo' (known: piano, ensemble)")


def test_a_task_path_that_does_not_exist(toy, capsys):
    missing = toy["tmp"] / "nope" / "task.yaml"
    assert_refused(toy, capsys, run_cli(toy, "--model", "oracle", task=missing), f"{missing}: no such task file")


def test_models_show_lists_the_declaration_the_check_uses(capsys):
    assert main(["models", "show", "noisy-oracle"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "noisy-oracle (transcription) v1"
    row = next(line for line in out if line.split()[:1] == ["drop_prob"])
    assert row.split()[1:4] == ["float", "0.1", "Probability"]
    assert main(["models", "show", "basic-pitch"]) == 0
    out = capsys.readouterr().out
    assert "minimum_frequency" in out and "float | None" in out


def test_every_builtin_model_declares_its_parameters():
    import importlib

    from musebench.models import MODELS, get_model_class

    for family in MODELS:
        for name in importlib.import_module(f"musebench.models.{family}").BUILTIN:
            spec = get_model_class(name, family=family).parameters()
            assert spec is not None, f"{family}/{name} declares no parameters"
            assert all(p.types for p in spec.values()), f"{family}/{name}: a parameter without a type"


def test_an_undeclared_model_is_run_with_a_warning(toy, capsys):
    # core_fixtures' models take **params: accepted, unchecked, said on stderr
    code = run_cli(toy, "--model", "raising", "--device", "cpu", "--param", "fail_suffix=zz")
    captured = capsys.readouterr()
    assert code == 0
    assert "musebench: warning: model raising declares no parameters; fail_suffix passed unchecked" in captured.err
