"""Leaderboards: rank runs per task, with confidence intervals and statistical ties.

This module ranks (:func:`build_leaderboards` -> :class:`TaskBoard`); :mod:`musebench.report`
renders boards in every format (Markdown, CSV, JSON, HTML) and says what a board means.

Which runs are compared
    Runs are comparable only when they share task version, data fingerprint and the item set
    they were asked to score (``config.json`` ``item_ids``). A board ranks one such group: the
    one on the current task version that covers the task's **full split** (a run without
    ``--limit``), else the largest; a newer ``--limit 2`` run never displaces full runs, it is
    listed below them, flagged. A run in which no item scored is never ranked.

What a cell holds
    For a per-item metric, the **ranked mean**: the mean over every item the run was asked to
    score, a failed or missing item counting as 0 for a higher-is-better score (and as the worst
    score any ranked run got on that metric for a lower-is-better one), with a 95% percentile
    bootstrap CI over those items. The mean over the scored items alone is shown beside the
    primary metric, and ``coverage`` (``7/8``) says how many items scored. For a set-level
    metric (a distance between whole sets) the run's own value and CI from results.json.

How ranks are made
    rank = 1 + the number of models significantly better on the primary metric (two-sided
    paired Wilcoxon signed-rank test over the board's items at ``alpha``, counting failures as
    above; for a set-level metric, another run's CI lying wholly on the better side). ``=``
    marks a rank number that another row of the same table shares, nothing else. With ``n``
    items, the smallest two-sided exact Wilcoxon p-value is ``2 / 2**n``; when that is not below
    ``alpha`` (n <= 5 at 0.05) no difference can be significant, so the board does not rank: it
    orders the rows by the primary metric and says so.

Labels
    A model's label is its name plus its parameters; a ``predictions`` submission is named by
    ``--param name=...`` or else by its folder (``predictions:<folder>``), so two submissions
    are two rows.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .io_utils import read_json
from .metrics import METRICS
from .metrics.stats import bootstrap_mean_ci, wilcoxon_p
from .results import RunRecord, iter_runs
from .tasks import all_tasks


@dataclass
class TaskBoard:
    task: str
    primary: str
    metrics: list[str]
    table: pd.DataFrame          # ranked, comparable runs
    flagged: pd.DataFrame        # runs on another task version / fingerprint / item set, or unscored
    runs: list[RunRecord]
    #: items of the ranked group and whether they are the task's full split
    n_items: int = 0
    full_split: bool = True
    #: False when too few items make a significant difference impossible (see module docstring)
    significance_possible: bool = True
    notes: list[str] = field(default_factory=list)


def asked_items(run: RunRecord) -> list[str]:
    """The items the run was asked to score (config.json), else those it has records for."""
    cfg = run.path / "config.json"
    if cfg.is_file():
        ids = (read_json(cfg, what="run config") or {}).get("item_ids")
        if isinstance(ids, list):
            return sorted(str(i) for i in ids)
    return sorted(run.item_scores()) if (run.path / "items").is_dir() else []


def comparability_key(run: RunRecord) -> tuple:
    d = run.data
    ids = asked_items(run)
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
    """Name plus parameters; a submission (a ``path`` parameter) is named by ``name`` or its folder."""
    params = dict(run.data["model"].get("params") or {})
    name = params.pop("name", None)
    path = params.pop("path", None)
    if name not in (None, ""):
        base = str(name)
    elif path not in (None, ""):
        base = f"{run.model}:{Path(str(path)).name}"
    else:
        base = run.model
    if not params:
        return base
    return base + "(" + ",".join(f"{k}={v}" for k, v in sorted(params.items())) + ")"


def min_items_for_significance(alpha: float = 0.05) -> int:
    """Smallest n at which a two-sided exact Wilcoxon signed-rank test can give p < alpha."""
    n = 1
    while 2.0 ** (1 - n) >= alpha:
        n += 1
    return n


def _higher(metric: str) -> bool:
    return METRICS.get(metric).higher_is_better if metric in METRICS else True


def is_set_level(metric: str) -> bool:
    """True for a set-level metric (a distance between whole sets, no per-item scores)."""
    return metric in METRICS and METRICS.get(metric).aggregate == "set"


def ranked_values(runs: list[RunRecord], metric: str, items: list[str]) -> dict[str, np.ndarray]:
    """Per run (by path), the metric on each of ``items``: failures and missing items filled in.

    A failed or missing item is 0 for a higher-is-better metric and the worst value any of
    ``runs`` got on the metric for a lower-is-better one; an item that scored but has no value
    for the metric (e.g. a drum score on a piece without drums) is NaN (left out of means).
    """
    higher = _higher(metric)
    raw: dict[str, dict[str, Any]] = {}
    for r in runs:
        recs = r.item_scores()
        raw[str(r.path)] = recs
    observed = [rec["scores"][metric] for recs in raw.values() for rec in recs.values()
                if rec.get("status") == "ok" and rec.get("scores", {}).get(metric) is not None]
    fill = 0.0 if higher else (float(np.max(observed)) if observed else float("nan"))
    out = {}
    for path, recs in raw.items():
        vals = []
        for i in items:
            rec = recs.get(i)
            if rec is None or rec.get("status") != "ok":
                vals.append(fill)
            else:
                v = rec.get("scores", {}).get(metric)
                vals.append(float("nan") if v is None else float(v))
        out[path] = np.array(vals, dtype=np.float64)
    return out


def significance_ranks(runs: list[RunRecord], metric: str, *, alpha: float = 0.05,
                       items: list[str] | None = None) -> dict[str, int]:
    """rank = 1 + number of runs significantly better on ``metric`` (paired over ``items``,
    failures filled in as :func:`ranked_values` does)."""
    higher = _higher(metric)
    if is_set_level(metric):
        return _set_metric_ranks(runs, metric, higher=higher)
    if items is None:
        items = sorted(set().union(*[set(asked_items(r)) for r in runs])) if runs else []
    values = ranked_values(runs, metric, items)
    ranks: dict[str, int] = {}
    for r in runs:
        better = 0
        for o in runs:
            if o is r:
                continue
            a, b = values[str(r.path)], values[str(o.path)]
            ok = np.isfinite(a) & np.isfinite(b)
            if ok.sum() < 2:
                continue
            a, b = a[ok], b[ok]
            diff = (b - a).mean() if higher else (a - b).mean()
            if diff > 0 and wilcoxon_p(a, b) < alpha:
                better += 1
        ranks[str(r.path)] = 1 + better
    return ranks


def _set_metric_ranks(runs: list[RunRecord], metric: str, *, higher: bool) -> dict[str, int]:
    """Ranks on a set-level metric (no per-item scores): another run counts as significantly
    better when its bootstrap CI lies entirely on the better side of this run's CI."""
    ci: dict[Path, tuple[float, float] | None] = {}
    for r in runs:
        m = r.metric(metric) or {}
        lo, hi = m.get("ci_low"), m.get("ci_high")
        ci[r.path] = (lo, hi) if lo is not None and hi is not None else None
    ranks: dict[str, int] = {}
    for r in runs:
        better = 0
        for o in runs:
            mine, theirs = ci[r.path], ci[o.path]
            if o is r or mine is None or theirs is None:
                continue
            if (theirs[0] > mine[1]) if higher else (theirs[1] < mine[0]):
                better += 1
        ranks[str(r.path)] = 1 + better
    return ranks


