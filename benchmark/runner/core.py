"""The run loop shared by all backends.

A run is resumable: each finished item is recorded in ``items/<id>.json`` (atomically) after
its prediction was written to ``predictions/``; a rerun skips recorded items, re-scores items
whose prediction exists but whose record does not (killed in between), and retries failures
-- except items that killed the model's worker (``killed_worker`` in their record), which are
retried only with ``retry_failed``. Everything that can be checked without running the model
is checked by :func:`plan_run`, before the run directory exists; a run holds ``run.lock``
(an advisory lock with the holder's PID) while it writes, and removes temporary files a killed
write left behind.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import sys
import resource
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from ..datasets import get_dataset
from ..datasets.base import Dataset
from ..device import resolve_device
from ..errors import (BadInputError, ConfigError, DiskFullError, MissingDataError, ModelError, ModelLoadError,
                      MuseBenchError, RunLockedError)
from ..families import get_family
from ..families.base import Family
from ..io_utils import atomic_write_json, atomic_write_text, canonical_json, read_json
from ..metrics import METRICS
from ..metrics.stats import bootstrap_mean_ci
from ..models import get_model_class
from ..models.base import Context, Model
from ..provenance import code_version, environment
from ..results import SCHEMA_VERSION, runs_root
from ..tasks import Task, get_task
from ..types import Item


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
class RunOutcome:
    run_dir: Path
    results: dict[str, Any]
    #: what supervision cost (see :class:`musebench.runner.worker.SupervisedWorker`); None inline/on Ray
    worker_stats: dict[str, Any] | None = None

    @property
    def failures(self) -> list[dict[str, str]]:
        return self.results["failures"]


def item_seed(seed: int, item_id: str) -> int:
    """A per-item seed that does not depend on item order or worker."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode()).digest()[:4], "little")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class ItemTimeout(MuseBenchError):
    pass


