"""Build hook only (the metadata is in pyproject.toml): the wheel carries the repository's
top-level ``tasks/`` folder as package data ``benchmark/task_files/``, which
:func:`benchmark.tasks.tasks_dir` reads through :mod:`importlib.resources` when MuseBench is
installed from a wheel. A source checkout (and an editable install) reads ``tasks/`` itself."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithTasks(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "benchmark" / "task_files"
        for path in sorted((ROOT / "tasks").rglob("*.yaml")):
            target = dest / path.relative_to(ROOT / "tasks")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


setup(cmdclass={"build_py": BuildPyWithTasks})
