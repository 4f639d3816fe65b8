"""What a run is, resolved and checked before anything is written.

:func:`plan_run` turns :class:`RunOptions` into a :class:`RunPlan` (task, dataset, family,
items, model class, run directory); everything that can be checked without running the model
is checked here, before the run directory exists, each mistake one line (docs/reliability.md).
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..datasets import get_dataset
from ..datasets.base import Dataset
from ..device import resolve_device
from ..errors import ConfigError, MissingDataError, MuseBenchError
from ..families import get_family
from ..families.base import Family, one_line
from ..io_utils import canonical_json
from ..models import get_model_class
from ..models.base import Model
from ..results import runs_root
from ..tasks import Task, get_task
from ..types import Item


#: default ``--load-timeout``: generous for any model that loads from local files
DEFAULT_LOAD_TIMEOUT_S = 900.0


@dataclass
class RunOptions:
    """Everything ``musebench run`` can be asked."""

    task: str
    model: str
    model_params: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    limit: int | None = None
    seed: int = 0
    results_dir: str | os.PathLike | None = None
    run_id: str | None = None
    data_dir: str | os.PathLike | None = None
    #: dataset parameters on top of the task's ``dataset_params`` (``--dataset-param KEY=VALUE``);
    #: checked by the dataset, recorded in results.json (task.dataset_params) and the fingerprint
    dataset_params: dict[str, Any] = field(default_factory=dict)
    allow_unverified: bool = False
    item_timeout: float | None = None
    #: seconds the model's construction and ``load()`` may take before the run stops (worker killed);
    #: None = :data:`DEFAULT_LOAD_TIMEOUT_S`. Supervised backends only (the process worker, Ray)
    load_timeout: float | None = None
    fresh: bool = False
    progress: bool = True
    backend: str = "local"
    address: str | None = None
    workers: int | None = None
    #: items per model call for models that batch across items (``transcribe_batch``); 1 = one by one
    batch_items: int = 1
    #: local backend: kill the model's worker (failing its item) above this resident memory, MiB
    max_memory_mb: float | None = None
    #: also retry items whose model killed its worker (a segfault, a hang, too much memory)
    retry_failed: bool = False
    #: local backend: "process" (a supervised worker process, the default) or "inline" (in this
    #: process, unsupervised: for debugging and profiling)
    worker: str = "process"



@dataclass
class RunPlan:
    """A resolved run: task, dataset, family, items, model class and where it goes."""

    options: RunOptions
    task: Task
    dataset: Dataset
    family: Family
    items: list[Item]
    model_cls: type[Model]
    fingerprint: str
    verified: bool
    run_dir: Path
    config: dict[str, Any]

    def item_path(self, item_id: str) -> Path:
        return self.run_dir / "items" / f"{item_id}.json"

    def prediction_path(self, item_id: str) -> Path:
        return self.run_dir / "predictions" / f"{item_id}{self.family.prediction_suffix}"

    def timeout_for(self, item: Item) -> float:
        """``--item-timeout``, else the family's default for ``item`` (proportional to its duration)."""
        if self.options.item_timeout:
            return float(self.options.item_timeout)
        return float(self.family.item_timeout(task=self.task, item=item))

    @property
    def load_timeout(self) -> float:
        """``--load-timeout``, else :data:`DEFAULT_LOAD_TIMEOUT_S`."""
        return float(self.options.load_timeout or DEFAULT_LOAD_TIMEOUT_S)


