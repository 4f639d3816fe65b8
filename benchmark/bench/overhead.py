"""Harness overhead: what a run costs beyond the model's own predictions, on the demo task.

Each model runs once, cold, in a fresh process through the real runner
(:func:`musebench.runner.run_task`, local backend, a temporary results folder). From its
``results.json`` come ``timing.wall_s`` (the run, from after planning to after ``results.json``)
and ``timing.model_s`` (the sum over items of the family's ``predict``: audio loading at the
model's rate plus the model call), and the overhead of the brief::

    run overhead = (wall_s - model_s) / model_s

Inside the same process, light timers around the runner's and the family's methods split
``wall_s`` into

* ``load_s``: constructing the model and ``Model.load()`` (a model cost, paid once per run);
* ``item_harness_s``: per item, everything ``ItemWorker.process`` does besides ``predict``:
  writing the prediction, reading it back, loading the reference, scoring, writing the record;
* ``finalize_s``: aggregation with bootstrap CIs, ``results.json`` and ``items.csv``;
* the rest (progress bar, pending-item scan, model provenance hashes).

``harness overhead = (wall_s - model_s - load_s) / model_s`` is the share that the harness
adds to the model's work; ``item_harness_s / model_s`` is its steady-state part (what the
overhead tends to as the number of items grows). The oracle has no model time to speak of, so
its row reads as the pure harness cost per item.

The timers need the model in this process, so those runs use ``worker="inline"``. A second
cold run per model takes the default path, the supervised worker process
(:mod:`musebench.runner.worker`), rows marked ``(worker)``: its per-item harness time is the
item's wall time seen by the runner minus the item's ``model_seconds`` (everything the worker
does besides predicting, plus the pipe), ``load_s`` the model's loading in the worker, and
``worker_start_s`` / ``ipc_ms_per_item`` what supervision itself costs (starting the worker;
per item, the runner's time minus the worker's own time for the item).
"""
from __future__ import annotations

import functools
import shutil
import tempfile
import time
from typing import Any
from collections.abc import Callable, Sequence

from .common import Table, fmt, progress, ratio, run_child

TASK = "synth-piano"
MODELS = ("oracle", "basic-pitch")
TARGET = 0.05


