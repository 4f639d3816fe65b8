"""Ray backend: shard a run's items over a Ray cluster.

Each actor builds and loads the model once (one actor per GPU with ``num_gpus=1`` when the run
uses CUDA and the cluster has GPUs, else one per CPU slot, or ``--workers``). Actors predict and
score an item and send the record *and the prediction bytes* back, so the driver writes both into
the same run directory as a local run would — no shared filesystem is needed for results (the
dataset must be readable on the workers). Finished items are written as they arrive, so a Ray
run is resumable exactly like a local one, and gives the same results.json apart from timings.
"""
from __future__ import annotations

import copy
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

from ..errors import ConfigError, ModelLoadError
from ..families.base import RUN_ERRORS
from ..io_utils import atomic_write_bytes
from .core import ItemWorker, peak_rss_mb
from .plan import RunPlan
from .store import check_same_weights, failure_record, pending_items, save_model_info, write_record


class _RemoteWorker:
    """Runs on a Ray worker: an ItemWorker writing into a private scratch run directory."""

    def __init__(self, plan: RunPlan):
        self.scratch = Path(tempfile.mkdtemp(prefix="musebench-ray-"))
        local_plan = copy.copy(plan)
        local_plan.run_dir = self.scratch
        (self.scratch / "items").mkdir()
        (self.scratch / "predictions").mkdir()
        self.plan = local_plan
        self.worker = ItemWorker(local_plan)

    def process(self, item) -> tuple[dict[str, Any], dict[str, bytes], float]:
        record = self.worker.process(item)
        return self._ship(item, record, [item])

    def process_group(self, items) -> list[tuple[dict[str, Any], dict[str, bytes], float]]:
        """Several items, in one model call when the model batches across items (``--batch-items``)."""
        records = self.worker.process_group(list(items))
        return [self._ship(item, record, items) for item, record in zip(items, records)]

    def _ship(self, item, record: dict[str, Any], group) -> tuple[dict[str, Any], dict[str, bytes], float]:
        """The record and the item's prediction files (the prediction and any companion a family
        writes beside it, ``<id>.*``), removed from the scratch directory."""
        folder = self.plan.prediction_path(item.id).parent
        longer = [o.id + "." for o in group if o.id != item.id and o.id.startswith(item.id + ".")]
        files = {p.name: p for p in folder.iterdir()
                 if p.name.startswith(item.id + ".") and not p.name.startswith(".")
                 and not any(p.name.startswith(o) for o in longer)}
        data = {name: p.read_bytes() for name, p in files.items()}
        for p in [*files.values(), self.plan.item_path(item.id)]:
            p.unlink(missing_ok=True)
        return record, data, peak_rss_mb()

    def load(self) -> bool:
        """Load the model now (so that item time limits do not count the actor's start)."""
        self.worker.ensure_model()
        return True

    def info(self) -> dict[str, Any] | None:
        model = self.worker.model
        return model.info() if model is not None else None


def _init_ray(address: str | None, workers: int | None) -> None:
    import ray

    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = dict(include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                                  configure_logging=False)
    # workers import the package (and whatever registered the model) from the driver's sys.path
    kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}
    if address:
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(_connect_error(address, exc)) from None
    else:
        # "local": always a new cluster of our own, even when `ray start` left one (or its address file) here
        ray.init(address="local", num_cpus=workers or os.cpu_count() or 1, **kwargs)


def _connect_error(address: str, exc: BaseException) -> str:
    """One line saying why ``ray.init(address=...)`` failed, with the fix for token authentication."""
    chain: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        chain.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    text = " ".join(chain)
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    message = f"--address {address}: cannot connect to the Ray cluster ({first})"
    if "AuthToken" in text or "Authentication" in text:
        message += ("; the cluster uses token authentication (the default of `ray start`): set RAY_AUTH_MODE=token "
                    "and make its token available (~/.ray/auth_token or RAY_AUTH_TOKEN)")
    return message


def _death_reason(exc: BaseException) -> str:
    """A short phrase for a RayActorError (its message is a long multi-line report)."""
    text = str(exc)
    for needle, phrase in (("SIGSEGV", "killed by SIGSEGV"), ("SIGKILL", "killed by SIGKILL"),
                           ("out of memory", "killed by Ray's out-of-memory monitor"),
                           ("exit_actor", "exited"), ("SystemExit", "exited (SystemExit)")):
        if needle in text:
            return phrase
    return "died"


