"""Build hooks only (the metadata is in pyproject.toml).

* The import name is ``musebench``; its source folders keep the product's fixed layout:
  ``benchmark/`` is the package ``musebench`` and ``listening_app/`` its subpackage
  ``musebench.listening_app`` (``package_dir`` below; an editable install maps them the same way
  through setuptools' editable finder).
* The wheel carries the repository's top-level ``tasks/`` folder as package data
  ``musebench/task_files/``, which :func:`musebench.tasks.tasks_dir` reads through
  :mod:`importlib.resources` when MuseBench is installed from a wheel. A source checkout (and an
  editable install) reads ``tasks/`` itself.
"""
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SOURCES = {"musebench": "benchmark", "musebench.listening_app": "listening_app"}


def _packages() -> list[str]:
    packages = []
    for name, folder in SOURCES.items():
        packages.append(name)
        packages += [f"{name}.{sub}" for sub in find_packages(str(ROOT / folder))]
    return packages


class BuildPyWithTasks(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "musebench" / "task_files"
        for path in sorted((ROOT / "tasks").rglob("*.yaml")):
            target = dest / path.relative_to(ROOT / "tasks")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


setup(packages=_packages(), package_dir=SOURCES, cmdclass={"build_py": BuildPyWithTasks})
