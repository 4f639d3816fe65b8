"""Ray backend: shard a run's items over a Ray cluster.

Each actor builds and loads the model once (one actor per GPU with ``num_gpus=1`` when the run
uses CUDA and the cluster has GPUs, else one per CPU slot, or ``--workers``). Actors predict and
score an item and send the record *and the prediction bytes* back, so the driver writes both into
the same run directory as a local run would — no shared filesystem is needed for results (the
dataset must be readable on the workers). Finished items are written as they arrive, so a Ray
run is resumable exactly like a local one, and gives the same results.json apart from timings.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError
from ..io_utils import atomic_write_bytes, atomic_write_json
from .core import ItemWorker, RunPlan, peak_rss_mb, pending_items


class _RemoteWorker:
    """Runs on a Ray worker: an ItemWorker writing into a private scratch run directory."""

    def __init__(self, plan: RunPlan):
        import copy

        self.scratch = Path(tempfile.mkdtemp(prefix="musebench-ray-"))
        local_plan = copy.copy(plan)
        local_plan.run_dir = self.scratch
        (self.scratch / "items").mkdir()
        (self.scratch / "predictions").mkdir()
        self.plan = local_plan
        self.worker = ItemWorker(local_plan)

    def process(self, item) -> tuple[dict[str, Any], bytes | None, float]:
        record = self.worker.process(item)
        return self._ship(item, record)

    def process_group(self, items) -> list[tuple[dict[str, Any], bytes | None, float]]:
        """Several items, in one model call when the model batches across items (``--batch-items``)."""
        records = self.worker.process_group(list(items))
        return [self._ship(item, record) for item, record in zip(items, records)]

    def _ship(self, item, record: dict[str, Any]) -> tuple[dict[str, Any], bytes | None, float]:
        pred = self.plan.prediction_path(item.id)
        data = pred.read_bytes() if pred.exists() else None
        for p in (pred, self.plan.item_path(item.id)):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        return record, data, peak_rss_mb()

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
    kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in __import__("sys").path if p)}}
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
    chain, seen = [], exc
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


def run_ray(plan: RunPlan, *, on_item: Callable[[dict[str, Any]], None] | None = None
            ) -> tuple[dict[str, Any] | None, float]:
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend ray needs the 'ray' package (pip install 'musebench[ray]')") from None
    from tqdm.auto import tqdm

    opts = plan.options
    _init_ray(opts.address, opts.workers)
    resources = ray.cluster_resources()
    use_gpu = opts.device != "cpu" and resources.get("GPU", 0) >= 1 and (opts.device.startswith("cuda") or opts.device == "auto")
    if use_gpu:
        n = opts.workers or int(resources["GPU"])
        actor_cls = ray.remote(num_gpus=1, num_cpus=1)(_RemoteWorker)
    else:
        n = opts.workers or max(1, int(resources.get("CPU", 1)))
        actor_cls = ray.remote(num_cpus=1)(_RemoteWorker)
    todo = pending_items(plan)
    size = max(1, int(opts.batch_items or 1))
    n = max(1, min(n, -(-len(todo) // size))) if todo else 1  # no more actors than groups of items
    plan_for_workers = plan
    actors = [actor_cls.remote(plan_for_workers) for _ in range(n)]
    peak = peak_rss_mb()
    bar = tqdm(total=len(plan.items), initial=len(plan.items) - len(todo),
               desc=f"{plan.task.name} / {opts.model} (ray x{n})", unit="item", disable=not opts.progress)
    queue = list(todo)
    in_flight: dict[Any, Any] = {}

    def submit(actor):
        if queue:
            group = queue[:size]
            del queue[:size]
            ref = actor.process_group.remote(group) if size > 1 else actor.process.remote(group[0])
            in_flight[ref] = (actor, group)

    try:
        for actor in actors:
            submit(actor)
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            ref = ready[0]
            actor, group = in_flight.pop(ref)
            shipped = ray.get(ref)
            for item, (record, data, worker_peak) in zip(group, shipped if size > 1 else [shipped]):
                peak = max(peak, worker_peak)
                if data is not None:
                    atomic_write_bytes(plan.prediction_path(item.id), data)
                atomic_write_json(plan.item_path(item.id), record)
                bar.update(1)
                if on_item:
                    on_item(record)
            submit(actor)
        infos = [i for i in ray.get([a.info.remote() for a in actors]) if i]
    finally:
        bar.close()
        for a in actors:
            ray.kill(a)
    if infos:
        info = infos[0]
    else:
        try:
            info = plan.model_cls(device=opts.device, **opts.model_params).info()
        except Exception:
            info = None
    return info, peak
