"""``run_task``: plan a run, take its directory, run the pending items on the chosen backend
(:mod:`~musebench.runner.local` or :mod:`~musebench.runner.ray_backend`, both built on
:mod:`~musebench.runner.core`) and aggregate the records into results.json."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .aggregate import finalize
from .local import run_local
from .plan import RunOptions, plan_run
from .ray_backend import run_ray
from .store import Invocations, check_weights_on_disk, RunLock, disk_full, is_disk_full, prepare_run_dir, save_model_info


@dataclass
class RunOutcome:
    run_dir: Path
    results: dict[str, Any]
    #: what supervision cost (see :class:`musebench.runner.worker.SupervisedWorker`); None inline/on Ray
    worker_stats: dict[str, Any] | None = None

    @property
    def failures(self) -> list[dict[str, str]]:
        return self.results["failures"]


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
        if is_disk_full(exc):
            raise disk_full(plan, exc, f"writing {lock.path}") from None
        raise
    try:
        check_weights_on_disk(plan)
        try:
            prepare_run_dir(plan)
            invocations = Invocations(plan)
        except OSError as exc:
            if is_disk_full(exc):
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
            model_info, peak, stats = run_local(plan, on_item=on_record)
        else:
            model_info, peak = run_ray(plan, on_item=on_record)
        if model_info is not None:
            save_model_info(plan, model_info)
        wall_s = time.perf_counter() - t0
        try:
            invocations.finish(wall_s)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full(plan, exc, "writing invocations.json") from None
            raise
        results = finalize(plan, wall_s=wall_s, model_info=model_info, peak_mb=peak, invocations=invocations)
        return RunOutcome(plan.run_dir, results, stats)
    finally:
        lock.release()
