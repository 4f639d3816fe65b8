"""The built wheel works outside the repository: its task YAMLs, manifests and checkpoints are
package data. The wheel is built from this checkout, installed (not editable) into a folder of
its own, and run from an empty directory with that folder first on ``sys.path``."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    build = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT),
                    "-w", str(build / "dist")], check=True, capture_output=True, text=True)
    wheel = next((build / "dist").glob("musebench-*.whl"))
    target = build / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, text=True)
    return target


def musebench(installed: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed), "MUSEBENCH_DATA": str(tmp_path / "data"),
           "MUSEBENCH_CONFIG": str(tmp_path / "config" / "datasets.json"),
           "MUSEBENCH_RESULTS": str(tmp_path / "results"), "MUSEBENCH_AUTO_PREPARE": "1"}
    env.pop("MUSEBENCH_TASKS", None)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "musebench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_wheel_carries_every_task_yaml(installed):
    shipped = sorted(p.relative_to(ROOT / "tasks").as_posix() for p in (ROOT / "tasks").rglob("*.yaml"))
    carried = sorted(p.relative_to(installed / "musebench" / "task_files").as_posix()
                     for p in (installed / "musebench" / "task_files").rglob("*.yaml"))
    assert shipped and carried == shipped
    for rel in shipped:
        assert (installed / "musebench" / "task_files" / rel).read_bytes() == (ROOT / "tasks" / rel).read_bytes()


def test_installed_wheel_lists_runs_and_ranks_from_another_folder(installed, tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import musebench, sys; print(musebench.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(installed)}, cwd=tmp_path, capture_output=True,
                           text=True, check=True)
    assert probe.stdout.strip() == str(installed / "musebench" / "__init__.py")  # not the checkout
    out = musebench(installed, tmp_path, "tasks")
    assert out.returncode == 0, out.stderr
    assert any(line.startswith("synth-piano ") for line in out.stdout.splitlines())
    run = musebench(installed, tmp_path, "run", "--task", "synth-piano", "--model", "oracle", "--limit", "2",
                    "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "onset_f1                  1.0000" in run.stdout
    board = musebench(installed, tmp_path, "leaderboard", "--task", "synth-piano")
    assert board.returncode == 0, board.stderr
    assert "| oracle" in board.stdout


def test_the_wheel_has_one_import_name_and_carries_the_app(installed, tmp_path):
    packages = sorted(p.name for p in installed.iterdir() if (p / "__init__.py").is_file())
    assert packages == ["musebench"]  # (beside it: the dist-info and bin/ with the console script)
    app = installed / "musebench" / "listening_app"
    for rel in ("app.py", "server.py", "pages/rate.py", "pages/admin.py", "pages/leaderboard.py"):
        assert (app / rel).is_file(), rel
    probe = subprocess.run([sys.executable, "-c", "import musebench.listening_app.study as s; print(s.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(installed)}, cwd=tmp_path, capture_output=True,
                           text=True, check=True)
    assert probe.stdout.strip() == str(app / "study.py")
