"""``musebench datasets add``: a user's own folder becomes a dataset and a task in one command.

Folders are built from the prepared synth data (real rendered WAVs and their MIDI), copied under
other names, with the mismatches a real folder has (orphans, unreadable files, duplicate stems).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from musebench import cli
from musebench.datasets import DATASETS, get_dataset
from musebench.tasks import all_tasks, get_task


def run_cli(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def copy_item(synth_root: Path, src: str, dest: Path, *, audio_suffix: str = ".wav") -> None:
    """Copy synth item ``src`` (e.g. ``piano/test/piano-test-000``) to ``dest``.wav/.mid."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if audio_suffix == ".wav":
        shutil.copy(synth_root / f"{src}.wav", dest.with_suffix(".wav"))
    else:
        import soundfile as sf

        audio, sr = sf.read(str(synth_root / f"{src}.wav"))
        sf.write(str(dest.with_suffix(audio_suffix)), audio, sr)
    shutil.copy(synth_root / f"{src}.mid", dest.with_suffix(".mid"))


@pytest.fixture
def chorales(synth_root, tmp_path):
    """Four piano pieces (one in a subfolder, one as FLAC) plus every kind of mismatch."""
    root = tmp_path / "chorales"
    for k, name in enumerate(["bwv-253", "bwv-254", "bwv-255"]):
        copy_item(synth_root, f"piano/test/piano-test-00{k}", root / name,
                  audio_suffix=".flac" if k == 2 else ".wav")
    copy_item(synth_root, "piano/test/piano-test-003", root / "book2" / "bwv-256")
    shutil.copy(synth_root / "piano/test/piano-test-004.wav", root / "lonely.wav")        # audio without MIDI
    shutil.copy(synth_root / "piano/test/piano-test-005.mid", root / "orphan.mid")        # MIDI without audio
    (root / "broken.wav").write_bytes(b"RIFF....not audio")                               # unreadable audio
    shutil.copy(synth_root / "piano/test/piano-test-006.mid", root / "broken.mid")
    copy_item(synth_root, "piano/test/piano-test-007", root / "twice")                    # duplicate stem
    shutil.copy(synth_root / "piano/test/piano-test-007.wav", root / "twice.flac")
    (root / "notes.txt").write_text("recorded in the lab, 2026\n")
    return root


