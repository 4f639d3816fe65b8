"""Leaderboards: rank runs per task, with confidence intervals and statistical ties.

Runs are comparable only when they share task version, data fingerprint and item set; the
leaderboard ranks the largest comparable group of a task (preferring the current task
version) and lists the others below, flagged. Within a group a model's rank is one plus the
number of models that are significantly better on the primary metric (paired Wilcoxon
signed-rank test over shared items at ``alpha``), so models whose difference is not
significant share a rank.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .metrics import METRICS
from .metrics.stats import wilcoxon_p
from .results import RunRecord, iter_runs


@dataclass
class TaskBoard:
    task: str
    primary: str
    metrics: list[str]
    table: pd.DataFrame          # ranked, comparable runs
    flagged: pd.DataFrame        # runs on another task version / fingerprint / item set
    runs: list[RunRecord]


def comparability_key(run: RunRecord) -> tuple:
    d = run.data
    ids = sorted(run.item_scores()) if (run.path / "items").is_dir() else []
    return (d["task"]["version"], d["dataset"]["fingerprint"],
            hashlib.sha256("\n".join(ids).encode()).hexdigest()[:12])


def latest_per_model(runs: list[RunRecord]) -> list[RunRecord]:
    best: dict[str, RunRecord] = {}
    for r in runs:
        label = model_label(r)
        if label not in best or r.data["created"] > best[label].data["created"]:
            best[label] = r
    return list(best.values())


def model_label(run: RunRecord) -> str:
    params = run.data["model"].get("params") or {}
    if not params:
        return run.model
    return run.model + "(" + ",".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "path") + ")"


def significance_ranks(runs: list[RunRecord], metric: str, *, alpha: float = 0.05) -> dict[str, int]:
    """rank = 1 + number of runs significantly better on ``metric`` (paired over shared items)."""
    higher = METRICS.get(metric).higher_is_better if metric in METRICS else True
    if metric in METRICS and METRICS.get(metric).aggregate == "set":
        return _set_metric_ranks(runs, metric, higher=higher)
    per_run = {}
    for r in runs:
        per_run[r.path] = {i: rec["scores"].get(metric) for i, rec in r.item_scores().items()
                           if rec["status"] == "ok" and rec["scores"].get(metric) is not None}
    ranks: dict[str, int] = {}
    for r in runs:
        better = 0
        for o in runs:
            if o is r:
                continue
            shared = sorted(set(per_run[r.path]) & set(per_run[o.path]))
            if len(shared) < 2:
                continue
            a = np.array([per_run[r.path][i] for i in shared])
            b = np.array([per_run[o.path][i] for i in shared])
            diff = (b - a).mean() if higher else (a - b).mean()
            if diff > 0 and wilcoxon_p(a, b) < alpha:
                better += 1
        ranks[str(r.path)] = 1 + better
    return ranks


def _set_metric_ranks(runs: list[RunRecord], metric: str, *, higher: bool) -> dict[str, int]:
    """Ranks on a set-level metric (no per-item scores): another run counts as significantly
    better when its bootstrap CI lies entirely on the better side of this run's CI."""
    ci = {}
    for r in runs:
        m = r.metric(metric) or {}
        lo, hi = m.get("ci_low"), m.get("ci_high")
        ci[r.path] = (lo, hi) if lo is not None and hi is not None else None
    ranks: dict[str, int] = {}
    for r in runs:
        better = 0
        for o in runs:
            if o is r or ci[r.path] is None or ci[o.path] is None:
                continue
            if (ci[o.path][0] > ci[r.path][1]) if higher else (ci[o.path][1] < ci[r.path][0]):
                better += 1
        ranks[str(r.path)] = 1 + better
    return ranks


def _row(run: RunRecord, metrics: list[str]) -> dict[str, Any]:
    d = run.data
    row: dict[str, Any] = {"model": model_label(run), "run_id": run.run_id, "items": d["n_scored"],
                           "failed": len(d["failures"]), "task_version": d["task"]["version"],
                           "fingerprint": d["dataset"]["fingerprint"][:12],
                           "verified": d["dataset"]["verified"],
                           "rtf": d["timing"].get("real_time_factor"), "path": str(run.path)}
    for m in metrics:
        s = d["metrics"].get(m) or {}
        row[m] = s.get("mean")
        row[f"{m}_ci_low"] = s.get("ci_low")
        row[f"{m}_ci_high"] = s.get("ci_high")
    return row