@contextmanager
def _time_limit(seconds: float | None, item_id: str):
    """Raise :class:`ItemTimeout` after ``seconds`` (main thread only; elsewhere a no-op)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise ItemTimeout(f"item {item_id}: timed out after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


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


def _check_options(options: RunOptions) -> None:
    """The options that need nothing loaded; ConfigError (one line) otherwise."""
    def positive(value: Any, flag: str) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not value > 0 or value == float("inf")):
            raise ConfigError(f"{flag} must be a positive number of {'seconds' if 'timeout' in flag else 'MB'}, "
                              f"not {value!r}")

    positive(options.item_timeout, "--item-timeout")
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
        raise ConfigError(_one_line(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {options.model}: bad parameters ({_one_line(exc)})") from None


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


LOCK_NAME = "run.lock"


class RunLock:
    """``run.lock`` in a run directory: an exclusive ``flock`` held for the run, with the PID.

    The kernel drops the lock when its holder dies, however it dies, so a lock file left by a
    killed run is stale by construction and simply taken over.
    """

    def __init__(self, run_dir: Path):
        self.path = run_dir / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").split()
                os.close(fd)
                pid = holder[0] if holder else "?"
                raise RunLockedError(f"{self.path.parent}: already being run by process {pid} (lock {self.path}); "
                                     "wait for it to finish, or give this run another --run-id") from None
            try:  # the file may have been replaced between open and flock
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # the file stays: unlinking it would race with a waiting locker
            self.fd = None


def _remove_stale_tmp(run_dir: Path) -> None:
    """Temporary files of atomic writes a killed process left (``.<name>.<hex>.tmp``); only
    called while holding the run lock, so no writer is alive."""
    for folder in (run_dir, run_dir / "items", run_dir / "predictions"):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def _prepare_run_dir(plan: RunPlan) -> None:
    run_dir = plan.run_dir
    cfg_path = run_dir / "config.json"
    if plan.options.fresh and run_dir.exists():
        import shutil

        for child in run_dir.iterdir():
            if child.name != LOCK_NAME:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    _remove_stale_tmp(run_dir)
    if cfg_path.exists():
        old = read_json(cfg_path, what="run configuration")
        if old != json.loads(json.dumps(plan.config)):
            raise ConfigError(f"{run_dir}: run id already used for a different configuration; "
                              "choose another --run-id or pass --fresh")
    else:
        atomic_write_json(cfg_path, plan.config)
    (run_dir / "items").mkdir(parents=True, exist_ok=True)
    (run_dir / "predictions").mkdir(parents=True, exist_ok=True)


def disk_full(plan: RunPlan, exc: OSError, doing: str) -> DiskFullError:
    """The one-line error for a write that found the disk full, saying what is kept."""
    kept = len(list((plan.run_dir / "items").glob("*.json"))) if (plan.run_dir / "items").is_dir() else 0
    where = exc.filename or plan.run_dir
    return DiskFullError(f"{where}: no space left on device while {doing}; kept {kept} of {len(plan.items)} "
                         "item records (each complete); free some space and rerun the same command to resume")


def _is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def failure_record(item: Item, error: str, *, killed_worker: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {"id": item.id, "status": "failed", "error": error, "scores": {},
                              "model_seconds": None, "audio_seconds": None}
    if killed_worker:
        record["killed_worker"] = True
    return record


def write_record(plan: RunPlan, record: dict[str, Any]) -> None:
    try:
        atomic_write_json(plan.item_path(record["id"]), record)
    except OSError as exc:
        if _is_disk_full(exc):
            raise disk_full(plan, exc, f"writing the record of item {record['id']}") from None
        raise


class ItemWorker:
    """Holds a loaded model; turns one item into one item record. Used by every backend.

    ``on_event``, when set, is called with ``("loading",)`` and ``("loaded", info)`` around
    loading the model, ``("begin", item_ids, seconds)`` before an item (or a batch) starts
    with its time limit, and ``("record", record, seconds, peak_mb)`` after each item: what
    the supervising parent of :mod:`musebench.runner.worker` watches.
    """

    def __init__(self, plan: RunPlan):
        self.plan = plan
        self.model: Model | None = None
        self.on_event: Callable[[tuple], None] | None = None
        self.load_s = 0.0  # constructing and loading the model (not an item's time)

    def _event(self, *msg: Any) -> None:
        if self.on_event is not None:
            self.on_event(msg)

    def ensure_model(self) -> Model:
        if self.model is None:
            opts = self.plan.options
            self._event("loading")
            t0 = time.perf_counter()
            try:
                model = self.plan.model_cls(device=opts.device, **opts.model_params)
            except TypeError as exc:
                raise ConfigError(f"model {opts.model}: bad parameters ({_one_line(exc)})") from None
            try:
                model.load()
            except Exception as exc:  # noqa: BLE001 - any failure to load stops the run
                detail = _one_line(exc) if isinstance(exc, MuseBenchError) else f"{type(exc).__name__}: {_one_line(exc)}"
                raise ModelLoadError(f"model {opts.model}: load() failed ({detail})") from None
            self.model = model
            info = model.info() if self.on_event is not None else None  # hashes the weights: part of loading
            self.load_s += time.perf_counter() - t0
            self._event("loaded", info)
        return self.model

    def process_group(self, items: list[Item]) -> list[dict[str, Any]]:
        """Process ``items``, predicting them in one model call when the model batches across items.

        The batched predictions are saved first, then :meth:`process` scores each item from
        its saved prediction. If the batched call fails in any way (a model error, a bad
        output, the group's time limit), nothing of it is kept beyond the predictions already
        saved and every item goes through :meth:`process` alone, so failures stay per item.
        """
        plan = self.plan
        todo = [it for it in items if not plan.prediction_path(it.id).exists()]
        shares: dict[str, float] = {}
        if len(todo) > 1:
            try:
                model = self.ensure_model()
                if plan.family.batches(model=model):
                    contexts = [self._context(model, it) for it in todo]
                    limit = sum(plan.timeout_for(it) for it in todo)
                    self._event("begin", [it.id for it in todo], limit)
                    t0 = time.perf_counter()
                    with _time_limit(limit, f"{todo[0].id}..{todo[-1].id}"):
                        predictions = plan.family.predict_batch(model=model, task=plan.task, dataset=plan.dataset,
                                                                items=todo, contexts=contexts)
                    elapsed = time.perf_counter() - t0
                    weights = [max(plan.family.input_seconds(task=plan.task, item=it, prediction=p), 0.0)
                               for it, p in zip(todo, predictions)]
                    total = sum(weights)
                    for it, pred, w in zip(todo, predictions, weights):
                        plan.family.save_prediction(pred, plan.prediction_path(it.id))
                        shares[it.id] = elapsed * (w / total if total > 0 else 1 / len(todo))
            except (ModelLoadError, DiskFullError):
                raise
            except Exception as exc:  # noqa: BLE001 - fall back to one by one, which records the failure
                if _is_disk_full(exc):
                    raise disk_full(plan, exc, "writing batched predictions") from None
                shares = {k: v for k, v in shares.items() if plan.prediction_path(k).exists()}
        return [self.process(it, model_seconds=shares.get(it.id)) for it in items]

    def _context(self, model: Model, item: Item) -> Context:
        plan = self.plan
        reference = (plan.family.reference(task=plan.task, dataset=plan.dataset, item=item)
                     if model.uses_reference else None)
        return Context(item=item, seed=item_seed(plan.options.seed, item.id), reference=reference)

    def process(self, item: Item, *, model_seconds: float | None = None) -> dict[str, Any]:
        """Predict (unless a prediction exists), save, score; write and return the item record.

        ``model_seconds`` is recorded for an item whose prediction :meth:`process_group` made.
        """
        plan = self.plan
        t_item, load_before = time.perf_counter(), self.load_s
        record: dict[str, Any] = {"id": item.id, "status": "ok", "error": None, "scores": {},
                                  "model_seconds": model_seconds, "audio_seconds": None}
        pred_path = plan.prediction_path(item.id)
        try:
            if not pred_path.exists():
                model = self.ensure_model()
                context = self._context(model, item)
                limit = plan.timeout_for(item)
                self._event("begin", [item.id], limit)
                t0 = time.perf_counter()
                with _time_limit(limit, item.id):
                    prediction = plan.family.predict(model=model, task=plan.task, dataset=plan.dataset,
                                                     item=item, context=context)
                record["model_seconds"] = time.perf_counter() - t0
                plan.family.save_prediction(prediction, pred_path)
            prediction = plan.family.load_prediction(pred_path)
            record["audio_seconds"] = plan.family.input_seconds(task=plan.task, item=item, prediction=prediction)
            scores = plan.family.score(task=plan.task, dataset=plan.dataset, item=item, prediction=prediction)
            bad = [k for k, v in scores.items() if v is None or not np.isfinite(v)]
            if bad:
                raise ModelError(f"item {item.id}: score(s) {', '.join(sorted(bad))} are not finite")
            record["scores"] = {k: float(v) for k, v in sorted(scores.items())}
        except (ModelLoadError, DiskFullError, ConfigError):  # the run's problem, not this item's
            raise
        except (MuseBenchError, ItemTimeout) as exc:
            record.update(status="failed", error=_one_line(exc))
        except Exception as exc:  # anything else a model or file throws: the item fails, the run goes on
            if _is_disk_full(exc):
                raise disk_full(plan, exc, f"writing the prediction of item {item.id}") from None
            record.update(status="failed", error=f"item {item.id}: {type(exc).__name__}: {_one_line(exc)}")
        write_record(plan, record)
        self._event("record", record, time.perf_counter() - t_item - (self.load_s - load_before), peak_rss_mb())
        return record


_RECORD_KEYS = ("id", "status", "error", "scores", "model_seconds", "audio_seconds")


def read_record(path: Path) -> dict[str, Any]:
    """An item record; BadInputError naming the file when it is not one."""
    record = read_json(path, what="item record")
    if not isinstance(record, dict) or any(k not in record for k in _RECORD_KEYS) \
            or record["status"] not in ("ok", "failed") or not isinstance(record["scores"], dict):
        raise BadInputError(f"{path}: not a MuseBench item record (delete it to run the item again)")
    return record


def pending_items(plan: RunPlan) -> list[Item]:
    """Items without an ``ok`` record. Failed items are retried, except those that killed the
    model's worker (unless ``retry_failed``)."""
    out = []
    for item in plan.items:
        p = plan.item_path(item.id)
        if p.exists():
            record = read_record(p)
            if record["status"] == "ok" or record.get("killed_worker") and not plan.options.retry_failed:
                continue
        out.append(item)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _items_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV, byte-identical to ``pandas.DataFrame(rows).to_csv(index=False)`` on Linux
    (columns in order of first appearance, missing cells empty, floats as ``repr``) without
    importing pandas (0.5-1 s per run on a small machine)."""
    import csv
    import io

    columns = list(dict.fromkeys(key for row in rows for key in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


MODEL_INFO_NAME = "model.json"
INVOCATIONS_NAME = "invocations.json"


def save_model_info(plan: RunPlan, info: dict[str, Any]) -> None:
    """``model.json``: the model information of the invocation that last predicted (a resume
    with nothing left to predict reports this, not a model it never loaded)."""
    try:
        atomic_write_json(plan.run_dir / MODEL_INFO_NAME, info)
    except OSError as exc:
        if _is_disk_full(exc):
            raise disk_full(plan, exc, f"writing {MODEL_INFO_NAME}") from None
        raise


def _saved_model_info(plan: RunPlan) -> dict[str, Any] | None:
    path = plan.run_dir / MODEL_INFO_NAME
    if path.exists():
        return read_json(path, what="model information")
    old = plan.run_dir / "results.json"
    if old.exists():
        return read_json(old, what="results").get("model")
    return None


class Invocations:
    """``invocations.json``: when each ``musebench run`` of this run directory started and how
    long it ran (written at the start, every ``every_s`` while running, and at the end), so
    that results.json can give the total wall time across resumes."""

    def __init__(self, plan: RunPlan, *, every_s: float = 10.0):
        self.path = plan.run_dir / INVOCATIONS_NAME
        self.rows = read_json(self.path, what="invocation log") if self.path.exists() else []
        if not isinstance(self.rows, list):
            raise BadInputError(f"{self.path}: invocation log is not a list")
        self.rows.append({"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "wall_s": 0.0})
        self.t0 = time.perf_counter()
        self.every_s = every_s
        self.written = -every_s
        self.tick(force=True)

    def tick(self, *, force: bool = False) -> None:
        now = time.perf_counter() - self.t0
        if force or now - self.written >= self.every_s:
            self.rows[-1]["wall_s"] = round(now, 3)
            atomic_write_json(self.path, self.rows)
            self.written = now

    def finish(self, wall_s: float) -> None:
        """This invocation's wall time as results.json reports it (from the start of the run to
        the start of aggregation)."""
        self.rows[-1]["wall_s"] = round(wall_s, 3)
        atomic_write_json(self.path, self.rows)

    @property
    def total_s(self) -> float:
        return sum(float(r.get("wall_s") or 0.0) for r in self.rows)


def finalize(plan: RunPlan, *, wall_s: float, model_info: dict[str, Any] | None,
             peak_mb: float | None = None, invocations: Invocations | None = None) -> dict[str, Any]:
    """Aggregate item records into results.json and items.csv."""
    records = [read_record(plan.item_path(it.id)) for it in plan.items if plan.item_path(it.id).exists()]
    ok = [r for r in records if r["status"] == "ok"]
    failures = [{"item": r["id"], "error": r["error"]} for r in records if r["status"] != "ok"]
    metrics: dict[str, Any] = {}
    set_metric_names = [m for m in plan.task.metrics if METRICS.get(m).aggregate == "set"]
    for name in plan.task.metrics:
        spec = METRICS.get(name)
        if spec.aggregate == "set":
            continue
        values = [r["scores"][name] for r in ok if name in r["scores"]]
        if not values:
            continue  # e.g. drum_onset_f1 on a task without drums
        ci = bootstrap_mean_ci(values, seed=plan.options.seed)
        metrics[name] = {**ci.to_json(), "higher_is_better": spec.higher_is_better}
    set_metrics = plan.family.aggregate(task=plan.task, dataset=plan.dataset, items=plan.items,
                                        run_dir=plan.run_dir, ok_ids=[r["id"] for r in ok]) if ok else {}
    for name in set_metric_names:
        if name in set_metrics:
            metrics[name] = {**set_metrics[name], "higher_is_better": METRICS.get(name).higher_is_better}
    model_s = sum(r["model_seconds"] or 0.0 for r in ok)
    audio_s = sum(r["audio_seconds"] or 0.0 for r in ok if r["model_seconds"] is not None)
    if model_info is None:
        model_info = _saved_model_info(plan) or _unloaded_info(plan)
    model_info = dict(model_info)
    if "params" in model_info and model_info["params"] != plan.options.model_params:
        model_info["effective_params"] = model_info["params"]
    model_info["params"] = plan.options.model_params  # what was asked: the model's identity on leaderboards
    results = {
        "schema_version": SCHEMA_VERSION,
        "run_id": plan.run_dir.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "task": {**plan.task.to_json(), "description": plan.task.description},
        "dataset": {"name": plan.task.dataset, "fingerprint": plan.fingerprint, "verified": plan.verified,
                    "split": plan.task.split},
        "model": model_info,
        "seed": plan.options.seed,
        "limit": plan.options.limit,
        "metrics": metrics,
        "n_items": len(plan.items),
        "n_scored": len(ok),
        "failures": failures,
        "timing": {"wall_s": round(wall_s, 3), "model_s": round(model_s, 3), "audio_s": round(audio_s, 3),
                   "real_time_factor": round(model_s / audio_s, 5) if audio_s > 0 else None,
                   "total_wall_s": round(invocations.total_s if invocations else wall_s, 3),
                   "invocations": len(invocations.rows) if invocations else 1},
        "peak_rss_mb": round(peak_mb if peak_mb is not None else peak_rss_mb(), 1),
        "environment": environment(),
        "code_version": code_version(),
    }
    rows = [{"item": r["id"], "status": r["status"], "error": r["error"] or "", **r["scores"]} for r in records]
    try:
        atomic_write_json(plan.run_dir / "results.json", results)
        atomic_write_text(plan.run_dir / "items.csv", _items_csv(rows))
    except OSError as exc:
        if _is_disk_full(exc):
            raise disk_full(plan, exc, "writing results.json") from None
        raise
    try:
        plan.family.figures(task=plan.task, dataset=plan.dataset, items=plan.items, run_dir=plan.run_dir)
    except Exception:  # a figure must never cost a run its results
        pass
    return results


def _unloaded_info(plan: RunPlan) -> dict[str, Any]:
    """The model's information without loading its weights (nothing was ever predicted)."""
    try:
        return plan.model_cls(device=plan.options.device, **plan.options.model_params).info()
    except Exception:  # noqa: BLE001
        return {"name": plan.options.model}


