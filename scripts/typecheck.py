"""Type-check the package with mypy under its import name ``musebench``.

mypy finds packages by folder name and cannot follow setuptools' ``package_dir`` map (the folder
``benchmark/`` is the package ``musebench``, ``listening_app/`` its subpackage
``musebench.listening_app``). This script builds that map as a tree of symbolic links under
``build/typecheck/`` and runs ``mypy -p musebench`` on it with the settings in pyproject.toml.
Usage: ``python scripts/typecheck.py [extra mypy arguments]`` (``make typecheck``).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "typecheck"


def link_tree() -> Path:
    package = TREE / "musebench"
    if TREE.exists():
        shutil.rmtree(TREE)
    package.mkdir(parents=True)
    for child in sorted((ROOT / "benchmark").iterdir()):
        if child.name != "__pycache__":
            (package / child.name).symlink_to(child)
    (package / "listening_app").symlink_to(ROOT / "listening_app")
    return TREE


def main(argv: list[str]) -> int:
    tree = link_tree()
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
           "--cache-dir", str(ROOT / "build" / "mypy-cache"), "-p", "musebench", *argv]
    return subprocess.run(cmd, cwd=tree).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
