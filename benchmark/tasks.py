"""Tasks are data: a small versioned YAML file per task under ``tasks/<family>/``.

A task names its family, dataset (and dataset parameters), split, sample rate, metrics and
their parameters, and a ``version`` that is bumped whenever scoring changes. The sha256 of the
YAML file goes into every result so that a silent edit is visible.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, MissingDataError, UnknownNameError
from .io_utils import sha256_bytes

FAMILIES = ("transcription", "translation", "generation")
_REQUIRED = ("name", "family", "version", "dataset", "split", "metrics")
_ALLOWED = set(_REQUIRED) | {"description", "dataset_params", "sample_rate", "params", "primary_metric",
                             "reference"}


@dataclass(frozen=True)
class Task:
    name: str
    family: str
    version: int
    dataset: str
    split: str
    metrics: tuple[str, ...]
    description: str = ""
    dataset_params: dict[str, Any] = field(default_factory=dict)
    sample_rate: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    primary_metric: str | None = None
    path: Path | None = None
    yaml_sha256: str = ""

    @property
    def primary(self) -> str:
        return self.primary_metric or self.metrics[0]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "version": self.version,
                "dataset": self.dataset, "dataset_params": self.dataset_params, "split": self.split,
                "sample_rate": self.sample_rate, "metrics": list(self.metrics), "params": self.params,
                "yaml_sha256": self.yaml_sha256}


#: where the wheel carries the repository's top-level ``tasks/`` folder (see pyproject.toml)
PACKAGED_TASKS = "task_files"


def tasks_dir() -> Path:
    """The shipped task YAMLs: ``$MUSEBENCH_TASKS`` if set; in a source checkout (or an editable
    install) the repository's ``tasks/`` folder; in an installed wheel the copy it carries as
    package data (``musebench/task_files/``, read through :mod:`importlib.resources`)."""
    env = os.environ.get("MUSEBENCH_TASKS")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent / "tasks"
    if checkout.is_dir() and (checkout.parent / "pyproject.toml").is_file():
        return checkout
    from importlib.resources import files

    return Path(str(files(__package__ or "musebench").joinpath(PACKAGED_TASKS)))


def load_task_file(path: str | os.PathLike) -> Task:
    """Parse and validate one task YAML file."""
    path = Path(path)
    raw_bytes = path.read_bytes()
    try:
        raw = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a task file must be a mapping")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise ConfigError(f"{path}: missing required field(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - _ALLOWED)
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {', '.join(unknown)}")
    if raw["family"] not in FAMILIES:
        raise ConfigError(f"{path}: family must be one of {', '.join(FAMILIES)}, not {raw['family']!r}")
    if not isinstance(raw["version"], int) or raw["version"] < 1:
        raise ConfigError(f"{path}: version must be a positive integer")
    metrics = raw["metrics"]
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise ConfigError(f"{path}: metrics must be a non-empty list of metric names")
    from .metrics import METRICS

    for m in metrics:
        if m not in METRICS:
            raise ConfigError(f"{path}: {UnknownNameError('metric', m, METRICS.names())}")
    sample_rate = raw.get("sample_rate")
    if sample_rate is not None and (isinstance(sample_rate, bool) or not isinstance(sample_rate, int)
                                    or not 1000 <= sample_rate <= 384000):
        raise ConfigError(f"{path}: sample_rate must be a whole number of Hz between 1000 and 384000, "
                          f"not {sample_rate!r}")
    primary = raw.get("primary_metric")
    if primary is not None and primary not in metrics:
        close = [f" (did you mean {c!r}?)" for c in __import__("difflib").get_close_matches(str(primary), metrics, 1)]
        raise ConfigError(f"{path}: primary_metric {primary!r} is not among the task's metrics"
                          f"{close[0] if close else ''}")
    for key in ("params", "dataset_params"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise ConfigError(f"{path}: {key} must be a mapping")
    wrong = [m for m in metrics if METRICS.get(m).family != raw["family"]]
    if wrong:
        raise ConfigError(f"{path}: metric(s) {', '.join(wrong)} are not {raw['family']} metrics")
    return Task(
        name=str(raw["name"]), family=raw["family"], version=raw["version"], dataset=str(raw["dataset"]),
        split=str(raw["split"]), metrics=tuple(metrics), description=str(raw.get("description", "")).strip(),
        dataset_params=dict(raw.get("dataset_params") or {}), sample_rate=raw.get("sample_rate"),
        params=dict(raw.get("params") or {}), primary_metric=raw.get("primary_metric"),
        path=path, yaml_sha256=sha256_bytes(raw_bytes),
    )


@lru_cache(maxsize=8)
def _all_tasks(directory: str) -> dict[str, Task]:
    tasks: dict[str, Task] = {}
    for path in sorted(Path(directory).rglob("*.yaml")):
        task = load_task_file(path)
        if task.name in tasks:
            raise ConfigError(f"{path}: task name {task.name!r} is also defined in {tasks[task.name].path}")
        tasks[task.name] = task
    return tasks


def builtin_tasks() -> dict[str, Task]:
    """The shipped tasks (or those under ``$MUSEBENCH_TASKS``)."""
    return dict(_all_tasks(str(tasks_dir())))


def user_tasks_dir() -> Path:
    """Tasks written by ``musebench datasets add``: ``tasks/`` beside the user config file."""
    from .paths import config_file

    return config_file().parent / "tasks"


def clear_task_cache() -> None:
    """Forget parsed task files (after ``datasets add`` wrote one)."""
    _all_tasks.cache_clear()


def all_tasks() -> dict[str, Task]:
    """The shipped tasks plus the user's own (``datasets add``); a name defined twice is an error."""
    tasks = builtin_tasks()
    user = user_tasks_dir()
    if user.is_dir() and any(user.glob("*.yaml")):
        for name, task in _all_tasks(str(user)).items():
            if name in tasks:
                raise ConfigError(f"{task.path}: task name {name!r} is also defined in {tasks[name].path}")
            tasks[name] = task
    return tasks


def get_task(name: str) -> Task:
    """The task called ``name``, or the task in the YAML file at path ``name``."""
    if name.endswith((".yaml", ".yml")) or os.sep in name or "/" in name:
        if not Path(name).is_file():
            raise MissingDataError(f"{name}: no such task file")
        return load_task_file(name)
    tasks = all_tasks()
    if name not in tasks:
        raise UnknownNameError("task", name, tasks)
    return tasks[name]
