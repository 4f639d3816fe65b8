"""The local backend (the default): items go, one group at a time, through the model in a
supervised worker process (:mod:`musebench.runner.worker`), or in this process with
``worker="inline"`` (unsupervised; for debugging and profiling)."""
from __future__ import annotations

from typing import Any
from collections.abc import Callable

from .core import ItemWorker, peak_rss_mb
from .plan import RunPlan
from .store import pending_items, save_model_info
from .worker import SupervisedWorker


def run_local(plan: RunPlan, *, on_item: Callable[[dict[str, Any]], None] | None = None
              ) -> tuple[dict[str, Any] | None, float, dict[str, Any] | None]:
    """Run the pending items; returns (model info of this invocation or None, peak MB, worker stats)."""
    from tqdm.auto import tqdm

    todo = pending_items(plan)
    done = len(plan.items) - len(todo)
    bar = tqdm(total=len(plan.items), initial=done, desc=f"{plan.task.name} / {plan.options.model}",
               unit="item", disable=not plan.options.progress)
    size = max(1, int(plan.options.batch_items or 1))

    def emit(record: dict[str, Any]) -> None:
        bar.set_postfix_str(f"{record['id']}: {record['status']}", refresh=False)
        bar.update(1)
        if on_item:
            on_item(record)

    if plan.options.worker == "inline":
        worker = ItemWorker(plan)
        try:
            for start in range(0, len(todo), size):
                group = todo[start:start + size]
                for record in (worker.process_group(group) if size > 1 else [worker.process(group[0])]):
                    emit(record)
        finally:
            bar.close()
        return (worker.model.info() if worker.model is not None else None), peak_rss_mb(), None

    supervised = SupervisedWorker(plan)
    supervised.on_model_info = lambda info: save_model_info(plan, info)
    try:
        supervised.run([todo[start:start + size] for start in range(0, len(todo), size)], emit=emit)
    finally:
        supervised.close()
        bar.close()
    return supervised.model_info, max(peak_rss_mb(), supervised.peak_mb), supervised.stats