def run_task(options: RunOptions, *, on_item: Callable[[dict[str, Any]], None] | None = None) -> RunOutcome:
    """Run ``options.model`` on ``options.task`` and write the run directory.

    Raises
    ------
    ConfigError, MissingDataError, UnknownNameError
        Before anything is written (see :func:`plan_run`).
    RunLockedError
        Another process is running this run directory.
    ModelLoadError
        ``Model.load()`` failed or crashed its worker; finished items are kept.
    DiskFullError
        A write found no space; every record written is complete, and a rerun resumes.
    BadInputError
        A file of the run directory (config.json, an item record, ...) is corrupt.
    """
    plan = plan_run(options)
    lock = RunLock(plan.run_dir)
    try:
        lock.acquire()
    except OSError as exc:
        if _is_disk_full(exc):
            raise disk_full(plan, exc, f"writing {lock.path}") from None
        raise
    try:
        try:
            _prepare_run_dir(plan)
            invocations = Invocations(plan)
        except OSError as exc:
            if _is_disk_full(exc):
                raise disk_full(plan, exc, "preparing the run directory") from None
            raise

        def on_record(record: dict[str, Any]) -> None:
            try:
                invocations.tick()
            except OSError:
                pass  # the item record itself is what counts; the log is rewritten at the end
            if on_item:
                on_item(record)

        t0 = time.perf_counter()
        stats = None
        if options.backend == "local":
            from .local import run_local

            model_info, peak, stats = run_local(plan, on_item=on_record)
        else:
            from .ray_backend import run_ray

            model_info, peak = run_ray(plan, on_item=on_record)
        if model_info is not None:
            save_model_info(plan, model_info)
        wall_s = time.perf_counter() - t0
        try:
            invocations.finish(wall_s)
        except OSError as exc:
            if _is_disk_full(exc):
                raise disk_full(plan, exc, "writing invocations.json") from None
            raise
        results = finalize(plan, wall_s=wall_s, model_info=model_info, peak_mb=peak, invocations=invocations)
        return RunOutcome(plan.run_dir, results, stats)
    finally:
        lock.release()
