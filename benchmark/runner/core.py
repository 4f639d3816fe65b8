"""The item loop shared by all backends: :class:`ItemWorker` holds a loaded model and turns
one item (or a group of items the model batches) into item records.

Each item is predicted (unless its prediction exists), saved, reloaded and scored under its
time limit; a failure of the item becomes its record by the one rule of
:mod:`musebench.families.base` (:func:`~musebench.families.base.item_error`), and what stops
the run (a configuration error, a model that cannot load, a full disk) propagates.
"""
from __future__ import annotations

import hashlib
import resource
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import ConfigError, ModelError, ModelLoadError, MuseBenchError
from ..families.base import RUN_ERRORS, describe, item_error, one_line
from ..models.base import Context, Model
from ..types import Item
from .plan import RunPlan
from .store import check_same_weights, disk_full, is_disk_full, write_record


def item_seed(seed: int, item_id: str) -> int:
    """A per-item seed that does not depend on item order or worker."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode()).digest()[:4], "little")


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


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
                raise ConfigError(f"model {opts.model}: bad parameters ({one_line(exc)})") from None
            try:
                model.load()
            except Exception as exc:  # noqa: BLE001 - any failure to load stops the run
                raise ModelLoadError(f"model {opts.model}: load() failed ({describe(exc)})") from None
            info = model.info() if self.on_event is not None else None  # hashes the weights: part of loading
            check_same_weights(self.plan, info, model=model)  # before anything is predicted with them
            self.model = model
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
            except RUN_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - fall back to one by one, which records the failure
                if is_disk_full(exc):
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
        except Exception as exc:  # the item fails, the run goes on, except for RUN_ERRORS (item_error)
            if is_disk_full(exc):
                raise disk_full(plan, exc, f"writing the prediction of item {item.id}") from None
            record.update(status="failed", error=item_error(exc, item))
        write_record(plan, record)
        self._event("record", record, time.perf_counter() - t_item - (self.load_s - load_before), peak_rss_mb())
        return record