def _row(run: RunRecord, metrics: list[str], *, values: dict[str, dict[str, np.ndarray]] | None = None,
         n_asked: int | None = None, seed: int = 0) -> dict[str, Any]:
    d = run.data
    n_asked = len(asked_items(run)) if n_asked is None else n_asked
    row: dict[str, Any] = {"model": model_label(run), "run_id": run.run_id, "items": d["n_scored"],
                           "asked": n_asked, "coverage": f"{d['n_scored']}/{n_asked}",
                           "failed": n_asked - d["n_scored"], "task_version": d["task"]["version"],
                           "fingerprint": d["dataset"]["fingerprint"][:12],
                           "verified": d["dataset"]["verified"], "limit": d.get("limit"),
                           "rtf": d["timing"].get("real_time_factor"), "path": str(run.path)}
    for m in metrics:
        s = d["metrics"].get(m) or {}
        row[f"{m}_scored_mean"] = s.get("mean")
        if values is not None and m in values and not is_set_level(m):
            ci = bootstrap_mean_ci(values[m][str(run.path)], seed=seed)
            row[m], row[f"{m}_ci_low"], row[f"{m}_ci_high"] = ci.to_json()["mean"], ci.to_json()["ci_low"], \
                ci.to_json()["ci_high"]
        else:
            row[m] = s.get("mean", s.get("value"))
            row[f"{m}_ci_low"] = s.get("ci_low")
            row[f"{m}_ci_high"] = s.get("ci_high")
        if is_set_level(m):
            for extra in ("floor", "n_generated", "n_reference", "warning"):
                if extra in s:
                    row[f"{m}_{extra}"] = s[extra]
    return row


def _covers_full_split(run: RunRecord) -> bool:
    return run.data.get("limit") is None


