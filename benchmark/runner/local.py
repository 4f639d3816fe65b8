"""The embedded in-process backend (the default)."""
from __future__ import annotations

from typing import Any, Callable

from .core import ItemWorker, RunPlan, peak_rss_mb, pending_items


def run_local(plan: RunPlan, *, on_item: Callable[[dict[str, Any]], None] | None = None
              ) -> tuple[dict[str, Any] | None, float]:
    from tqdm.auto import tqdm

    todo = pending_items(plan)
    worker = ItemWorker(plan)
    done = len(plan.items) - len(todo)
    bar = tqdm(total=len(plan.items), initial=done, desc=f"{plan.task.name} / {plan.options.model}",
               unit="item", disable=not plan.options.progress)
    size = max(1, int(plan.options.batch_items or 1))
    try:
        for start in range(0, len(todo), size):
            group = todo[start:start + size]
            records = worker.process_group(group) if size > 1 else [worker.process(group[0])]
            for item, record in zip(group, records):
                bar.set_postfix_str(f"{item.id}: {record['status']}", refresh=False)
                bar.update(1)
                if on_item:
                    on_item(record)
    finally:
        bar.close()
    model = worker.model
    if model is None and todo:
        return None, peak_rss_mb()
    if model is None:
        # nothing to predict (all items done): describe the model without loading weights
        try:
            model = plan.model_cls(device=plan.options.device, **plan.options.model_params)
        except Exception:
            return None, peak_rss_mb()
    return model.info(), peak_rss_mb()
