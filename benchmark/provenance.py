"""What a result needs to be reproduced: environment, package versions, code version."""
from __future__ import annotations

import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__

PACKAGES = ("numpy", "scipy", "mir_eval", "pretty_midi", "librosa", "torch", "onnxruntime",
            "basic-pitch", "transkun", "tinysoundfont", "fastdtw", "soundfile", "soxr", "pandas")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@lru_cache(maxsize=1)
def code_version() -> dict[str, Any]:
    """The MuseBench version and, inside a git checkout, the commit and whether it is dirty."""
    root = Path(__file__).resolve().parent.parent
    info: dict[str, Any] = {"musebench": __version__, "git_commit": None, "git_dirty": None}
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5)
        if commit.returncode == 0:
            info["git_commit"] = commit.stdout.strip()
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no",
                                    "--", "benchmark", "tasks"], capture_output=True, text=True, timeout=5)
            info["git_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def environment() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "platform": platform.platform(), "machine": platform.machine(),
            "packages": package_versions()}
