"""The run loop shared by all backends.

A run is resumable: each finished item is recorded in ``items/<id>.json`` (atomically) after
its prediction was written to ``predictions/``; a rerun skips recorded items, re-scores items
whose prediction exists but whose record does not (killed in between), and retries failures.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..datasets import get_dataset
from ..datasets.base import Dataset
from ..errors import ConfigError, MissingDataError, ModelError, MuseBenchError
from ..families import get_family
from ..families.base import Family
from ..io_utils import atomic_write_json, atomic_write_text, canonical_json
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
    allow_unverified: bool = False
    item_timeout: float | None = None
    fresh: bool = False
    progress: bool = True
    backend: str = "local"
    address: str | None = None
    workers: int | None = None
    #: items per model call for models that batch across items (``transcribe_batch``); 1 = one by one
    batch_items: int = 1


@dataclass
class RunOutcome:
    run_dir: Path
    results: dict[str, Any]

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


def plan_run(options: RunOptions) -> RunPlan:
    task = get_task(options.task)
    family = get_family(task.family)
    model_cls = get_model_class(options.model, family=task.family)
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
    run_id = options.run_id or hashlib.sha256(canonical_json(config).encode()).hexdigest()[:12]
    if not all(c.isalnum() or c in "._-" for c in run_id):
        raise ConfigError(f"run id {run_id!r} may only contain letters, digits, '.', '_' and '-'")
    run_dir = runs_root(options.results_dir) / task.name / options.model / run_id
    return RunPlan(options, task, dataset, family, items, model_cls, fingerprint, verified, run_dir, config)


def _prepare_run_dir(plan: RunPlan) -> None:
    run_dir = plan.run_dir
    cfg_path = run_dir / "config.json"
    if plan.options.fresh and run_dir.exists():
        import shutil

        shutil.rmtree(run_dir)
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text())
        if old != json.loads(json.dumps(plan.config)):
            raise ConfigError(f"{run_dir}: run id already used for a different configuration; "
                              "choose another --run-id or pass --fresh")
    else:
        atomic_write_json(cfg_path, plan.config)
    (run_dir / "items").mkdir(parents=True, exist_ok=True)
    (run_dir / "predictions").mkdir(parents=True, exist_ok=True)


class ItemWorker:
    """Holds a loaded model; turns one item into one item record. Used by every backend."""

    def __init__(self, plan: RunPlan):
        self.plan = plan
        self.model: Model | None = None

    def ensure_model(self) -> Model:
        if self.model is None:
            opts = self.plan.options
            try:
                self.model = self.plan.model_cls(device=opts.device, **opts.model_params)
            except TypeError as exc:
                raise ConfigError(f"model {opts.model}: bad parameters ({_one_line(exc)})") from None
            self.model.load()
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
                    limit = plan.options.item_timeout * len(todo) if plan.options.item_timeout else None
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
            except Exception:  # noqa: BLE001 - fall back to one by one, which records the failure
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
        record: dict[str, Any] = {"id": item.id, "status": "ok", "error": None, "scores": {},
                                  "model_seconds": model_seconds, "audio_seconds": None}
        pred_path = plan.prediction_path(item.id)
        try:
            if not pred_path.exists():
                model = self.ensure_model()
                context = self._context(model, item)
                t0 = time.perf_counter()
                with _time_limit(plan.options.item_timeout, item.id):
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
        except (MuseBenchError, ItemTimeout) as exc:
            record.update(status="failed", error=_one_line(exc))
        except Exception as exc:  # anything else a model or file throws: the item fails, the run goes on
            record.update(status="failed", error=f"item {item.id}: {type(exc).__name__}: {_one_line(exc)}")
        atomic_write_json(plan.item_path(item.id), record)
        return record


def pending_items(plan: RunPlan) -> list[Item]:
    """Items without an ``ok`` record (failed items are retried)."""
    out = []
    for item in plan.items:
        p = plan.item_path(item.id)
        if p.exists():
            try:
                if json.loads(p.read_text()).get("status") == "ok":
                    continue
            except json.JSONDecodeError:
                pass
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


def finalize(plan: RunPlan, *, wall_s: float, model_info: dict[str, Any] | None,
             peak_mb: float | None = None) -> dict[str, Any]:
    """Aggregate item records into results.json and items.csv."""
    records = [json.loads(plan.item_path(it.id).read_text()) for it in plan.items if plan.item_path(it.id).exists()]
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
        old = plan.run_dir / "results.json"
        model_info = json.loads(old.read_text())["model"] if old.exists() else {"name": plan.options.model}
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
                   "real_time_factor": round(model_s / audio_s, 5) if audio_s > 0 else None},
        "peak_rss_mb": round(peak_mb if peak_mb is not None else peak_rss_mb(), 1),
        "environment": environment(),
        "code_version": code_version(),
    }
    atomic_write_json(plan.run_dir / "results.json", results)
    rows = [{"item": r["id"], "status": r["status"], "error": r["error"] or "", **r["scores"]} for r in records]
    atomic_write_text(plan.run_dir / "items.csv", _items_csv(rows))
    try:
        plan.family.figures(task=plan.task, dataset=plan.dataset, items=plan.items, run_dir=plan.run_dir)
    except Exception:  # a figure must never cost a run its results
        pass
    return results


def run_task(options: RunOptions, *, on_item: Callable[[dict[str, Any]], None] | None = None) -> RunOutcome:
    """Run ``options.model`` on ``options.task`` and write the run directory."""
    plan = plan_run(options)
    _prepare_run_dir(plan)
    t0 = time.perf_counter()
    if options.backend == "local":
        from .local import run_local

        model_info, peak = run_local(plan, on_item=on_item)
    elif options.backend == "ray":
        from .ray_backend import run_ray

        model_info, peak = run_ray(plan, on_item=on_item)
    else:
        raise ConfigError(f"backend must be 'local' or 'ray', not {options.backend!r}")
    results = finalize(plan, wall_s=time.perf_counter() - t0, model_info=model_info, peak_mb=peak)
    return RunOutcome(plan.run_dir, results)