def _timer(store: dict[str, float], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            store[key] = store.get(key, 0.0) + time.perf_counter() - t0
            store[key + "_calls"] = store.get(key + "_calls", 0) + 1
    return wrapper


# ------------------------------------------------------------------------------- child side
def instrumented_run(*, model: str, task: str = TASK, limit: int | None = None,
                     model_params: dict[str, Any] | None = None, device: str = "auto") -> dict[str, Any]:
    """Run ``model`` on ``task`` cold in this process, with timers; return timings (seconds)."""
    t_process = time.perf_counter()
    from ..families import FAMILIES
    from ..runner import RunOptions, core, dispatch, run_task
    from ..tasks import get_task

    spent: dict[str, float] = {}
    family_cls = FAMILIES.get(get_task(task).family)
    for name in ("predict", "save_prediction", "load_prediction", "score", "reference", "input_seconds"):
        setattr(family_cls, name, _timer(spent, name, getattr(family_cls, name)))
    # instrumentation: the class's methods are wrapped for this (child) process only, hence method-assign
    core.ItemWorker.ensure_model = _timer(spent, "ensure_model", core.ItemWorker.ensure_model)  # type: ignore[method-assign]
    dispatch.finalize = _timer(spent, "finalize", dispatch.finalize)
    per_item: list[float] = []  # harness seconds of each item: process minus predict minus model loading
    original_process = core.ItemWorker.process

    def process(self: Any, item: Any, **kwargs: Any) -> dict[str, Any]:
        before = spent.get("predict", 0.0) + spent.get("ensure_model", 0.0)
        t0 = time.perf_counter()
        try:
            return original_process(self, item, **kwargs)
        finally:
            elapsed = time.perf_counter() - t0
            spent["process"] = spent.get("process", 0.0) + elapsed
            per_item.append(elapsed - (spent.get("predict", 0.0) + spent.get("ensure_model", 0.0) - before))

    core.ItemWorker.process = process  # type: ignore[method-assign]  # instrumentation, as above

    # ensure_model is called once per item; only the first call loads
    first_load: dict[str, float] = {}
    original_load = core.ItemWorker.ensure_model

    def ensure_model(self: Any) -> Any:
        if self.model is None:
            t0 = time.perf_counter()
            out = original_load(self)
            first_load["load_s"] = time.perf_counter() - t0
            return out
        return original_load(self)

    core.ItemWorker.ensure_model = ensure_model  # type: ignore[method-assign]  # instrumentation, as above
    results_dir = tempfile.mkdtemp(prefix="musebench-bench-")
    try:
        t_run = time.perf_counter()
        outcome = run_task(RunOptions(task=task, model=model, model_params=model_params or {}, device=device,
                                      limit=limit, results_dir=results_dir, fresh=True, progress=False,
                                      worker="inline"))
        run_s = time.perf_counter() - t_run
    finally:
        shutil.rmtree(results_dir, ignore_errors=True)
    res = outcome.results
    timing = res["timing"]
    n = res["n_items"]
    load_s = first_load.get("load_s", 0.0)
    item_harness = spent.get("process", 0.0) - spent.get("predict", 0.0) - spent.get("ensure_model", 0.0)
    return {
        "model": model, "task": task, "n_items": n, "n_scored": res["n_scored"], "failures": res["failures"],
        "wall_s": timing["wall_s"], "model_s": timing["model_s"], "audio_s": timing["audio_s"],
        "load_s": load_s, "item_harness_s": item_harness, "item_harness_each_s": per_item,
        "finalize_s": spent.get("finalize", 0.0),
        "save_s": spent.get("save_prediction", 0.0), "reload_s": spent.get("load_prediction", 0.0),
        "score_s": spent.get("score", 0.0), "reference_s": spent.get("reference", 0.0),
        "run_task_s": run_s, "process_s": time.perf_counter() - t_process,
        "peak_rss_mb": res["peak_rss_mb"], "device": res["model"].get("device"),
    }


def supervised_run(*, model: str, task: str = TASK, limit: int | None = None,
                   model_params: dict[str, Any] | None = None, device: str = "auto") -> dict[str, Any]:
    """Run ``model`` on ``task`` cold through the default supervised worker; return timings."""
    t_process = time.perf_counter()
    from ..runner import RunOptions, run_task

    records: list[dict[str, Any]] = []
    results_dir = tempfile.mkdtemp(prefix="musebench-bench-")
    try:
        t_run = time.perf_counter()
        outcome = run_task(RunOptions(task=task, model=model, model_params=model_params or {}, device=device,
                                      limit=limit, results_dir=results_dir, fresh=True, progress=False),
                           on_item=records.append)
        run_s = time.perf_counter() - t_run
    finally:
        shutil.rmtree(results_dir, ignore_errors=True)
    res, stats = outcome.results, outcome.worker_stats
    if stats is None:
        raise RuntimeError("bench overhead: the supervised run reported no worker statistics")
    walls = stats["item_wall_s"]
    each = [w - (r["model_seconds"] or 0.0) for w, r in zip(walls, records)]
    return {
        "model": f"{model} (worker)", "task": task, "n_items": res["n_items"], "n_scored": res["n_scored"],
        "failures": res["failures"], "wall_s": res["timing"]["wall_s"], "model_s": res["timing"]["model_s"],
        "audio_s": res["timing"]["audio_s"], "load_s": stats["load_s"], "item_harness_each_s": each,
        "finalize_s": None, "worker_start_s": stats["start_s"], "worker_starts": stats["starts"],
        "ipc_ms_per_item": 1000 * stats["ipc_s"] / max(1, stats["items"]),
        "run_task_s": run_s, "process_s": time.perf_counter() - t_process, "peak_rss_mb": res["peak_rss_mb"],
        "device": res["model"].get("device"),
    }


CHILDREN = {"run": instrumented_run, "supervised": supervised_run}


def _derive(r: dict[str, Any]) -> dict[str, Any]:
    """Add the overhead shares to one :func:`instrumented_run` result (None without model time)."""
    import statistics

    wall, model, load = r["wall_s"], r["model_s"], r["load_s"]
    each = r["item_harness_each_s"]
    n = max(1, len(each))
    # the first item also pays one-time imports (MIDI writer, metric modules); the median of
    # the others is the steady per-item cost
    steady = statistics.median(each[1:]) if len(each) > 1 else (each[0] if each else 0.0)
    has_model = model / n >= 5e-3  # an oracle's few ms of 'model' time would make the shares meaningless
    r["run_overhead"] = ratio(wall - model, model) if has_model else None
    r["harness_overhead"] = ratio(wall - model - load, model) if has_model else None
    r["steady_overhead"] = ratio(steady * n, model) if has_model else None
    r["first_item_harness_ms"] = 1000 * each[0] if each else None
    r["harness_ms_per_item"] = 1000 * steady
    r["model_ms_per_item"] = 1000 * model / n
    return r


# ------------------------------------------------------------------------------ parent side
def run(*, models: Sequence[str] = MODELS, task: str = TASK, limit: int | None = None) -> dict[str, Any]:
    """One cold instrumented run per model (see the module docstring); failures become ``error`` rows."""
    rows = []
    for model in models:
        for kind, label in (("run", model), ("supervised", f"{model} (worker)")):
            progress(f"overhead: {label} on {task}" + (f" (first {limit} items)" if limit else ""))
            t0 = time.perf_counter()
            try:
                r = run_child("overhead", kind, {"model": model, "task": task, "limit": limit})
            except RuntimeError as exc:
                rows.append({"model": label, "task": task, "error": str(exc)})
                continue
            r["child_s"] = time.perf_counter() - t0
            rows.append(_derive(r))
    return {"section": "overhead", "params": {"task": task, "models": list(models), "limit": limit,
                                              "target": TARGET}, "rows": rows}


def run_section(*, quick: bool = False) -> dict[str, Any]:
    """The ``musebench bench`` section: oracle and basic-pitch on synth-piano (``quick``: 2 items)."""
    return run(limit=2 if quick else None)


def tables(result: dict[str, Any]) -> list[Table]:
    rows = []
    for r in result["rows"]:
        if "error" in r:
            rows.append([r["model"]] + ["-"] * 11 + [f"ERROR {r['error']}"])
            continue
        rows.append([r["model"], str(r["n_items"]), fmt(r["wall_s"], ".2f"), fmt(r["model_s"], ".2f"),
                     fmt(r["load_s"], ".2f"), fmt(r["finalize_s"], ".2f"), fmt(r["model_ms_per_item"], ".0f"),
                     fmt(r["first_item_harness_ms"], ".0f"), fmt(r["harness_ms_per_item"], ".1f"),
                     fmt(r["run_overhead"], ".1%"), fmt(r["harness_overhead"], ".1%"),
                     fmt(r["steady_overhead"], ".1%"), f"{r['child_s']:.1f}"])
    worker_notes = [f"{r['model']}: worker start {r['worker_start_s'] * 1000:.0f} ms, supervision "
                    f"{r['ipc_ms_per_item']:.2f} ms per item (pipe, pickling, polling)"
                    for r in result["rows"] if "worker_start_s" in r and "error" not in r]
    notes = [f"task {result['params']['task']}, one cold run per model in a fresh process (local backend); "
             "plain rows: the model inline with timers; (worker) rows: the default supervised worker process",
             *worker_notes,
             "run ovh = (wall - model) / model (results.json timing); harness ovh = (wall - model - load) / model",
             "per-item ovh = steady harness ms/item / model ms/item: the overhead's limit for many items; "
             f"target < {result['params']['target']:.0%}",
             "harness ms: per item, runner + family work besides predict (save, reload, score, record); "
             "1st item includes one-time imports",
             "process s: the whole child process, interpreter start and imports included"]
    return [Table("Harness overhead on the demo task",
                  ["model", "items", "wall s", "model s", "load s", "finalize s", "model ms/item",
                   "1st item harness ms", "harness ms/item", "run ovh", "harness ovh", "per-item ovh", "process s"],
                  rows, notes)]