def build_board(task: str, runs: list[RunRecord], *, alpha: float = 0.05,
                current_version: int | None = None) -> TaskBoard:
    metrics: list[str] = []
    for r in runs:
        for m in r.data["task"]["metrics"]:
            if m not in metrics and m in r.data["metrics"]:
                metrics.append(m)
    primary = runs[0].data["task"].get("primary_metric") or (metrics[0] if metrics else "")
    groups: dict[tuple, list[RunRecord]] = {}
    for r in runs:
        groups.setdefault(comparability_key(r), []).append(r)

    def preference(key):
        members = latest_per_model(groups[key])
        return (key[0] == current_version, len(members), max(m.data["created"] for m in members))

    main_key = max(groups, key=preference)
    main = latest_per_model(groups[main_key])
    ranks = significance_ranks(main, primary, alpha=alpha) if primary else {}
    table = pd.DataFrame([_row(r, metrics) for r in main])
    if len(table):
        table.insert(0, "rank", [ranks.get(p, 1) for p in table["path"]])
        higher = METRICS.get(primary).higher_is_better if primary in METRICS else True
        table = table.sort_values(["rank", primary], ascending=[True, not higher], kind="stable")
        table = table.reset_index(drop=True)
        tied = table["rank"].duplicated(keep=False)
        table.insert(1, "tied", tied)
    flagged_rows = []
    for key, members in groups.items():
        if key == main_key:
            continue
        for r in latest_per_model(members):
            row = _row(r, metrics)
            reasons = []
            if key[0] != main_key[0]:
                reasons.append(f"task v{key[0]} (ranked: v{main_key[0]})")
            if key[1] != main_key[1]:
                reasons.append("other data fingerprint")
            if key[2] != main_key[2]:
                reasons.append("other item set")
            row["flag"] = "; ".join(reasons)
            flagged_rows.append(row)
    return TaskBoard(task, primary, metrics, table, pd.DataFrame(flagged_rows), runs)


def build_leaderboards(*, results_dir: str | os.PathLike | None = None, task: str | None = None,
                       alpha: float = 0.05) -> list[TaskBoard]:
    from .tasks import all_tasks

    current = {name: t.version for name, t in all_tasks().items()}
    by_task: dict[str, list[RunRecord]] = {}
    for r in iter_runs(results_dir, task=task):
        by_task.setdefault(r.task, []).append(r)
    return [build_board(name, runs, alpha=alpha, current_version=current.get(name))
            for name, runs in sorted(by_task.items())]


def _fmt(mean, lo, hi) -> str:
    if mean is None or (isinstance(mean, float) and np.isnan(mean)):
        return "–"
    if lo is None or hi is None or (isinstance(lo, float) and np.isnan(lo)):
        return f"{mean:.3f}"
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def display_frame(board: TaskBoard, *, flagged: bool = False) -> pd.DataFrame:
    df = board.flagged if flagged else board.table
    if df.empty:
        return df
    out = pd.DataFrame()
    if not flagged:
        out["rank"] = [f"{r}{'=' if t else ''}" for r, t in zip(df["rank"], df["tied"])]
    out["model"] = df["model"]
    for m in board.metrics:
        out[m] = [_fmt(a, b, c) for a, b, c in zip(df[m], df[f"{m}_ci_low"], df[f"{m}_ci_high"])]
    out["items"] = df["items"].astype(str) + np.where(df["failed"] > 0, " (" + df["failed"].astype(str) + " failed)", "")
    out["rtf"] = [("–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}") for v in df["rtf"]]
    out["data"] = df["fingerprint"] + np.where(df["verified"], "", " UNVERIFIED")
    if flagged:
        out["flag"] = df["flag"]
    return out


def render(boards: list[TaskBoard], *, fmt: str = "md") -> str:
    """Render leaderboards as md (default), csv, json or html."""
    if fmt == "json":
        import json

        payload = []
        for b in boards:
            payload.append({"task": b.task, "primary_metric": b.primary, "metrics": b.metrics,
                            "ranked": json.loads(b.table.drop(columns=["path"], errors="ignore").to_json(orient="records")),
                            "flagged": json.loads(b.flagged.drop(columns=["path"], errors="ignore").to_json(orient="records"))})
        return json.dumps(payload, indent=2)
    if fmt == "csv":
        frames = []
        for b in boards:
            t = b.table.drop(columns=["path"], errors="ignore").copy()
            t.insert(0, "task", b.task)
            frames.append(t)
        return pd.concat(frames).to_csv(index=False) if frames else ""
    if fmt == "html":
        from .report import leaderboard_html

        return leaderboard_html(boards)
    if fmt != "md":
        from .errors import ConfigError

        raise ConfigError(f"leaderboard format must be md, csv, json or html, not {fmt!r}")
    parts = []
    for b in boards:
        parts.append(f"## {b.task}\n")
        set_level = b.primary in METRICS and METRICS.get(b.primary).aggregate == "set"
        test = ("its bootstrap CI lies wholly on the better side; a set-level metric" if set_level
                else "paired Wilcoxon over shared items, alpha 0.05")
        cells = ("value over the whole set [95% bootstrap CI] for set-level metrics, else mean over items "
                 "[95% bootstrap CI]" if set_level else "mean over items [95% bootstrap CI]")
        parts.append(f"Ranked by `{b.primary}`: rank = 1 + the number of models significantly better ({test}); "
                     f"`=` marks a shared rank. Cells: {cells}.\n")
        parts.append(display_frame(b).to_markdown(index=False) if not b.table.empty else "(no runs)")
        if not b.flagged.empty:
            parts.append("\nNot ranked with the above (not comparable):\n")
            parts.append(display_frame(b, flagged=True).to_markdown(index=False))
        parts.append("")
    return "\n".join(parts)
