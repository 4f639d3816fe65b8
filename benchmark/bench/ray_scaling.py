"""Speed-up of the Ray backend over the local one on a CPU-bound model (``scripts/bench_ray.py``).

Each configuration runs cold in a fresh process through :func:`musebench.runner.run_task`
(temporary results folder): the local backend, then Ray with 1, 2, ... workers on a local
cluster started with as many CPUs as workers. The model gets the same parameters everywhere
(basic-pitch with ``num_threads=1``: one intra-op thread per worker), so the speed-up measures
how the items spread over workers. Two speed-ups are reported, both ``local / ray``:

* **end to end**: ``timing.wall_s`` of results.json, minus the Ray cluster start
  (``ray.init``, timed separately: with ``--address`` a cluster is already running), so it
  includes starting the actors, loading the model in each, the items and the finalisation;
* **steady state**: item throughput once every worker has finished its first item,
  ``(n - k) / (t_n - t_k)`` with ``t_i`` the time the i-th record arrived and ``k`` the number
  of workers (1 for local) -- the speed-up a long run approaches.

The metrics of every configuration are compared with the local run's (they must be equal).
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from .common import Table, fmt, fmt_x, progress, ratio, run_child

TASK = "synth-piano"


def task_for_split(task: str, split: str, directory: Path) -> str:
    """Path of a copy of ``task``'s YAML that reads ``split`` instead (more items for timing)."""
    from ..tasks import get_task

    spec = get_task(task)
    if spec.split == split:
        return task
    import yaml

    if spec.path is None:
        raise ValueError(f"task {task}: no YAML file to copy")
    data = yaml.safe_load(Path(spec.path).read_text())
    data["name"] = f"{spec.name}-{split}"
    data["split"] = split
    path = directory / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


# ------------------------------------------------------------------------------- child side
def timed_run(*, task: str, model: str, backend: str, workers: int | None = None,
              model_params: dict[str, Any] | None = None, limit: int | None = None) -> dict[str, Any]:
    """One cold run; returns results.json timing, record arrival times and the metric means."""
    from ..runner import RunOptions, run_task

    init_s = 0.0
    if backend == "ray":
        from ..runner import ray_backend

        original = ray_backend._init_ray

        def init(address: str | None, workers: int | None) -> None:
            nonlocal init_s
            t0 = time.perf_counter()
            try:
                original(address, workers)
            finally:
                init_s = time.perf_counter() - t0

        ray_backend._init_ray = init
    arrivals: list[float] = []
    results_dir = tempfile.mkdtemp(prefix="musebench-bench-ray-")
    try:
        t0 = time.perf_counter()
        outcome = run_task(RunOptions(task=task, model=model, model_params=model_params or {}, backend=backend,
                                      workers=workers, limit=limit, results_dir=results_dir, fresh=True,
                                      progress=False, device="cpu"),
                           on_item=lambda record: arrivals.append(time.perf_counter() - t0))
    finally:
        shutil.rmtree(results_dir, ignore_errors=True)
        if backend == "ray":
            import ray

            ray.shutdown()
    res = outcome.results
    return {"backend": backend, "workers": workers, "n_items": res["n_items"], "n_scored": res["n_scored"],
            "wall_s": res["timing"]["wall_s"], "model_s": res["timing"]["model_s"], "init_s": init_s,
            "arrivals_s": arrivals, "metrics": {k: v["mean"] for k, v in res["metrics"].items()}}


CHILDREN = {"run": timed_run}


def _steady_rate(arrivals: Sequence[float], k: int) -> float | None:
    n = len(arrivals)
    if n <= k or arrivals[n - 1] <= arrivals[k - 1]:
        return None
    return (n - k) / (arrivals[n - 1] - arrivals[k - 1])


# ------------------------------------------------------------------------------ parent side
def run(*, model: str = "basic-pitch", model_params: dict[str, Any] | None = None, task: str = TASK,
        split: str | None = None, workers: Sequence[int] = (1, 2), limit: int | None = None,
        local_threads: int | None = None) -> dict[str, Any]:
    """Local, then Ray with each number of ``workers``; speed-ups against local.

    ``local_threads``, when given, adds a reference row: the local backend with the model's
    ``num_threads`` set to that many (not part of the speed-ups).
    """
    params = dict(model_params if model_params is not None else {"num_threads": 1})
    tmp = Path(tempfile.mkdtemp(prefix="musebench-bench-task-"))
    try:
        task_ref = task_for_split(task, split, tmp) if split else task
        configs: list[tuple[str, str, int | None, dict[str, Any]]] = [("local", "local", None, params)]
        configs += [(f"ray x{n}", "ray", n, params) for n in workers]
        if local_threads:
            configs.append((f"local, {local_threads} threads", "local", None, {**params, "num_threads": local_threads}))
        rows = []
        for label, backend, n, p in configs:
            progress(f"ray: {label} ({model} {p} on {task}{'/' + split if split else ''})")
            r = run_child("ray_scaling", "run", {"task": task_ref, "model": model, "backend": backend, "workers": n,
                                                  "model_params": p, "limit": limit})
            r["label"] = label
            k = n or 1
            r["end_to_end_s"] = r["wall_s"] - r["init_s"]
            r["steady_items_per_s"] = _steady_rate(r["arrivals_s"], k)
            rows.append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = rows[0]
    for r in rows:
        r["speedup_end_to_end"] = ratio(base["end_to_end_s"], r["end_to_end_s"])
        r["speedup_steady"] = ratio(r["steady_items_per_s"], base["steady_items_per_s"])
        r["metrics_equal_local"] = r["metrics"] == base["metrics"]
    return {"section": "ray", "params": {"model": model, "model_params": params, "task": task, "split": split,
                                         "workers": list(workers), "limit": limit}, "rows": rows}


def tables(result: dict[str, Any]) -> list[Table]:
    rows = []
    for r in result["rows"]:
        target = f"{0.8 * r['workers']:.1f}x" if r["workers"] else ""
        rows.append([r["label"], str(r["n_items"]), fmt(r["init_s"], ".2f"), fmt(r["end_to_end_s"], ".2f"),
                     fmt(r["model_s"], ".2f"), fmt(r["steady_items_per_s"], ".2f"),
                     fmt_x(r["speedup_end_to_end"]), fmt_x(r["speedup_steady"]), target,
                     "yes" if r["metrics_equal_local"] else "NO"])
    p = result["params"]
    where = f"task {p['task']}" + (f" on split {p['split']}" if p["split"] else "")
    notes = [f"model {p['model']} {p['model_params']}, {where}",
             "end to end: results.json wall_s minus ray.init; steady: items/s after every worker's first item",
             "speed-ups: local / ray; target >= 0.8 x workers"]
    return [Table("Ray backend: speed-up over local", ["run", "items", "ray.init s", "end-to-end s", "model s",
                                                       "steady items/s", "speed-up e2e", "speed-up steady",
                                                       "target", "same metrics"], rows, notes)]