def test_add_then_run_leaderboard_verify_and_check(chorales, capsys, tmp_path):
    code, out, _ = run_cli(["datasets", "add", "chorales", str(chorales), "--quiet"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (f"chorales: added: 4 item(s) from {chorales} (test 4; splits from none: every item is "
                        f"in test)")
    assert lines[1] == "chorales: skipped 4 problem(s):"
    assert sorted(lines[2:6]) == sorted([
        f"  {chorales}/orphan.mid: MIDI file without audio (no audio file of the same stem)",
        f"  {chorales}/broken.wav: unreadable audio (not a readable audio file (Error opening "
        f"'{chorales}/broken.wav': Format not recognised.))",
        f"  {chorales}/lonely.wav: audio without MIDI (expected lonely.mid, lonely.midi)",
        f"  {chorales}/twice.flac: duplicate stem: twice.flac, twice.wav are audio files of one item",
    ])
    manifest = json.loads((tmp_path / "musebench-config" / "datasets" / "chorales" / "manifest.json").read_text())
    assert sorted(manifest["items"]) == ["book2--bwv-256", "bwv-253", "bwv-254", "bwv-255"]
    entry = manifest["items"]["bwv-255"]
    assert entry["files"]["audio"]["path"] == "bwv-255.flac"
    midi = chorales / "bwv-253.mid"
    assert manifest["items"]["bwv-253"]["files"]["midi"] == {
        "path": "bwv-253.mid", "sha256": hashlib.sha256(midi.read_bytes()).hexdigest(), "size": midi.stat().st_size}
    assert manifest["items"]["bwv-253"]["metadata"]["programs"] == [0]
    assert manifest["items"]["bwv-253"]["metadata"]["has_drums"] is False
    assert 7.0 < manifest["items"]["bwv-253"]["metadata"]["duration"] < 12.0

    task = get_task("chorales")
    assert task.dataset == "chorales" and task.split == "test" and task.primary == "onset_f1"
    assert "multi_instrument_f1" not in task.metrics and "frame_f1" in task.metrics

    code, out, _ = run_cli(["run", "--task", "chorales", "--model", "oracle", "--no-progress"], capsys)
    assert code == 0
    run_dir = next((tmp_path / "musebench-results" / "runs" / "chorales" / "oracle").iterdir())
    results = json.loads((run_dir / "results.json").read_text())
    assert (run_dir / "predictions" / "book2--bwv-256.mid").is_file()
    assert results["metrics"]["onset_f1"]["mean"] == 1.0
    assert results["metrics"]["frame_f1"]["mean"] == 1.0
    assert results["dataset"]["fingerprint"] == get_dataset("chorales").fingerprint("test")
    assert results["dataset"]["verified"] is True

    code, out, _ = run_cli(["leaderboard", "--task", "chorales", "--format", "json"], capsys)
    assert code == 0
    row = next(r for b in json.loads(out) for r in b["ranked"] if r["model"] == "oracle")
    assert row["onset_f1"] == 1.0 and row["coverage"] == "4/4"

    code, out, _ = run_cli(["datasets", "verify", "chorales", "--quiet"], capsys)
    assert code == 0
    assert f"chorales: 8 files checked under {chorales}: ok" in out

    code, out, _ = run_cli(["baseline", "save", str(run_dir), "--name", "chorales-oracle"], capsys)
    assert code == 0
    code, out, _ = run_cli(["check", str(run_dir), "--baseline", "chorales-oracle"], capsys)
    assert code == 0


def test_changed_folder_needs_update_and_gets_a_new_fingerprint(chorales, capsys, synth_root):
    assert run_cli(["datasets", "add", "chorales", str(chorales), "--quiet"], capsys)[0] == 0
    before = get_dataset("chorales").fingerprint("test")
    code, out, _ = run_cli(["datasets", "add", "chorales", str(chorales), "--quiet"], capsys)
    assert code == 0 and out.startswith("chorales: unchanged (already added): 4 item(s)")
    shutil.copy(synth_root / "piano/test/piano-test-006.mid", chorales / "bwv-253.mid")
    code, out, err = run_cli(["datasets", "add", "chorales", str(chorales), "--quiet"], capsys)
    assert code == 2
    assert err.strip() == (f"musebench: error: dataset 'chorales' already exists ({chorales}); the files changed "
                           "since it was added: pass --update to freeze the folder anew (a new fingerprint; old "
                           "results stay as another data version)")
    assert not get_dataset("chorales").is_verified("test")  # a changed file: runs are refused until --update
    code, out, _ = run_cli(["datasets", "verify", "chorales", "--quiet"], capsys)
    assert code == 1 and f"1 changed (checksum or size differs from the manifest):\n  {chorales}/bwv-253.mid" in out
    code, out, _ = run_cli(["datasets", "add", "chorales", str(chorales), "--update", "--quiet"], capsys)
    assert code == 0 and out.startswith("chorales: updated: 4 item(s)")
    after = get_dataset("chorales").fingerprint("test")
    assert after != before and get_dataset("chorales").is_verified("test")


def test_strict_makes_the_first_problem_fatal_and_writes_nothing(chorales, capsys, tmp_path):
    code, _, err = run_cli(["datasets", "add", "chorales", str(chorales), "--strict", "--quiet"], capsys)
    assert code == 2
    assert err.startswith(f"musebench: error: {chorales}/orphan.mid: MIDI file without audio")
    assert err.rstrip().endswith("(--strict)")
    assert not (tmp_path / "musebench-config").exists()
    assert "chorales" not in DATASETS


def test_splits_from_folders_and_from_a_csv(synth_root, tmp_path, capsys):
    folders = tmp_path / "by-folder"
    copy_item(synth_root, "piano/train/piano-train-000", folders / "train" / "a")
    copy_item(synth_root, "piano/train/piano-train-001", folders / "train" / "b")
    copy_item(synth_root, "piano/validation/piano-validation-000", folders / "validation" / "c")
    copy_item(synth_root, "piano/test/piano-test-000", folders / "test" / "d")
    code, out, _ = run_cli(["datasets", "add", "folders", str(folders), "--quiet"], capsys)
    assert code == 0
    assert "(train 2, validation 1, test 1; splits from folders: train, validation, test)" in out.splitlines()[0]
    ds = get_dataset("folders")
    assert ds.splits == ("train", "validation", "test")
    assert [it.id for it in ds.items("train")] == ["train--a", "train--b"]
    assert all(ds.is_verified(s) for s in ds.splits)

    flat = tmp_path / "by-csv"
    for k in range(3):
        copy_item(synth_root, f"piano/test/piano-test-00{k}", flat / f"take-{k}")
    (flat / "meta.csv").write_text("audio_filename,split,duration\ntake-0.wav,train,9\n"
                                   "take-1.wav,test,9\ntake-2.wav,test,9\n")
    code, out, _ = run_cli(["datasets", "add", "takes", str(flat), "--quiet"], capsys)
    assert code == 0
    assert "(train 1, test 2; splits from csv: meta.csv (column split, files named by audio_filename))" in out
    assert get_dataset("takes").splits == ("train", "test")
    assert get_task("takes").split == "test"


def test_multi_instrument_midi_gets_the_program_aware_metrics(synth_root, tmp_path, capsys):
    band = tmp_path / "band"
    for k in range(2):
        copy_item(synth_root, f"ensemble/test/ensemble-test-00{k}", band / f"song-{k}")
    assert run_cli(["datasets", "add", "band", str(band), "--quiet"], capsys)[0] == 0
    task = get_task("band")
    assert task.primary == "multi_instrument_f1"
    assert {"multi_instrument_f1", "multi_instrument_f1_flat", "drum_onset_f1"} <= set(task.metrics)


def test_generation_reference_set_from_audio_alone(synth_root, tmp_path, capsys):
    music = tmp_path / "my-music"
    music.mkdir()
    for k in range(3):
        shutil.copy(synth_root / f"piano/test/piano-test-00{k}.wav", music / f"track{k}.wav")
    code, out, _ = run_cli(["datasets", "add", "my-music", str(music), "--family", "generation", "--quiet"], capsys)
    assert code == 0 and "generation task my-music" in out
    task = get_task("my-music")
    assert task.family == "generation" and task.primary == "frechet_mfcc"
    code, out, _ = run_cli(["run", "--task", "my-music", "--model", "oracle", "--no-progress"], capsys)
    assert code == 0
    run_dir = next((tmp_path / "musebench-results" / "runs" / "my-music" / "oracle").iterdir())
    oracle = json.loads((run_dir / "results.json").read_text())["metrics"]["frechet_mfcc"]
    assert oracle["n_reference"] == 6  # three ~9-s tracks cut into consecutive 4-s clips
    assert run_cli(["run", "--task", "my-music", "--model", "noise", "--no-progress"], capsys)[0] == 0
    run_dir = next((tmp_path / "musebench-results" / "runs" / "my-music" / "noise").iterdir())
    noise = json.loads((run_dir / "results.json").read_text())["metrics"]["frechet_mfcc"]
    assert 0 <= oracle["mean"] < noise["mean"] / 10


def test_task_yaml_is_written_where_asked_and_not_registered(chorales, tmp_path, capsys):
    path = tmp_path / "edit-me.yaml"
    code, out, _ = run_cli(["datasets", "add", "chorales", str(chorales), "--task-yaml", str(path), "--quiet"],
                           capsys)
    assert code == 0 and f"task YAML written to {path}" in out
    assert yaml.safe_load(path.read_text())["dataset"] == "chorales"
    assert "chorales" not in all_tasks()
    assert get_task(str(path)).name == "chorales"


def test_names_of_shipped_datasets_are_refused(chorales, capsys):
    code, _, err = run_cli(["datasets", "add", "maestro-v3", str(chorales)], capsys)
    assert code == 2
    assert err.strip() == ("musebench: error: dataset name 'maestro-v3' is taken by a shipped dataset; choose "
                           "another name")
    code, _, err = run_cli(["datasets", "add", "Bad Name", str(chorales)], capsys)
    assert code == 2 and "dataset name 'Bad Name': use lower-case letters" in err
    code, _, err = run_cli(["datasets", "add", "x", str(chorales / "nowhere")], capsys)
    assert code == 2 and err.strip() == f"musebench: error: {chorales / 'nowhere'}: no such folder"


def test_embedded_data_prepares_itself_with_a_notice(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MUSEBENCH_AUTO_PREPARE", "1")
    code, out, err = run_cli(["run", "--task", "synth-piano", "--model", "oracle", "--limit", "1",
                              "--no-progress"], capsys)
    assert code == 0
    root = tmp_path / "musebench-data" / "synth"
    assert err.splitlines()[0] == (f"synth: not prepared under {root} (16 file(s) missing); preparing it now "
                                   "(deterministic, built from the shipped manifest) ...")
    assert get_dataset("synth", variant="piano").is_verified("test")


def test_list_is_a_table_and_show_has_the_citation(capsys):
    code, out, _ = run_cli(["datasets", "list"], capsys)
    assert code == 0
    assert "citation" not in out.lower().replace("citation, licence", "")
    assert out.rstrip().endswith("Citation, licence and parameters of one dataset: musebench datasets show NAME")
    code, out, _ = run_cli(["datasets", "show", "maestro-v3"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "maestro-v3: MAESTRO v3.0.0"
    assert "  parameters: sustain_pedal=False (one of False, True)" in out
    assert "@inproceedings{hawthorne2018enabling," in out and "  licence:    CC BY-NC-SA 4.0" in out


def test_verify_summary_caps_each_list_at_ten_paths(synth_root, tmp_path, capsys):
    copy = tmp_path / "synth-copy"
    shutil.copytree(synth_root, copy)
    for path in sorted((copy / "piano" / "train").glob("*.wav"))[:12]:
        path.unlink()
    code, out, _ = run_cli(["datasets", "verify", "synth", "--data-dir", str(copy), "--quiet"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "12 missing; the first 10:"
    assert lines[11] == "  ... 2 more (--all lists every path)"
    code, out, _ = run_cli(["datasets", "verify", "synth", "--data-dir", str(copy), "--quiet", "--all"], capsys)
    assert sum(line.endswith(": missing") for line in out.splitlines()) == 12


def test_tasks_lists_every_metric_and_show_gives_the_dataset_parameters(capsys):
    code, out, _ = run_cli(["tasks", "--family", "transcription"], capsys)
    assert code == 0
    lines = out.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("maestro-v3 "))
    assert "maestro-v3[sustain_pedal=True]/test  primary onset_f1" in lines[k]
    assert lines[k + 1].split("metrics: ")[1] == ", ".join(get_task("maestro-v3").metrics)
    code, out, _ = run_cli(["tasks", "show", "guitarset"], capsys)
    assert code == 0
    assert "  dataset params: audio='mic', held_out_player='05' (dataset default), program=25 (dataset default), " \
           "split_scheme='mt3'" in out
    assert "  metric params:  offset_min_tolerance=0.05, offset_ratio=0.2, onset_tolerance=0.05" in out


def test_dataset_param_on_run_and_verify(chorales, capsys, tmp_path):
    assert run_cli(["datasets", "add", "chorales", str(chorales), "--quiet"], capsys)[0] == 0
    runs = tmp_path / "musebench-results" / "runs" / "chorales" / "oracle"
    code, _, err = run_cli(["run", "--task", "chorales", "--model", "oracle", "--dataset-param", "sustain_pedl=true",
                            "--no-progress"], capsys)
    assert code == 2
    assert err.strip() == ("musebench: error: dataset 'chorales': unknown parameter(s) sustain_pedl (known: manifest, "
                           "sustain_pedal)")
    assert not runs.exists()  # refused before anything was written
    assert run_cli(["run", "--task", "chorales", "--model", "oracle", "--no-progress"], capsys)[0] == 0
    assert run_cli(["run", "--task", "chorales", "--model", "oracle", "--dataset-param", "sustain_pedal=true",
                    "--no-progress"], capsys)[0] == 0
    results = {}
    for run_dir in runs.iterdir():
        r = json.loads((run_dir / "results.json").read_text())
        results[r["task"]["dataset_params"]["sustain_pedal"]] = r
    assert set(results) == {False, True}
    pedal_fp = get_dataset("chorales", sustain_pedal=True).fingerprint("test")
    assert results[True]["dataset"]["fingerprint"] == pedal_fp != results[False]["dataset"]["fingerprint"]
    code, out, _ = run_cli(["datasets", "verify", "chorales", "--quiet", "--dataset-param", "sustain_pedal=true"],
                           capsys)
    assert code == 0 and f"chorales[sustain_pedal=True] test fingerprint: {pedal_fp}" in out
    code, out, _ = run_cli(["datasets", "verify", "chorales", "--quiet", "--task", "chorales"], capsys)
    assert f"chorales[sustain_pedal=False] test fingerprint: {results[False]['dataset']['fingerprint']}" in out


def test_verify_prints_the_fingerprint_each_task_records(synth_env, capsys):
    from musebench.datasets.synth import SynthDataset

    code, out, _ = run_cli(["datasets", "verify", "synth", "--quiet"], capsys)
    assert code == 0
    expected = SynthDataset(variant="ensemble").fingerprint("test")
    assert out.splitlines()[-1] == f"task synth-ensemble (synth[variant=ensemble]) test fingerprint: {expected}"