def run_ray(plan: RunPlan, *, on_item: Callable[[dict[str, Any]], None] | None = None
            ) -> tuple[dict[str, Any] | None, float]:
    """Shard the pending items over actors. An actor that dies (a segfault, an exit) or overruns
    the items' time limit fails its item with one line, like the local worker, and is replaced;
    a group of batched items it was given goes through again one by one."""
    try:
        import ray
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError
    except ImportError:
        raise ConfigError("--backend ray needs the 'ray' package (pip install 'musebench[ray]')") from None
    from tqdm.auto import tqdm

    opts = plan.options
    _init_ray(opts.address, opts.workers)
    resources = ray.cluster_resources()
    use_gpu = opts.device != "cpu" and resources.get("GPU", 0) >= 1 and (opts.device.startswith("cuda") or opts.device == "auto")
    actor_cls: Any  # a Ray actor class
    if use_gpu:
        n = opts.workers or int(resources["GPU"])
        actor_cls = ray.remote(num_gpus=1, num_cpus=1, max_restarts=0)(_RemoteWorker)
    else:
        n = opts.workers or max(1, int(resources.get("CPU", 1)))
        actor_cls = ray.remote(num_cpus=1, max_restarts=0)(_RemoteWorker)
    todo = pending_items(plan)
    size = max(1, int(opts.batch_items or 1))
    n = max(1, min(n, -(-len(todo) // size))) if todo else 1  # no more actors than groups of items
    needs_model = any(not plan.prediction_path(it.id).exists() for it in todo)

    def start_actors(k: int) -> list[Any]:
        """``k`` new actors, their models loaded (in parallel) when something needs predicting."""
        started = [actor_cls.remote(plan) for _ in range(k)]
        if needs_model:
            try:
                # the clock starts when the actors are asked, so it includes waiting for a free CPU
                ray.get([a.load.remote() for a in started], timeout=plan.load_timeout)
            except GetTimeoutError:
                for a in started:
                    ray.kill(a, no_restart=True)
                raise ModelLoadError(f"model {opts.model}: loading the model did not finish in "
                                     f"{plan.load_timeout:g} s (--load-timeout); its Ray actors were killed") from None
            except RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, RUN_ERRORS):  # the run stops, one line
                    raise type(cause)(str(cause)) from None
                raise
            except RayActorError as exc:
                raise ModelLoadError(f"model {opts.model}: its Ray actor {_death_reason(exc)} while loading "
                                     "the model") from None
        return started

    actors = start_actors(n)
    if needs_model:  # actors write into their own folders: the run directory's weights are checked here
        try:
            check_same_weights(plan, ray.get(actors[0].info.remote()))
        except ConfigError:
            for a in actors:
                ray.kill(a, no_restart=True)
            raise
    peak = peak_rss_mb()
    bar = tqdm(total=len(plan.items), initial=len(plan.items) - len(todo),
               desc=f"{plan.task.name} / {opts.model} (ray x{n})", unit="item", disable=not opts.progress)
    queue: list[list[Any]] = [todo[i:i + size] for i in range(0, len(todo), size)]
    in_flight: dict[Any, tuple[Any, list[Any], float]] = {}
    infos: list[dict[str, Any]] = []

    def submit(actor):
        if queue:
            group = queue.pop(0)
            ref = actor.process_group.remote(group) if len(group) > 1 else actor.process.remote(group[0])
            limit = sum(plan.timeout_for(it) for it in group)
            in_flight[ref] = (actor, group, time.monotonic() + limit + max(1.0, min(0.1 * limit, 30.0)))

    def record(item, rec):
        write_record(plan, rec)
        bar.update(1)
        if on_item:
            on_item(rec)

    def replace(actor, group, error_of):
        """The actor is gone: fail its single item (or requeue a batch one by one), start another."""
        ray.kill(actor, no_restart=True)
        actors.remove(actor)
        if len(group) > 1:
            queue[:0] = [[it] for it in group]
        else:
            (item,) = group
            record(item, failure_record(item, error_of(item), killed_worker=True))
        (fresh,) = start_actors(1)
        actors.append(fresh)
        submit(fresh)

    try:
        for actor in actors:
            submit(actor)
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
            if not ready:
                now = time.monotonic()
                for ref, (actor, group, deadline) in list(in_flight.items()):
                    if now > deadline:
                        del in_flight[ref]
                        limit = plan.timeout_for(group[0])
                        replace(actor, group, lambda it, limit=limit: f"item {it.id}: timed out after {limit:g} s "
                                                         "(its Ray actor was killed)")
                continue
            ref = ready[0]
            actor, group, _ = in_flight.pop(ref)
            try:
                shipped = ray.get(ref)
            except RayActorError as exc:
                reason = _death_reason(exc)
                replace(actor, group, lambda it, reason=reason: f"item {it.id}: the model's Ray actor {reason}")
                continue
            except RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, RUN_ERRORS):  # the run stops, one line
                    raise type(cause)(str(cause)) from None
                raise
            for item, (rec, data, worker_peak) in zip(group, shipped if len(group) > 1 else [shipped]):
                peak = max(peak, worker_peak)
                main = plan.prediction_path(item.id)
                # companions first, the prediction itself last: its existence means "predicted"
                for name, content in sorted(data.items(), key=lambda kv: (kv[0] == main.name, kv[0])):
                    atomic_write_bytes(main.parent / name, content)
                record(item, rec)
            submit(actor)
        for info in ray.get([a.info.remote() for a in actors]):
            if info:
                infos.append(info)
    finally:
        bar.close()
        for a in actors:
            ray.kill(a)
    info = infos[0] if infos else None
    if info is not None:
        save_model_info(plan, info)
    return info, peak
