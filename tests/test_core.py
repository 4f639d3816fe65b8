"""Registry, task loading and error-message tests for the harness core."""
from __future__ import annotations


import numpy as np
import pytest

from musebench.errors import BadInputError, ConfigError, UnknownNameError
from musebench.models import get_model_class
from musebench.registry import Registry
from musebench.tasks import all_tasks, get_task, load_task_file
from musebench.types import Notes


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownNameError) as exc:
        get_model_class("basic-pich")
    assert str(exc.value) == "unknown transcription model 'basic-pich'; did you mean 'basic-pitch'?"
    with pytest.raises(UnknownNameError) as exc:
        get_task("synth-pianoo")
    assert str(exc.value).startswith("unknown task 'synth-pianoo'; did you mean 'synth-piano'")


def test_unknown_name_without_close_match_lists_known():
    reg = Registry("widget")
    reg.register("alpha", object())
    with pytest.raises(UnknownNameError, match=r"^unknown widget 'zzz' \(known: alpha\)$"):
        reg.get("zzz")


def test_registry_rejects_duplicates_and_loads_lazily():
    reg = Registry("thing")
    reg.register("notes", "musebench.types:Notes")
    assert reg.get("notes") is Notes
    with pytest.raises(ConfigError, match="thing 'notes' is already registered"):
        reg.register("notes", "musebench.types:Item")
    reg.register("bad", "musebench.types")
    with pytest.raises(ConfigError, match="not of the form 'module:attr'"):
        reg.get("bad")


def test_every_task_file_loads_and_names_known_metrics():
    tasks = all_tasks()
    assert {"synth-piano", "synth-ensemble"} <= set(tasks)
    for task in tasks.values():
        assert task.version >= 1
        assert len(task.yaml_sha256) == 64
        assert task.primary in task.metrics


@pytest.mark.parametrize("body, message", [
    ("name: x\nfamily: transcription\nversion: 1\ndataset: synth\nsplit: test\n", "missing required field(s) metrics"),
    ("name: x\nfamily: transcription\nversion: 1\ndataset: synth\nsplit: test\nmetrics: [onset_f]\n",
     "unknown metric 'onset_f'; did you mean 'onset_f1'"),
    ("name: x\nfamily: dance\nversion: 1\ndataset: synth\nsplit: test\nmetrics: [onset_f1]\n",
     "family must be one of transcription, translation, generation, not 'dance'"),
    ("name: x\nfamily: transcription\nversion: 0\ndataset: synth\nsplit: test\nmetrics: [onset_f1]\n",
     "version must be a positive integer"),
    ("name: x\nfamily: transcription\nversion: 1\ndataset: synth\nsplit: test\nmetrics: [onset_f1]\nmetric: 1\n",
     "unknown field(s) metric"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_bad_task_files_fail_with_one_line(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError) as exc:
        load_task_file(path)
    assert message in str(exc.value)
    assert str(exc.value).startswith(str(path))
    assert "\n" not in str(exc.value)


def test_notes_validation_messages():
    bad = Notes.from_arrays(intervals=[[1.0, 1.0]], pitches=[60])
    with pytest.raises(BadInputError) as exc:
        bad.validate(name="est.mid")
    assert str(exc.value) == "est.mid: note 0 (pitch 60) has end <= start (1 s <= 1 s)"
    with pytest.raises(BadInputError, match="est.mid: note times contain NaN or inf"):
        Notes.from_arrays(intervals=[[0.0, np.inf]], pitches=[60]).validate(name="est.mid")
    with pytest.raises(BadInputError, match="outside the MIDI range"):
        Notes.from_arrays(intervals=[[0.0, 1.0]], pitches=[130]).validate(name="x")
    assert len(Notes.empty().validate()) == 0


def test_notes_sorted_is_canonical():
    n = Notes.from_arrays(intervals=[[1, 2], [0, 1], [0, 0.5]], pitches=[60, 64, 62])
    s = n.sorted()
    assert s.onsets.tolist() == [0, 0, 1]
    assert s.pitches.tolist() == [62, 64, 60]


def test_cli_help_for_every_command(capsys):
    from musebench.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert {"run", "score", "tasks", "models", "leaderboard", "datasets"} <= set(sub.choices)
    for name, p in sub.choices.items():
        text = p.format_help()
        assert text.startswith("usage: musebench " + name), name


def test_json_files_that_cannot_be_read_are_named_in_one_line(tmp_path):
    from musebench.errors import BadInputError, MissingDataError
    from musebench.io_utils import read_json
    from musebench.results import load_run

    with pytest.raises(MissingDataError) as exc:
        read_json(tmp_path / "nope.json", what="split manifest")
    assert str(exc.value) == f"{tmp_path / 'nope.json'}: split manifest not found"
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n "b": }')
    with pytest.raises(BadInputError) as exc:
        read_json(bad, what="split manifest")
    assert str(exc.value) == f"{bad}: split manifest is not valid JSON (Expecting value at line 2)"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(BadInputError) as exc:
        read_json(latin, what="manifest")
    assert str(exc.value) == f"{latin}: manifest is not UTF-8 text"
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text("[1, 2")
    with pytest.raises(BadInputError) as exc:
        load_run(run)
    assert str(exc.value) == (f"{run / 'results.json'}: results file is not valid JSON "
                              "(Expecting ',' delimiter at line 1)")
    (run / "results.json").write_text("[1, 2]")
    with pytest.raises(BadInputError) as exc:
        load_run(run)
    assert str(exc.value) == f"{run / 'results.json'}: results file is not a JSON object"