def build_board(task: str, runs: list[RunRecord], *, alpha: float = 0.05,
                current_version: int | None = None, primary_metric: str | None = None) -> TaskBoard:
    metrics: list[str] = []
    for r in runs:
        for m in r.data["task"]["metrics"]:
            if m not in metrics and m in r.data["metrics"]:
                metrics.append(m)
    declared = runs[0].data["task"].get("primary_metric") or (runs[0].data["task"]["metrics"] or [""])[0]
    primary = primary_metric or declared
    if primary and primary not in metrics:
        metrics.insert(0, primary)
    scored = [r for r in runs if r.data.get("n_scored", 0) > 0]
    unscored = [r for r in runs if r.data.get("n_scored", 0) == 0]
    groups: dict[tuple, list[RunRecord]] = {}
    for r in scored:
        groups.setdefault(comparability_key(r), []).append(r)

    def preference(key):
        members = latest_per_model(groups[key])
        return (key[0] == current_version, any(_covers_full_split(m) for m in groups[key]), len(members),
                max(m.data["created"] for m in members))

    flagged_rows = []
    if groups:
        main_key = max(groups, key=preference)
        main = latest_per_model(groups[main_key])
        items = asked_items(main[0])
        full = any(_covers_full_split(m) for m in groups[main_key])
    else:
        main_key, main, items, full = None, [], [], True
    values = {m: ranked_values(main, m, items) for m in metrics if not is_set_level(m)}
    n_min = min_items_for_significance(alpha)
    possible = is_set_level(primary) or len(items) >= n_min
    ranks = significance_ranks(main, primary, alpha=alpha, items=items) if primary and main else {}
    table = pd.DataFrame([_row(r, metrics, values=values, n_asked=len(items)) for r in main])
    notes: list[str] = []
    if len(table):
        higher = _higher(primary)
        table.insert(0, "rank", [ranks.get(p, 1) for p in table["path"]])
        key = table[primary].astype(float).fillna(-np.inf if higher else np.inf)
        table["_key"] = key
        if possible:
            table = table.sort_values(["rank", "_key"], ascending=[True, not higher], kind="stable")
        else:
            table = table.sort_values(["_key"], ascending=[not higher], kind="stable")
            table["rank"] = None
        table = table.drop(columns=["_key"]).reset_index(drop=True)
        tied = table["rank"].duplicated(keep=False) & table["rank"].notna()
        table.insert(1, "tied", tied)
        if not possible:
            notes.append(f"Not ranked: with n = {len(items)} items a two-sided Wilcoxon signed-rank test cannot "
                         f"reach p < {alpha:g} (the smallest possible p is 2/2^n = {2.0 ** (1 - len(items)):.3g}; "
                         f"n >= {n_min} is needed), so no difference can be significant; rows are ordered by "
                         f"`{primary}` only.")
        if not full:
            notes.append(f"No run covers the task's full split; this board compares the {len(items)} items of "
                         "runs made with --limit.")
    for key, members in groups.items():
        if main_key is None or key == main_key:  # (None only when there are no groups)
            continue
        for r in latest_per_model(members):
            row = _row(r, metrics)
            reasons = []
            if key[0] != main_key[0]:
                reasons.append(f"task v{key[0]} (ranked: v{main_key[0]})")
            if key[1] != main_key[1]:
                reasons.append("other data fingerprint")
            if key[2] != main_key[2]:
                lim = r.data.get("limit")
                reasons.append(f"--limit {lim}: {row['asked']} items, not the board's {len(items)}" if lim
                               else "other item set")
            row["flag"] = "; ".join(reasons)
            flagged_rows.append(row)
    for r in latest_per_model(unscored):
        row = _row(r, metrics)
        for m in metrics:
            row[m] = row[f"{m}_ci_low"] = row[f"{m}_ci_high"] = None
        row["flag"] = f"no item scored ({row['failed']} of {row['asked']} failed): never ranked"
        flagged_rows.append(row)
    return TaskBoard(task, primary, metrics, table, pd.DataFrame(flagged_rows), runs, n_items=len(items),
                     full_split=full, significance_possible=possible, notes=notes)


def build_leaderboards(*, results_dir: str | os.PathLike | None = None, task: str | None = None,
                       alpha: float = 0.05) -> list[TaskBoard]:
    tasks = all_tasks()
    by_task: dict[str, list[RunRecord]] = {}
    for r in iter_runs(results_dir, task=task):
        by_task.setdefault(r.task, []).append(r)
    return [build_board(name, runs, alpha=alpha, current_version=tasks[name].version if name in tasks else None,
                        primary_metric=tasks[name].primary if name in tasks else None)
            for name, runs in sorted(by_task.items())]
