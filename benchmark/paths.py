"""Where MuseBench keeps data, configuration and results.

Data lives outside the repository: ``$MUSEBENCH_DATA`` if set, else the user's cache dir
(``platformdirs.user_cache_dir("musebench")/data``). Registered local copies of datasets
are recorded in ``$MUSEBENCH_CONFIG`` (default: the user's config dir, ``datasets.json``).
Runs are written under ``$MUSEBENCH_RESULTS`` (default ``./results``).
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_home(override: str | os.PathLike | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("MUSEBENCH_DATA")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("musebench")) / "data"


def config_file() -> Path:
    env = os.environ.get("MUSEBENCH_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("musebench")) / "datasets.json"


def results_home(override: str | os.PathLike | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    return Path(os.environ.get("MUSEBENCH_RESULTS", "results")).expanduser()


def package_data(*parts: str) -> Path:
    """A file shipped inside the package (``benchmark/data/...``)."""
    return Path(__file__).resolve().parent.joinpath("data", *parts)