def _check_options(options: RunOptions) -> None:
    """The options that need nothing loaded; ConfigError (one line) otherwise."""
    def positive(value: Any, flag: str) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not value > 0 or value == float("inf")):
            raise ConfigError(f"{flag} must be a positive number of {'seconds' if 'timeout' in flag else 'MB'}, "
                              f"not {value!r}")

    positive(options.item_timeout, "--item-timeout")
    positive(options.load_timeout, "--load-timeout")
    positive(options.max_memory_mb, "--max-memory")
    if options.backend not in ("local", "ray"):
        raise ConfigError(f"backend must be 'local' or 'ray', not {options.backend!r}")
    if options.worker not in ("process", "inline"):
        raise ConfigError(f"worker must be 'process' or 'inline', not {options.worker!r}")
    if options.max_memory_mb and (options.backend != "local" or options.worker != "process"):
        raise ConfigError("--max-memory needs the local backend's worker process (on Ray, use Ray's memory "
                          "monitor: RAY_memory_usage_threshold)")
    if options.max_memory_mb and not os.path.exists("/proc/self/statm"):
        raise ConfigError("--max-memory reads the worker's memory from /proc; this system has none")
    if options.workers is not None and options.workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {options.workers}")
    if not isinstance(options.model_params, dict):
        raise ConfigError("model parameters must be a mapping of names to values")
    resolve_device(options.device)  # --device cuda without CUDA: one line now, not an item failure later


def _check_model(options: RunOptions, model_cls: type[Model]) -> None:
    """Declared parameters, then a construction (cheap by contract: weights load in ``load()``)."""
    for warning in model_cls.check_params(options.model_params, model=options.model):
        print(f"musebench: warning: {warning}", file=sys.stderr)
    try:
        model_cls(device=options.device, **options.model_params)
    except MuseBenchError as exc:
        raise ConfigError(one_line(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {options.model}: bad parameters ({one_line(exc)})") from None


def plan_run(options: RunOptions) -> RunPlan:
    """Resolve and check everything a run needs; nothing is written."""
    _check_options(options)
    task = get_task(options.task)
    if options.dataset_params:
        task = replace(task, dataset_params={**task.dataset_params, **options.dataset_params})
    family = get_family(task.family)
    family.check_task(task)
    model_cls = get_model_class(options.model, family=task.family)
    _check_model(options, model_cls)
    dataset = get_dataset(task.dataset, root=options.data_dir, **task.dataset_params)
    dataset.check_split(task.split)
    items = family.items(task=task, dataset=dataset)
    if not isinstance(options.batch_items, int) or options.batch_items < 1:
        raise ConfigError(f"--batch-items must be a whole number of at least 1, not {options.batch_items!r}")
    if options.limit is not None:
        if options.limit < 1:
            raise ConfigError(f"--limit must be at least 1, not {options.limit}")
        items = items[: options.limit]
    if not items:
        raise MissingDataError(f"task {task.name}: split {task.split!r} of dataset {task.dataset} has no items")
    fingerprint = dataset.fingerprint(task.split)
    verified = dataset.is_verified(task.split)
    if not verified and not options.allow_unverified:
        raise MissingDataError(
            f"dataset {task.dataset} ({dataset.root}): split {task.split!r} is not verified; run "
            f"`musebench datasets verify {task.dataset}` (or `prepare` for built-in data), or pass --allow-unverified")
    device_label = options.device
    config = {
        "task": task.name, "task_version": task.version, "task_yaml_sha256": task.yaml_sha256,
        "dataset_fingerprint": fingerprint, "model": options.model, "model_params": options.model_params,
        "limit": options.limit, "seed": options.seed, "device": device_label,
        "item_ids": [it.id for it in items],
    }
    if options.dataset_params:  # (absent otherwise, so that run ids of plain runs stay as they were)
        config["dataset_params"] = dict(sorted(task.dataset_params.items()))
    run_id = options.run_id or hashlib.sha256(canonical_json(config).encode()).hexdigest()[:12]
    if not all(c.isalnum() or c in "._-" for c in run_id):
        raise ConfigError(f"run id {run_id!r} may only contain letters, digits, '.', '_' and '-'")
    run_dir = runs_root(options.results_dir) / task.name / options.model / run_id
    return RunPlan(options, task, dataset, family, items, model_cls, fingerprint, verified, run_dir, config)
