"""The run directory: its lock, the item records, the model information and the invocation log.

A run is resumable: each finished item is recorded in ``items/<id>.json`` (atomically) after
its prediction was written to ``predictions/``; a rerun skips recorded items, re-scores items
whose prediction exists but whose record does not (killed in between), and retries failures
-- except items that killed the model's worker (``killed_worker`` in their record), which are
retried only with ``retry_failed`` (:func:`pending_items`). A run holds ``run.lock`` (an
advisory lock with the holder's PID) while it writes, and removes temporary files a killed
write left behind. Every write that finds the disk full stops the run with
:func:`disk_full`'s one line.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeGuard

from ..errors import BadInputError, ConfigError, DiskFullError, RunLockedError
from ..io_utils import atomic_write_json, read_json
from ..types import Item
from .plan import RunPlan


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
        import fcntl  # POSIX only: imported when a run takes its lock

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


def remove_stale_tmp(run_dir: Path) -> None:
    """Temporary files of atomic writes a killed process left (``.<name>.<hex>.tmp``); only
    called while holding the run lock, so no writer is alive."""
    for folder in (run_dir, run_dir / "items", run_dir / "predictions"):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def prepare_run_dir(plan: RunPlan) -> None:
    run_dir = plan.run_dir
    cfg_path = run_dir / "config.json"
    if plan.options.fresh and run_dir.exists():
        for child in run_dir.iterdir():
            if child.name != LOCK_NAME:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    remove_stale_tmp(run_dir)
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


def is_disk_full(exc: BaseException) -> TypeGuard[OSError]:
    """True for an OSError that says the disk (or the quota) is full."""
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
        if is_disk_full(exc):
            raise disk_full(plan, exc, f"writing the record of item {record['id']}") from None
        raise


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


MODEL_INFO_NAME = "model.json"
INVOCATIONS_NAME = "invocations.json"


def save_model_info(plan: RunPlan, info: dict[str, Any]) -> None:
    """``model.json``: the model information of the invocation that last predicted (a resume
    with nothing left to predict reports this, not a model it never loaded)."""
    try:
        atomic_write_json(plan.run_dir / MODEL_INFO_NAME, info)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(plan, exc, f"writing {MODEL_INFO_NAME}") from None
        raise


def check_same_weights(plan: RunPlan, info: dict[str, Any] | None, *, model: Any = None) -> None:
    """Refuse (ConfigError, one line) to resume a run whose predictions were made with other
    weights than the model now loads: the run id names the task, model and parameters, not the
    weights, so a checkpoint replaced in place would otherwise mix two models' predictions in
    one result. ``info`` is the loaded model's :meth:`~musebench.models.base.Model.info`, or
    None (then ``model``'s weights are hashed, only when the run has predictions to protect)."""
    predictions = plan.run_dir / "predictions"
    if not (predictions.is_dir() and any(predictions.iterdir())):
        return
    old = (saved_model_info(plan) or {}).get("weights_sha256")
    if not old:
        return
    if info is not None:
        new = info.get("weights_sha256")
    else:
        new = model.weights_sha256() if model is not None else None
    if new and new != old:
        raise ConfigError(f"{plan.run_dir}: its predictions were made with weights sha256 {old[:12]}, but model "
                          f"{plan.options.model} now loads {new[:12]}; rerun with --fresh, or give another --run-id")


def check_weights_on_disk(plan: RunPlan) -> None:
    """:func:`check_same_weights` before a resume starts, from the weights files the model names
    (hashed, not loaded), so that a resume with nothing left to predict does not report a
    replaced checkpoint's old results as its own. A model that cannot name its files before
    ``load()`` is checked when it loads."""
    if plan.options.fresh or not ((plan.run_dir / MODEL_INFO_NAME).exists()
                                  or (plan.run_dir / "results.json").exists()):
        return  # --fresh discards the old predictions; a new run has none
    try:
        model = plan.model_cls(device=plan.options.device, **plan.options.model_params)
        files = model.weights_files()
        sha = model.weights_sha256() if files and all(Path(f).is_file() for f in files) else None
    except Exception:  # noqa: BLE001 - a model that needs load() first, or missing files: load() reports those
        return
    if sha:
        check_same_weights(plan, {"weights_sha256": sha})


def saved_model_info(plan: RunPlan) -> dict[str, Any] | None:
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
