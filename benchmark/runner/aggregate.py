"""The end of a run: its item records aggregated into ``results.json`` and ``items.csv``."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

from ..io_utils import atomic_write_json, atomic_write_text
from ..metrics import METRICS
from ..metrics.stats import bootstrap_mean_ci
from ..provenance import code_version, environment
from ..results import SCHEMA_VERSION
from .core import peak_rss_mb
from .plan import RunPlan
from .store import Invocations, disk_full, is_disk_full, read_record, saved_model_info


def _items_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV, byte-identical to ``pandas.DataFrame(rows).to_csv(index=False)`` on Linux
    (columns in order of first appearance, missing cells empty, floats as ``repr``) without
    importing pandas (0.5-1 s per run on a small machine)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def finalize(plan: RunPlan, *, wall_s: float, model_info: dict[str, Any] | None,
             peak_mb: float | None = None, invocations: Invocations | None = None) -> dict[str, Any]:
    """Aggregate item records into results.json and items.csv."""
    records = [read_record(plan.item_path(it.id)) for it in plan.items if plan.item_path(it.id).exists()]
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
        model_info = saved_model_info(plan) or _unloaded_info(plan)
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
                   "real_time_factor": round(model_s / audio_s, 5) if audio_s > 0 else None,
                   "total_wall_s": round(invocations.total_s if invocations else wall_s, 3),
                   "invocations": len(invocations.rows) if invocations else 1},
        "peak_rss_mb": round(peak_mb if peak_mb is not None else peak_rss_mb(), 1),
        "environment": environment(),
        "code_version": code_version(),
    }
    rows = [{"item": r["id"], "status": r["status"], "error": r["error"] or "", **r["scores"]} for r in records]
    try:
        atomic_write_json(plan.run_dir / "results.json", results)
        atomic_write_text(plan.run_dir / "items.csv", _items_csv(rows))
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(plan, exc, "writing results.json") from None
        raise
    try:
        plan.family.figures(task=plan.task, dataset=plan.dataset, items=plan.items, run_dir=plan.run_dir)
    except Exception:  # a figure must never cost a run its results
        pass
    return results


def _unloaded_info(plan: RunPlan) -> dict[str, Any]:
    """The model's information without loading its weights (nothing was ever predicted)."""
    try:
        return plan.model_cls(device=plan.options.device, **plan.options.model_params).info()
    except Exception:  # noqa: BLE001
        return {"name": plan.options.model}
