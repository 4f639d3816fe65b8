"""Exit codes and messages a script can use: 0 all scored, 3 some failed, 1 all failed or the run
could not finish, 2 configuration; one line for a full disk, a corrupt file, a closed pipe."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import core_fixtures
from musebench.cli import main
from musebench.results import stable_view

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy(tmp_path, monkeypatch):
    return core_fixtures.toy_run(tmp_path, monkeypatch, name="toy-exit")


def cli(toy, model, *args, results=None):
    return main(["run", "--task", toy["task"], "--model", model, "--results-dir", str(results or toy["results"]),
                 "--no-progress", "--device", "cpu", *args])


def musebench(toy, *args, **kw) -> subprocess.CompletedProcess:
    """`musebench ARGS` in a fresh process, with the toy dataset and the fault models registered."""
    code = ("import sys, core_fixtures, fault_models; core_fixtures.install(); fault_models.install(); "
            "from musebench.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=str(TESTS), MUSEBENCH_TOY_ROOT=str(toy["root"]))
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, **kw)


def test_exit_0_3_1(toy, capsys):
    assert cli(toy, "oracle") == 0
    assert cli(toy, "raising") == 3
    out = capsys.readouterr().out
    assert "1 of 4 items failed:\nFAILED item toy-01: model raising raised RuntimeError: boom\n" in out
    assert cli(toy, "raising", "--param", "fail_suffix=", "--run-id", "all") == 1


@pytest.mark.parametrize("fault", ["segfault", "sigkill", "system-exit"])
def test_a_crashing_model_leaves_a_finished_run_and_exit_3(toy, fault):
    proc = musebench(toy, "run", "--task", toy["task"], "--model", "faulty", "--param", f"fault={fault}",
                     "--results-dir", str(toy["results"]), "--no-progress", "--device", "cpu")
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith("FAILED item toy-01: ")
    assert "items 3/4" in proc.stdout


def test_a_deadlock_in_c_via_the_cli(toy):
    proc = musebench(toy, "run", "--task", toy["task"], "--model", "faulty", "--param", "fault=deadlock",
                     "--item-timeout", "1", "--results-dir", str(toy["results"]), "--no-progress", "--device", "cpu",
                     timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "FAILED item toy-01: timed out after 1 s" in proc.stdout


def test_a_failed_load_is_exit_2_with_one_line(toy):
    proc = musebench(toy, "run", "--task", toy["task"], "--model", "bad-load", "--results-dir", str(toy["results"]),
                     "--no-progress", "--device", "cpu")
    assert proc.returncode == 2
    assert proc.stderr == "musebench: error: model bad-load: load() failed (OSError: weights.bin: checkpoint truncated)\n"


def test_a_load_that_hangs_in_c_is_exit_2_with_one_line(toy):
    proc = musebench(toy, "run", "--task", toy["task"], "--model", "bad-load", "--param", "how=deadlock",
                     "--load-timeout", "1", "--results-dir", str(toy["results"]), "--no-progress", "--device", "cpu",
                     timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("musebench: error: model bad-load: loading the model did not finish in 1 s "
                           "(--load-timeout); its worker was killed\n")


def test_exit_codes_are_documented_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for line in ("  0  every item scored", "  3  some items failed", "  1  every item failed", "  2  configuration error"):
        assert line in out
    readme = (TESTS.parent / "README.md").read_text()
    assert "| 3 | some items failed" in readme


@pytest.mark.parametrize("command", [["tasks"], ["run", "--help"], ["models"]])
def test_a_closed_pipe_ends_quietly(command):
    proc = subprocess.Popen([sys.executable, "-m", "musebench", *command], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line (like `| head` after it has enough)
    err = proc.stderr.read()
    proc.wait(60)
    assert (proc.returncode, err) == (0, b"")


@pytest.mark.parametrize("name, content, what", [
    ("config.json", "{not json", "run configuration is not valid JSON"),
    ("items/toy-02.json", "{\"id\": \"toy-02\"", "item record is not valid JSON"),
    ("items/toy-02.json", "[1, 2]", "not a MuseBench item record"),
    ("model.json", "", "model information is not valid JSON"),
])
def test_a_corrupt_run_file_is_one_line_naming_it(toy, capsys, name, content, what):
    assert cli(toy, "noisy-oracle", "--run-id", "r") == 0
    run_dir = toy["results"] / "runs" / "toy-exit" / "noisy-oracle" / "r"
    (run_dir / name).write_text(content)
    capsys.readouterr()
    assert cli(toy, "noisy-oracle", "--run-id", "r") == 2  # a resume with nothing left to predict
    err = capsys.readouterr().err
    assert err.startswith(f"musebench: error: {run_dir / name}: {what}") and err.count("\n") == 1


def test_a_corrupt_results_json_is_one_line_naming_it(toy, capsys):
    assert cli(toy, "noisy-oracle", "--run-id", "r") == 0
    run_dir = toy["results"] / "runs" / "toy-exit" / "noisy-oracle" / "r"
    (run_dir / "results.json").write_text("{oops")
    (run_dir / "model.json").unlink()  # an older run directory: the model information is in results.json
    capsys.readouterr()
    assert cli(toy, "noisy-oracle", "--run-id", "r") == 2
    err = capsys.readouterr().err
    assert err == f"musebench: error: {run_dir / 'results.json'}: results is not valid JSON (Expecting property name enclosed in double quotes at line 1)\n"


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_disk_full_is_one_line_and_the_run_resumes_identically(toy):
    mnt = toy["tmp"] / "small-disk"
    if not _mount_tmpfs(mnt, "1m"):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        page = os.statvfs(mnt).f_frsize
        filler = mnt / "filler"
        free = os.statvfs(mnt).f_bavail * page
        filler.write_bytes(b"\0" * (free - 8 * page))  # room for the run's first files only
        proc = musebench(toy, "run", "--task", toy["task"], "--model", "noisy-oracle", "--run-id", "r",
                         "--results-dir", str(mnt / "results"), "--no-progress", "--device", "cpu")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and "no space left on device while " in lines[0], proc.stderr
        assert "item records (each complete); free some space and rerun the same command to resume" in lines[0]
        filler.unlink()
        proc = musebench(toy, "run", "--task", toy["task"], "--model", "noisy-oracle", "--run-id", "r",
                         "--results-dir", str(mnt / "results"), "--no-progress", "--device", "cpu")
        assert proc.returncode == 0, proc.stderr
        run_dir = mnt / "results" / "runs" / "toy-exit" / "noisy-oracle" / "r"
        resumed = json.loads((run_dir / "results.json").read_text())
        assert cli(toy, "noisy-oracle", "--run-id", "r") == 0  # the same run on a roomy disk
        reference = json.loads((toy["results"] / "runs" / "toy-exit" / "noisy-oracle" / "r" / "results.json").read_text())
        same = lambda r: {k: v for k, v in stable_view(r).items() if k != "code_version"}  # noqa: E731
        assert same(resumed) == same(reference)  # (others may commit between the two runs)
        assert not list(run_dir.rglob("*.tmp"))
        preds = {p.name: p.read_bytes() for p in (run_dir / "predictions").iterdir()}
        ref_preds = {p.name: p.read_bytes() for p in (toy["results"] / "runs" / "toy-exit" / "noisy-oracle" / "r"
                                                      / "predictions").iterdir()}
        assert preds == ref_preds
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
